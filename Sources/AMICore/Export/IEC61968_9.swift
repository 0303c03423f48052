/// Writes readings as an IEC 61968-9 MeterReadings message (the `MeterReadings` profile of
/// IEC 61968-9:2013 §6 and Annex C, namespace `http://iec.ch/TC57/2011/MeterReadings#`; the
/// subset this project writes is `schemas/iec61968-9-meterreadings.xsd`). Each run of consecutive
/// readings of one meter becomes a `MeterReading`: interval readings in `IntervalBlocks` (one per
/// ReadingType), register readings in `Readings`, each with its `ReadingType` code (Annex C:
/// 18 fields, see `readingType`) and its quality codes as `ReadingQualities`.
/// Streams: nothing is kept beyond the current block.
public final class CIMReadingsWriter {
    public static let namespace = "http://iec.ch/TC57/2011/MeterReadings#"
    private let xml: XMLWriter
    private var meter: String?
    /// What the open MeterReading holds: interval blocks or register readings.
    private var intervals = false
    private var blockType: String?

    public init(sink: ByteSink) throws {
        xml = try XMLWriter(sink: sink)
        try xml.start("MeterReadings", namespace: CIMReadingsWriter.namespace)
    }

    public func reading(_ r: Reading) throws {
        let isInterval = r.interval != nil
        let type = CIMReadingsWriter.readingType(r)
        if meter != r.meter || intervals != isInterval { try closeMeterReading(); try open(r.meter, isInterval) }
        if isInterval {
            if blockType != type {
                try closeBlock()
                try xml.start("IntervalBlocks")
                blockType = type
            }
            try xml.start("IntervalReadings")
            try values(r)
            try xml.end()
        } else {
            try xml.start("Readings")
            try values(r)
            try xml.start("ReadingType")
            try xml.attribute("ref", type)
            try xml.end()
            try xml.end()
        }
    }

    private func values(_ r: Reading) throws {
        if let t = r.time { try xml.element("timeStamp", t.description) }
        switch r.value {
        case .number(let d): try xml.element("value", d.description)
        case .text(let s): try xml.element("value", s)
        }
        for q in r.quality {
            try xml.start("ReadingQualities")
            try xml.start("ReadingQualityType")
            try xml.attribute("ref", q.description)
            try xml.end()
            try xml.end()
        }
    }

    private func open(_ meter: String, _ isInterval: Bool) throws {
        try xml.start("MeterReading")
        self.meter = meter
        intervals = isInterval
        if !isInterval { try meterElement(meter) }
    }

    private func meterElement(_ meter: String) throws {
        try xml.start("Meter")
        try xml.element("mRID", meter)
        try xml.end()
    }

    private func closeBlock() throws {
        guard let type = blockType else { return }
        try xml.start("ReadingType")
        try xml.attribute("ref", type)
        try xml.end()
        try xml.end()
        blockType = nil
    }

    private func closeMeterReading() throws {
        guard let m = meter else { return }
        if intervals {
            try closeBlock()
            try meterElement(m)
        }
        try xml.end()
        meter = nil
    }

    public func finish() throws {
        try closeMeterReading()
        try xml.end()
        try xml.finish()
    }

    /// The IEC 61968-9 Annex C ReadingType code of a reading: macroPeriod.aggregate.
    /// measuringPeriod.accumulation.flowDirection.commodity.measurementKind.interharmonic
    /// (numerator.denominator).argument(numerator.denominator).TOU.cpp.consumptionTier.phases.
    /// multiplier.unit.currency. Values are in ami's base units, so the multiplier is 0.
    public static func readingType(_ r: Reading) -> String {
        var name = r.quantity.rawValue
        var phase = 0
        for (suffix, code) in [("_l1", 128), ("_l2", 64), ("_l3", 32)] where name.hasSuffix(suffix) {
            name.removeLast(3)
            phase = code
        }
        let energyLike = ["energy", "energy_export", "reactive_energy", "reactive_energy_export", "apparent_energy",
                          "apparent_energy_export", "volume", "mass", "energy_net"].contains(name)
            || name.hasPrefix("reactive_energy_q")
        let measuringPeriod = r.interval.map(period) ?? 0
        let accumulation = r.interval != nil && energyLike ? 4 : energyLike ? 1 : 12
        let flow: Int
        if name.hasSuffix("_export") { flow = 19 } else if name.hasSuffix("_net") { flow = 4 }
        else if name.hasPrefix("energy") || name.hasPrefix("power") || name.hasPrefix("reactive")
                    || name.hasPrefix("apparent") { flow = 1 } else { flow = 0 }
        let commodity: Int
        switch r.medium {
        case "water", "cold_water", "warm_water", "hot_water": commodity = 9
        case "gas": commodity = 7
        case "heat", "heat_inlet", "cooling", "heat_cooling": commodity = name == "volume" ? 12 : 0
        case "electricity": commodity = 1
        default:
            commodity = ["Wh", "W", "varh", "var", "VAh", "VA", "V", "A", "Hz"].contains(r.unit?.rawValue ?? "") ? 1 : 0
        }
        let kind: Int
        switch name {
        case _ where name.contains("energy"): kind = 12
        case _ where name.hasPrefix("power_factor"): kind = 38
        case _ where name.contains("power"): kind = 37
        case "voltage": kind = 54
        case "current", "current_neutral": kind = 4
        case "frequency": kind = 15
        case "volume": kind = 58
        case _ where name.hasSuffix("temperature"): kind = 46
        default: kind = 0
        }
        let units: [String: Int] = ["Wh": 72, "W": 38, "varh": 73, "var": 63, "VAh": 71, "VA": 61, "V": 29, "A": 5,
                                    "Hz": 33, "m3": 42, "m3/h": 125, "J": 31, "degC": 23, "K": 6, "s": 27]
        let unit = r.unit.flatMap { units[$0.rawValue] } ?? 0
        let fields = [0, 0, measuringPeriod, accumulation, flow, commodity, kind, 0, 0, 0, 0, r.tariff ?? 0, 0, 0,
                      phase, 0, unit, 0]
        return fields.map(String.init).joined(separator: ".")
    }

    /// IEC 61968-9 TimeAttributeKind of an interval length in seconds (0 when it has none).
    static func period(_ seconds: Int) -> Int {
        switch seconds {
        case 60: return 3
        case 120: return 10
        case 180: return 14
        case 300: return 6
        case 600: return 1
        case 900: return 2
        case 1200: return 31
        case 1800: return 5
        case 3600: return 7
        case 86_400: return 4
        default: return 0
        }
    }
}
