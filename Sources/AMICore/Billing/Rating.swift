/// One interval of usage: what accumulated in the `seconds` before `end`, in nano-units of the
/// tariff's unit, and whether it rests on estimated data.
public struct UsageInterval: Sendable, Equatable {
    public var end: Int64
    public var seconds: Int32
    public var value: Nano
    public var estimated: Bool

    public init(end: UTCTime, seconds: Int, value: Nano, estimated: Bool = false) {
        self.end = end.milliseconds
        self.seconds = Int32(seconds)
        self.value = value
        self.estimated = estimated
    }
}

/// One line of a bill, its amount rounded once (half away from zero) to minor units.
public struct BillLine: Sendable, Equatable {
    public enum Kind: String, Sendable { case energy, demand, fixed, minimum, tax }
    public var kind: Kind
    public var name: String
    public var period: String?
    /// 1-based tier, when the price has tiers.
    public var tier: Int?
    /// The local date the prices of this line took effect.
    public var effective: String?
    public var quantity: Nano?
    public var unit: String?
    public var price: Nano?
    /// For a tax: the rate and the amount it was taken of.
    public var rate: Nano?
    public var base: Int64?
    public var amount: Int64
    /// The part of `quantity` that rests on estimated data (zero when none).
    public var estimated: Nano
}

/// The lines and totals of a bill (who and which span are the caller's).
public struct BillBody: Sendable, Equatable {
    public var lines: [BillLine] = []
    public var usage = Nano.zero
    public var estimatedUsage = Nano.zero
    public var subtotal: Int64 = 0
    public var tax: Int64 = 0
    public var total: Int64 { subtotal + tax }
    /// Usage came from register readings rather than intervals.
    public var fromRegisters = false
    public var estimated: Bool { lines.contains { $0.estimated.raw != 0 } }
}

/// Rates usage by a tariff over a span: energy by period, tier and price version (each interval at the
/// prices in force when it started), fixed charges per local day or month, demand charges, the
/// minimum charge and taxes.
public struct Rater: Sendable {
    public let calendar: TariffCalendar
    public let table: MinuteTable
    /// The span rated: the table's, or a part of it.
    public let from: UTCTime
    public let to: UTCTime
    /// Leave out the minimum charge (prepaid debits rate spans shorter than a bill).
    public var includeMinimum = true

    public init(tariff: Tariff, from: UTCTime, to: UTCTime) throws(BillingError) {
        calendar = TariffCalendar(tariff)
        table = try MinuteTable(calendar, from: from, to: to)
        self.from = from
        self.to = to
    }

    /// Rates [from, to), a part of the span of `table` (made for `calendar`), whose demand charges,
    /// minimum and taxes are those of the table's last minute.
    public init(calendar: TariffCalendar, table: MinuteTable, from: UTCTime, to: UTCTime) throws(BillingError) {
        guard table.from <= from, from < to, to <= table.to, from.milliseconds % 60_000 == 0, to.milliseconds % 60_000 == 0 else {
            throw BillingError("the span \(from)–\(to) is not whole minutes within \(table.from)–\(table.to)")
        }
        self.calendar = calendar
        self.table = table
        self.from = from
        self.to = to
    }

    public var tariff: Tariff { calendar.tariff }

    /// Rates `intervals` (sorted by end time; those starting outside the span are left out).
    /// `registerDelta` is usage known only as a register advance over the span, billed at the
    /// prices of its last minute; it needs a tariff with one period and no demand charge.
    public func rate(_ intervals: [UsageInterval], registerDelta: (value: Nano, estimated: Bool)? = nil) throws(BillingError) -> BillBody {
        let t = tariff
        let nv = t.versions.count, np = t.periods.count
        // Energy accumulators by (version, period, tier).
        var tierOffset: [Int] = []
        var tierCount: [Int] = []
        var flatTiers: [Tariff.Tier] = []
        for v in 0..<nv {
            for p in 0..<np {
                tierOffset.append(flatTiers.count)
                tierCount.append(t.versions[v].energy[p].count)
                flatTiers += t.versions[v].energy[p]
            }
        }
        let n = flatTiers.count
        var quantity = [Nano](repeating: .zero, count: n)
        var estimated = [Nano](repeating: .zero, count: n)
        var used = [Bool](repeating: false, count: n)
        // Tier counters by period: the key they count for and the usage so far.
        var counterKey = [Int32](repeating: .min, count: np)
        var counter = [Nano](repeating: .zero, count: np)
        let demands = t.versions[table.demandVersion].demand
        var best = [(demand: Nano, estimated: Bool)](repeating: (.zero, false), count: demands.count)
        var bucket = [Int64](repeating: .min, count: demands.count)
        var bucketSum = [Nano](repeating: .zero, count: demands.count)
        var bucketEstimated = [Bool](repeating: false, count: demands.count)
        var bucketCounts = [Bool](repeating: false, count: demands.count)
        var body = BillBody()

        func closeBucket(_ k: Int) {
            guard bucket[k] != .min, bucketCounts[k] else { return }
            let d = bucketSum[k].times(Int128(3600 / demands[k].window))
            if d > best[k].demand || (d == best[k].demand && !bucketEstimated[k] && best[k].estimated) {
                best[k] = (d, bucketEstimated[k])
            }
        }

        func add(_ slot: MinuteTable.Slot, _ value: Nano, _ isEstimated: Bool) {
            let p = Int(slot.period), v = Int(slot.version)
            if counterKey[p] != slot.tierKey {
                counterKey[p] = slot.tierKey
                counter[p] = .zero
            }
            let base = tierOffset[v * np + p], last = tierCount[v * np + p] - 1
            var left = value
            var i = 0
            // Find the tier the counter is in, then fill tiers in turn.
            while i < last, let limit = flatTiers[base + i].upTo, counter[p] >= limit { i += 1 }
            while true {
                var part = left
                if i < last, let limit = flatTiers[base + i].upTo, counter[p] + left > limit {
                    part = limit - counter[p]
                }
                quantity[base + i] += part
                if isEstimated { estimated[base + i] += part }
                used[base + i] = true
                counter[p] += part
                left = left - part
                if left.raw == 0 || i == last { break }
                i += 1
            }
        }

        let from = self.from.milliseconds, to = self.to.milliseconds, base = table.from.milliseconds
        for iv in intervals {
            let start = iv.end - Int64(iv.seconds) * 1000
            guard start >= from, start < to else { continue }
            let slot = table.slots[Int((start - base) / 60_000)]
            add(slot, iv.value, iv.estimated)
            body.usage += iv.value
            if iv.estimated { body.estimatedUsage += iv.value }
            if slot.demandMask != 0 {
                for k in demands.indices where slot.demandMask & (1 << UInt64(k)) != 0 {
                    guard Int(iv.seconds) <= demands[k].window else {
                        throw BillingError("\(iv.seconds)-second intervals cannot give the \(demands[k].window / 60)-minute demand of '\(demands[k].name)'")
                    }
                    let b = start / Int64(demands[k].window * 1000)
                    if b != bucket[k] {
                        closeBucket(k)
                        bucket[k] = b
                        bucketSum[k] = .zero
                        bucketEstimated[k] = false
                        bucketCounts[k] = true
                    }
                    bucketSum[k] += iv.value
                    if iv.estimated { bucketEstimated[k] = true }
                }
            }
        }
        for k in demands.indices { closeBucket(k) }
        if let r = registerDelta {
            guard np == 1, demands.isEmpty else {
                throw BillingError("tariff \(t.name) has time-of-use periods or demand charges: it needs interval data, not register readings")
            }
            add(table.slots[Int((to - 60_000 - base) / 60_000)], r.value, r.estimated)
            body.usage += r.value
            if r.estimated { body.estimatedUsage += r.value }
            body.fromRegisters = true
        }

        let minor = t.minorUnits
        for v in 0..<nv {
            for p in 0..<np {
                let tiers = t.versions[v].energy[p]
                for i in tiers.indices where used[tierOffset[v * np + p] + i] {
                    let k = tierOffset[v * np + p] + i
                    body.lines.append(BillLine(kind: .energy, name: "energy", period: np > 1 ? t.periods[p] : nil,
                                               tier: tiers.count > 1 ? i + 1 : nil,
                                               effective: TariffCalendar.dateText(t.versions[v].from),
                                               quantity: quantity[k], unit: t.unit.name, price: tiers[i].price,
                                               amount: Money.amount(quantity[k], tiers[i].price, minorUnits: minor),
                                               estimated: estimated[k]))
                }
            }
        }
        let dv = t.versions[table.demandVersion]
        for (k, d) in demands.enumerated() where bucket[k] != .min {
            var left = best[k].demand
            var done = Nano.zero
            for (i, tier) in d.tiers.enumerated() {
                var part = left
                if let limit = tier.upTo, done + left > limit { part = limit - done }
                if part.raw > 0 || i == 0 {
                    body.lines.append(BillLine(kind: .demand, name: d.name, tier: d.tiers.count > 1 ? i + 1 : nil,
                                               effective: TariffCalendar.dateText(dv.from), quantity: part,
                                               unit: t.unit.demandName, price: tier.price,
                                               amount: Money.amount(part, tier.price, minorUnits: minor),
                                               estimated: best[k].estimated ? part : .zero))
                }
                done += part
                left = left - part
                if left.raw == 0 { break }
            }
        }
        body.lines += fixedLines()
        body.subtotal = body.lines.reduce(0) { $0 + $1.amount }
        if includeMinimum, let m = dv.minimum, body.subtotal < m {
            body.lines.append(BillLine(kind: .minimum, name: "minimum charge", effective: TariffCalendar.dateText(dv.from),
                                       amount: m - body.subtotal, estimated: .zero))
            body.subtotal = m
        }
        for tax in dv.taxes {
            let a = Money.percentage(body.subtotal, tax.rate)
            body.lines.append(BillLine(kind: .tax, name: tax.name, effective: TariffCalendar.dateText(dv.from),
                                       rate: tax.rate, base: body.subtotal, amount: a, estimated: .zero))
            body.tax += a
        }
        return body
    }

    /// Per-day charges for every local day the span touches, per-month charges for every month whose
    /// first day begins in the span; each at the prices in force that day.
    func fixedLines() -> [BillLine] {
        let t = tariff
        var dayCount: [[Int]] = t.versions.map { [Int](repeating: 0, count: $0.fixed.count) }
        let first = calendar.local(from).day
        let last = calendar.local(UTCTime(milliseconds: to.milliseconds - 1)).day
        if first <= last {
            for day in first...last {
                guard let v = calendar.version(day) else { continue }
                let start = calendar.midnight(day)
                for (i, c) in t.versions[v].fixed.enumerated() {
                    switch c.per {
                    case .day: dayCount[v][i] += 1
                    case .month:
                        let (_, _, d) = CivilDate.civilFromDays(day)
                        if d == 1 && start >= from && start < to { dayCount[v][i] += 1 }
                    }
                }
            }
        }
        var lines: [BillLine] = []
        for (v, version) in t.versions.enumerated() {
            for (i, c) in version.fixed.enumerated() where dayCount[v][i] > 0 {
                let q = Nano(units: Int64(dayCount[v][i]))
                lines.append(BillLine(kind: .fixed, name: c.name, effective: TariffCalendar.dateText(version.from),
                                      quantity: q, unit: c.per.rawValue, price: c.price,
                                      amount: Money.amount(q, c.price, minorUnits: t.minorUnits), estimated: .zero))
            }
        }
        return lines
    }
}
