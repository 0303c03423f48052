/// Load profile and peak demand: interval values summed across a group, interval by interval
/// (ami-report(1), load-profile and peak).
extension ReportContext {
    /// A group's summed intervals of one quantity, unit and interval length, by interval end.
    struct Profile {
        var group: String?
        var quantity: String
        var unit: String?
        /// Seconds.
        var interval: Int64
        var values: [Int64: ExactAmount] = [:]
    }

    /// The interval channels of the report's quantities (else the cumulative ones) summed by group,
    /// multiplier applied: one interval channel per meter, quantity and unit, as for consumption.
    func profiles() throws -> [Profile] {
        let wanted = scope.filter.quantities.isEmpty ? Self.cumulativeQuantities : Set(scope.filter.quantities)
        let channels = try self.channels { wanted.contains($0.quantity) && $0.interval > 0 && $0.isTotal }
        struct MeterKey: Hashable { var meter: Int64; var quantity: String; var unit: String? }
        struct Key: Hashable { var group: String?; var quantity: String; var unit: String?; var interval: Int64 }
        var seen = Set<MeterKey>()
        var order: [Key] = []
        var profiles: [Key: Profile] = [:]
        for c in channels {
            guard let m = meter(c.meter), seen.insert(MeterKey(meter: c.meter, quantity: c.quantity, unit: c.unit)).inserted else {
                continue
            }
            let k = Key(group: group(m), quantity: c.quantity, unit: c.unit, interval: c.interval / 1000)
            if profiles[k] == nil {
                order.append(k)
                profiles[k] = Profile(group: k.group, quantity: k.quantity, unit: k.unit, interval: k.interval)
            }
            try intervals(c) { r in
                guard let v = r.value else { return }
                try profiles[k]!.values[r.time, default: .zero].add(try ExactAmount(v).multiplied(by: m.multiplier))
            }
        }
        return order.sorted { ($0.group ?? "", $0.quantity, $0.unit ?? "", $0.interval) < ($1.group ?? "", $1.quantity, $1.unit ?? "", $1.interval) }
            .map { profiles[$0]! }
    }

    /// The rate unit of an accumulated unit (Wh → W), and the factor from an interval's amount to
    /// its average rate, when that factor is a whole number (intervals that divide an hour).
    static func demand(unit: String?, interval: Int64) -> (unit: String, factor: Int64)? {
        let rates = ["Wh": "W", "varh": "var", "VAh": "VA", "m3": "m3/h", "kg": "kg/h"]
        guard let u = unit, let rate = rates[u], interval > 0, 3600 % interval == 0 else { return nil }
        return (rate, 3600 / interval)
    }

    private func demandFields(_ p: Profile, _ v: ExactAmount) -> [(String, ReportValue)] {
        guard let d = Self.demand(unit: p.unit, interval: p.interval),
              let rate = try? v.multiplied(by: ExactDecimal(d.factor)) else { return [] }
        return [("demand", .amount(rate)), ("demand_unit", .text(d.unit))]
    }

    private func profileFields(_ p: Profile) -> [(String, ReportValue)] {
        [("quantity", .text(p.quantity)), ("unit", p.unit.map { .text($0) } ?? .null), ("interval", .integer(p.interval))]
    }

    /// Load-profile rows: per group, each interval's summed value (and the average demand over it).
    public func loadProfile() throws -> [ReportRow] {
        var rows: [ReportRow] = []
        for p in try profiles() {
            for t in p.values.keys.sorted() {
                let v = p.values[t]!
                rows.append(ReportRow("load_profile", groupFields(p.group) + [("time", .time(UTCTime(milliseconds: t)))]
                    + profileFields(p) + [("value", .amount(v))] + demandFields(p, v)))
            }
        }
        return rows
    }

    /// Peak rows: per group and period, the largest interval (the first of equal ones), when it
    /// ended, and how many intervals the period held.
    public func peakDemand() throws -> [ReportRow] {
        var rows: [ReportRow] = []
        for p in try profiles() {
            var peaks: [Int64: (time: Int64, value: ExactAmount, count: Int)] = [:]
            for t in p.values.keys.sorted() {
                let v = p.values[t]!
                let period = periodStart(t - p.interval * 1000)
                if let old = peaks[period] {
                    peaks[period] = v > old.value ? (t, v, old.count + 1) : (old.time, old.value, old.count + 1)
                } else {
                    peaks[period] = (t, v, 1)
                }
            }
            for period in peaks.keys.sorted() {
                let k = peaks[period]!
                rows.append(ReportRow("peak_demand", groupFields(p.group) + periodFields(period) + profileFields(p) + [
                    ("time", .time(UTCTime(milliseconds: k.time))), ("value", .amount(k.value)),
                ] + demandFields(p, k.value) + [("intervals", .integer(Int64(k.count)))]))
            }
        }
        return rows
    }
}
