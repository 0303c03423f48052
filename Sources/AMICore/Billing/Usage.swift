/// The usage a bill rates: intervals (sorted by end), known-missing intervals, and a register advance
/// where a meter has no interval data.
public struct Usage: Sendable {
    public var intervals: [UsageInterval] = []
    public var missing = 0
    public var registerDelta: (value: Nano, estimated: Bool)?
    public init() {}
}

extension ReadingQuality {
    /// IEC 61968-9 category 8 (projected): an estimate.
    var isEstimate: Bool { category == 8 }
}

extension BillingStore {
    /// The interval channel of a meter that a tariff bills (its quantity), or nil when there is none;
    /// fails when there are several.
    func intervalChannel(meterID: Int64, meter: String, tariff: Tariff) throws -> (id: Int64, interval: Int, unit: String)? {
        let s = try db.statement("SELECT id, interval, unit FROM channel WHERE meter = ? AND quantity = ? AND interval > 0 ORDER BY id")
        try s.bind([.integer(meterID), .text(tariff.quantity)])
        var found: [(Int64, Int, String)] = []
        while try s.step() { found.append((s.int64(0), Int(s.int64(1)), s.text(2) ?? "")) }
        guard found.count <= 1 else {
            throw BillingError("meter \(meter) has \(found.count) interval channels of \(tariff.quantity); bill one meter per channel")
        }
        return found.first
    }

    /// A meter and the meters of its replacement chain (those it replaced and those that replaced
    /// it, as `ami-store replace-meter` records them), in the order they were installed.
    func replacementChain(_ meterID: Int64) throws -> [Int64] {
        var chain = [meterID]
        var id = meterID
        while let old = try db.scalar("SELECT replaces FROM meter WHERE id = ?", [.integer(id)]), !chain.contains(old) {
            chain.insert(old, at: 0)
            id = old
        }
        id = meterID
        while let new = try db.scalar("SELECT id FROM meter WHERE replaces = ? ORDER BY id LIMIT 1", [.integer(id)]), !chain.contains(new) {
            chain.append(new)
            id = new
        }
        return chain
    }

    /// The stored usage of a meter for [from, to): interval readings of the meter and its replacement
    /// chain whose interval starts in the span (estimated ones marked, known-missing ones counted),
    /// else the advance of the meter's register.
    public func usage(meterID: Int64, meter: String, tariff: Tariff, from: UTCTime, to: UTCTime) throws -> Usage {
        var u = Usage()
        let channels = try replacementChain(meterID).compactMap { try intervalChannel(meterID: $0, meter: meter, tariff: tariff) }
        if !channels.isEmpty {
            let s = try db.statement("SELECT time, value, exponent, quality FROM reading WHERE channel = ? AND time > ? AND time <= ? ORDER BY time")
            let missingBits = QualityFlag.missing.rawValue, estimatedBit = QualityFlag.estimated.rawValue
            for (channel, interval, unit) in channels {
                try s.bind([.integer(channel), .integer(from.milliseconds), .integer(to.milliseconds + Int64(interval) * 1000)])
                var converter = NanoConverter(tariff.unit, unit: unit, meter: meter)
                u.intervals.reserveCapacity(u.intervals.count + Int((to.milliseconds - from.milliseconds) / 1000) / interval)
                while try s.step() {
                    let q = s.int64(3)
                    if s.isNull(1) || q & missingBits != 0 {
                        u.missing += 1
                        continue
                    }
                    let value = try converter.nano(s.int64(1), exponent: Int(s.int64(2)))
                    u.intervals.append(UsageInterval(end: UTCTime(milliseconds: s.int64(0)), seconds: interval, value: value,
                                                     estimated: q & estimatedBit != 0))
                }
            }
            if channels.count > 1 { u.intervals.sort { $0.end < $1.end } }
            return u
        }
        // No interval data: the register's advance between the last readings at or before each end.
        let s = try db.statement("SELECT id, unit FROM channel WHERE meter = ? AND quantity = ? AND interval = 0 ORDER BY id")
        try s.bind([.integer(meterID), .text(tariff.quantity)])
        var registers: [(Int64, String)] = []
        while try s.step() { registers.append((s.int64(0), s.text(1) ?? "")) }
        guard let (channel, unit) = registers.first else { return u }
        guard registers.count == 1 else {
            throw BillingError("meter \(meter) has \(registers.count) registers of \(tariff.quantity) and no interval data")
        }
        let r = try db.statement("SELECT value, exponent, quality FROM reading WHERE channel = ? AND time <= ? AND value IS NOT NULL ORDER BY time DESC LIMIT 1")
        func at(_ t: UTCTime) throws -> (Nano, Bool)? {
            try r.bind([.integer(channel), .integer(t.milliseconds)])
            guard try r.step() else { return nil }
            var c = NanoConverter(tariff.unit, unit: unit, meter: meter)
            let v = try c.nano(r.int64(0), exponent: Int(r.int64(1)))
            let e = r.int64(2) & QualityFlag.estimated.rawValue != 0
            r.reset()
            return (v, e)
        }
        if let a = try at(from), let b = try at(to) {
            u.registerDelta = (b.0 - a.0, a.1 || b.1)
        }
        return u
    }

    /// The end of the newest stored interval of a meter's (or its replacement chain's) billed channel
    /// at or before `notAfter`.
    public func lastIntervalEnd(meterID: Int64, meter: String, tariff: Tariff, notAfter: UTCTime) throws -> UTCTime? {
        var last: Int64?
        for id in try replacementChain(meterID) {
            guard let (channel, _, _) = try intervalChannel(meterID: id, meter: meter, tariff: tariff) else { continue }
            if let t = try db.scalar("SELECT max(time) FROM reading WHERE channel = ? AND time <= ? AND value IS NOT NULL",
                                     [.integer(channel), .integer(notAfter.milliseconds)]) {
                last = max(last ?? t, t)
            }
        }
        return last.map(UTCTime.init(milliseconds:))
    }
}

/// Stored integer-and-exponent values to nano-units of the tariff's unit, with the power of ten of
/// the last exponent seen kept.
struct NanoConverter {
    let unitPower: Int
    let meter: String
    let unitName: String
    var exponent = Int.min
    var factor: Int128 = 1
    var divisor: Int128 = 1

    init(_ tariffUnit: BillingUnit, unit: String, meter: String) {
        self.meter = meter
        self.unitName = unit
        if unit == tariffUnit.base {
            unitPower = -tariffUnit.power
        } else if let u = BillingUnit.named(unit), u.base == tariffUnit.base {
            unitPower = u.power - tariffUnit.power
        } else {
            unitPower = Int.min
        }
    }

    mutating func nano(_ value: Int64, exponent e: Int) throws(BillingError) -> Nano {
        guard unitPower != Int.min else { throw BillingError("meter \(meter): unit '\(unitName)' cannot be billed in this tariff's unit") }
        if e != exponent {
            let shift = e + unitPower + Nano.scale
            guard (-18...27).contains(shift) else { throw BillingError("meter \(meter): value exponent \(e) out of range") }
            factor = 1
            divisor = 1
            for _ in 0..<max(shift, 0) { factor *= 10 }
            for _ in 0..<max(-shift, 0) { divisor *= 10 }
            exponent = e
        }
        let v = Int128(value) * factor
        if divisor == 1 { return Nano(raw: v) }
        guard v % divisor == 0 else {
            throw BillingError("meter \(meter): value \(ExactDecimal(value, exponent: e)) \(unitName) is finer than 10^-9 of the tariff's unit")
        }
        return Nano(raw: v / divisor)
    }
}
