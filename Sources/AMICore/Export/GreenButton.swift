import Foundation

/// Reads Green Button data (NAESB REQ.21 ESPI, an Atom feed of `UsagePoint`, `MeterReading`,
/// `ReadingType` and `IntervalBlock` entries linked by `self`, `up` and `related` hrefs) into
/// interval readings: `meter` the UsagePoint's id (the href segment after `UsagePoint/`), `time`
/// the end of each IntervalReading's `timePeriod` (`start` + `duration`, epoch seconds),
/// `interval` its duration, the value times 10^`powerOfTenMultiplier` of its ReadingType, the
/// unit and quantity from the ReadingType's `uom` (72 Wh, 73 varh, 38 W, 42 m3, 169 therm is
/// refused) and `flowDirection` (19 reverse → `_export`), and each `ReadingQuality` as IEC
/// 61968-9 code (ESPI QualityOfReading 8 and 9 estimated → 3.8.0).
public enum GreenButton {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    struct ReadingType {
        var uom = ""
        var power = 0
        var flow = ""
    }

    struct Block {
        var up = ""
        var readings: [(start: Int64, duration: Int64, value: String, quality: [String])] = []
    }

    /// The readings of a feed, in document order of their blocks; `problems` gets each interval
    /// reading that could not be made into one.
    public static func readings(_ data: Data, source: String, problems: (String) -> Void) throws -> [Reading] {
        let r = try XMLReader(data, name: source)
        var types: [String: ReadingType] = [:]
        var meterReadingType: [String: String] = [:]
        var blocks: [Block] = []
        // Per entry.
        var selfHref = "", upHref = "", related: [String] = []
        var stack: [String] = []
        var type = ReadingType()
        var block = Block()
        var ir: (start: Int64, duration: Int64, value: String, quality: [String]) = (0, 0, "", [])
        var text = ""
        while let n = try r.nextNode() {
            switch n {
            case .start(let name):
                stack.append(name)
                text = ""
                switch name {
                case "entry": selfHref = ""; upHref = ""; related = []
                case "link":
                    let href = r.attribute("href") ?? ""
                    switch r.attribute("rel") {
                    case "self": selfHref = href
                    case "up": upHref = href
                    case "related": related.append(href)
                    default: break
                    }
                case "ReadingType": type = ReadingType()
                case "IntervalBlock": block = Block(up: upHref)
                case "IntervalReading": ir = (0, 0, "", [])
                default: break
                }
            case .text(let s): text += s
            case .end(let name):
                let parent = stack.count >= 2 ? stack[stack.count - 2] : ""
                let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
                stack.removeLast()
                switch (parent, name) {
                case ("ReadingType", "uom"): type.uom = value
                case ("ReadingType", "powerOfTenMultiplier"): type.power = Int(value) ?? 0
                case ("ReadingType", "flowDirection"): type.flow = value
                case ("content", "ReadingType"): types[selfHref] = type
                case ("content", "MeterReading"):
                    if let rt = related.first(where: { $0.contains("/ReadingType/") }) { meterReadingType[selfHref] = rt }
                case ("timePeriod", "start") where stack.contains("IntervalReading"): ir.start = Int64(value) ?? 0
                case ("timePeriod", "duration") where stack.contains("IntervalReading"): ir.duration = Int64(value) ?? 0
                case ("IntervalReading", "value"): ir.value = value
                case ("ReadingQuality", "quality"): ir.quality.append(value)
                case (_, "IntervalReading"): block.readings.append(ir)
                case ("content", "IntervalBlock"): blocks.append(block)
                default: break
                }
                text = ""
            }
        }
        var out: [Reading] = []
        for b in blocks {
            // The block's `up` is …/MeterReading/ID/IntervalBlock.
            let meterReading = b.up.hasSuffix("/IntervalBlock") ? String(b.up.dropLast("/IntervalBlock".count)) : b.up
            guard let rt = meterReadingType[meterReading].flatMap({ types[$0] }) ?? (types.count == 1 ? types.first!.value : nil) else {
                problems("IntervalBlock under \(b.up): no ReadingType links to its MeterReading")
                continue
            }
            guard let (quantity, unit) = channel(rt) else {
                problems("ReadingType uom \(rt.uom) is not a unit ami knows; \(b.readings.count) interval readings skipped")
                continue
            }
            let meter = usagePoint(meterReading)
            for (k, reading) in b.readings.enumerated() {
                let (end, overflow) = reading.start.addingReportingOverflow(reading.duration)
                guard let v = ExactDecimal(reading.value), reading.duration > 0, !overflow,
                      abs(end) < 253_402_300_800 else {   // before year 10000
                    problems("IntervalReading \(k + 1) under \(b.up): value \"\(reading.value)\" or duration \(reading.duration) unusable")
                    continue
                }
                let quality = reading.quality.contains { $0 == "8" || $0 == "9" } ? [ReadingQuality(3, 8, 0)] : []
                out.append(Reading(meter: meter, medium: "electricity", quantity: quantity,
                                   value: .number(v.scaled(byPowerOfTen: rt.power)), unit: unit,
                                   time: UTCTime(seconds: end),
                                   interval: Int(reading.duration), quality: quality,
                                   provenance: Provenance(protocolID: .espi, source: source, frame: k)))
            }
        }
        return out
    }

    static func channel(_ rt: ReadingType) -> (Quantity, Unit)? {
        let reverse = rt.flow == "19"
        switch rt.uom {
        case "72": return (reverse ? .energyExport : .energy, .wattHour)
        case "73": return (reverse ? .reactiveEnergyExport : .reactiveEnergy, .varHour)
        case "38": return (reverse ? .powerExport : .power, .watt)
        case "42": return (.volume, .cubicMetre)
        default: return nil
        }
    }

    /// The id after `UsagePoint/` in an href, else the href.
    static func usagePoint(_ href: String) -> String {
        guard let r = href.range(of: "/UsagePoint/") else { return href }
        return String(href[r.upperBound...].prefix { $0 != "/" })
    }
}
