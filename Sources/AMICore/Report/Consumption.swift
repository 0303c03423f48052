/// Consumption: what meters used per period, from interval readings or register advances, summed
/// exactly by group (ami-report(1), consumption and top).
extension ReportContext {
    /// Quantities that accumulate (the ones consumption is reported for when none is named).
    /// (Reactive energy has its own report, by quadrant.)
    static let cumulativeQuantities: Set<String> = ["energy", "energy_export", "apparent_energy", "volume", "mass", "hca"]

    /// One meter's consumption of one quantity and unit, by period start, multiplier applied.
    struct MeterConsumption {
        var meter: ReportMeter
        var quantity: String
        var unit: String?
        var byPeriod: [Int64: ExactAmount] = [:]
    }

    /// The consumption of every selected meter, per quantity and unit, from the channels `use` picks
    /// (default: the report's quantities, else the cumulative ones). Per meter, quantity and unit
    /// the source is, in this order: an interval channel (the first without a tariff); a total
    /// register; the tariff registers, added. An interval counts in the period its start falls in;
    /// a register advance in the period that holds the instant before the later reading (so a
    /// reading at midnight closes the day before); a decrease is left out.
    func meterConsumption(_ use: ((StoredChannel) -> Bool)? = nil) throws -> [MeterConsumption] {
        let wanted = scope.filter.quantities.isEmpty ? Self.cumulativeQuantities : Set(scope.filter.quantities)
        let channels = try self.channels(use ?? { wanted.contains($0.quantity) && $0.isCurrent })
        struct Key: Hashable { var meter: Int64; var quantity: String; var unit: String? }
        var keys: [Key] = []
        var byKey: [Key: [StoredChannel]] = [:]
        for c in channels {
            let k = Key(meter: c.meter, quantity: c.quantity, unit: c.unit)
            if byKey[k] == nil { keys.append(k) }
            byKey[k, default: []].append(c)
        }
        var out: [MeterConsumption] = []
        for k in keys {
            guard let m = meter(k.meter) else { continue }
            let cs = byKey[k]!
            let chosen: [StoredChannel]
            if let i = cs.first(where: { $0.interval > 0 && ($0.tariff ?? 0) == 0 }) {
                chosen = [i]
            } else if let t = cs.first(where: { $0.interval == 0 && $0.isTotal }) {
                chosen = [t]
            } else {
                chosen = cs.filter { $0.interval == 0 && ($0.tariff ?? 0) > 0 }
            }
            if chosen.isEmpty { continue }
            var mc = MeterConsumption(meter: m, quantity: k.quantity, unit: k.unit)
            for c in chosen { try add(c, to: &mc) }
            for (p, v) in mc.byPeriod { mc.byPeriod[p] = try v.multiplied(by: m.multiplier) }
            out.append(mc)
        }
        return out
    }

    private func add(_ c: StoredChannel, to mc: inout MeterConsumption) throws {
        if c.interval > 0 {
            try intervals(c) { r in
                guard let v = r.value else { return }
                let p = periodStart(r.time - c.interval)
                try mc.byPeriod[p, default: .zero].add(Int128(v.significand), exponent: v.exponent)
            }
            return
        }
        // A register reading closes the span since the one before: readings at (from, to] count,
        // from the last one at or before `from`, each in the period of the instant before it.
        var previous = try scope.from.flatMap { try reading(c, before: $0 + 1) }?.value
        try readings(c, from: scope.from.map { $0 + 1 }, to: scope.to.map { $0 + 1 }) { r in
            guard let v = r.value else { return }
            defer { previous = v }
            guard let p = previous else { return }
            var advance = ExactAmount(v)
            try advance.add(-ExactAmount(p))
            guard advance.signum >= 0 else { return }
            try mc.byPeriod[periodStart(r.time - 1), default: .zero].add(advance)
        }
    }

    /// Consumption rows: per group, period, quantity and unit, the exact sum and how many meters
    /// it holds.
    public func consumption() throws -> [ReportRow] {
        struct Key: Hashable { var group: String?; var quantity: String; var unit: String?; var period: Int64 }
        var sums: [Key: (value: ExactAmount, meters: Set<Int64>)] = [:]
        for mc in try meterConsumption() {
            let g = group(mc.meter)
            for (p, v) in mc.byPeriod {
                let k = Key(group: g, quantity: mc.quantity, unit: mc.unit, period: p)
                var s = sums[k] ?? (.zero, [])
                try s.value.add(v)
                s.meters.insert(mc.meter.id)
                sums[k] = s
            }
        }
        let keys = sums.keys.sorted {
            ($0.group ?? "", $0.quantity, $0.unit ?? "", $0.period) < ($1.group ?? "", $1.quantity, $1.unit ?? "", $1.period)
        }
        return keys.map { k in
            let s = sums[k]!
            return ReportRow("consumption", groupFields(k.group) + periodFields(k.period) + [
                ("quantity", .text(k.quantity)), ("unit", k.unit.map { .text($0) } ?? .null), ("value", .amount(s.value)),
                ("meters", .integer(Int64(s.meters.count))),
            ])
        }
    }

    /// The `limit` largest consumers (groups) over the whole window, per quantity and unit, largest
    /// first (ties by name).
    public func topConsumers(limit: Int) throws -> [ReportRow] {
        struct Key: Hashable { var group: String?; var quantity: String; var unit: String? }
        var sums: [Key: ExactAmount] = [:]
        for mc in try meterConsumption() {
            let k = Key(group: group(mc.meter), quantity: mc.quantity, unit: mc.unit)
            for v in mc.byPeriod.values { try sums[k, default: .zero].add(v) }
        }
        var rows: [ReportRow] = []
        let series = Dictionary(grouping: sums.keys) { "\($0.quantity) \($0.unit ?? "")" }
        for name in series.keys.sorted() {
            let ranked = series[name]!.sorted { a, b in
                sums[a]! != sums[b]! ? sums[a]! > sums[b]! : (a.group ?? "") < (b.group ?? "")
            }
            for (i, k) in ranked.prefix(limit).enumerated() {
                rows.append(ReportRow("top_consumer", [("rank", .integer(Int64(i + 1)))] + groupFields(k.group) + [
                    ("start", time(scope.from)), ("end", time(scope.to)),
                    ("quantity", .text(k.quantity)), ("unit", k.unit.map { .text($0) } ?? .null), ("value", .amount(sums[k]!)),
                ]))
            }
        }
        return rows
    }
}
