/// What the anomaly report looks for, and its thresholds (ami-report(1), anomalies).
public struct AnomalyOptions: Sendable {
    public static let allKinds = ["leak", "reverse-flow", "tamper", "fault", "zero-consumption", "sudden-change"]
    public var kinds = Set(allKinds)
    /// A leak: night flow above zero in every interval of this many nights in a row.
    public var nights = 3
    /// The night: local hours [nightStart, nightEnd).
    public var nightStart = 1
    public var nightEnd = 5
    /// Sudden change: a day at least `factor` times, or at most 1/`factor` of, the average of the
    /// `history` days with data before it.
    public var history = 7
    public var factor = ExactDecimal(3)
    public init() {}
}

/// Anomalies: water leaks, reverse flow, tamper and fault events, zero consumption on an active
/// meter, sudden changes against the meter's own history.
extension ReportContext {
    /// Anomaly rows of the kinds `o` names, kind by kind (leak, reverse-flow, tamper and fault by
    /// time, zero-consumption, sudden-change).
    public func anomalies(_ o: AnomalyOptions) throws -> [ReportRow] {
        var rows: [ReportRow] = []
        if o.kinds.contains("leak") { rows += try leaks(o) }
        if o.kinds.contains("reverse-flow") { rows += try reverseFlow() }
        if o.kinds.contains("tamper") || o.kinds.contains("fault") {
            for e in try storedEvents() {
                let c = Self.eventClass(e.event)
                guard (c == "tamper" || c == "fault") && o.kinds.contains(c) else { continue }
                rows.append(row(c, e.meter, e.time, nil, [("event", .text(e.event)), ("code", e.code.map { .text($0) } ?? .null)]))
            }
        }
        if o.kinds.contains("zero-consumption") {
            for mc in try meterConsumption() where mc.meter.status == "active" && !mc.byPeriod.isEmpty {
                var total = ExactAmount.zero
                for v in mc.byPeriod.values { try total.add(v) }
                guard total.isZero else { continue }
                rows.append(row("zero-consumption", mc.meter, scope.from, scope.to, quantityFields(mc.quantity, mc.unit)
                    + [("value", .amount(total))]))
            }
        }
        if o.kinds.contains("sudden-change") { rows += try suddenChanges(o) }
        return rows
    }

    private func row(_ kind: String, _ m: ReportMeter, _ start: Int64?, _ end: Int64?, _ rest: [(String, ReportValue)]) -> ReportRow {
        ReportRow("anomaly", [("kind", .text(kind)), ("meter", .text(m.identity)), ("node", m.node.map { .text($0) } ?? .null),
                              ("start", time(start)), ("end", time(end))] + rest)
    }

    private func quantityFields(_ quantity: String, _ unit: String?) -> [(String, ReportValue)] {
        [("quantity", .text(quantity)), ("unit", unit.map { .text($0) } ?? .null)]
    }

    /// Volume intervals of each night (local [nightStart, nightEnd)); a run of at least `nights`
    /// consecutive nights whose smallest interval is above zero is a leak.
    private func leaks(_ o: AnomalyOptions) throws -> [ReportRow] {
        var rows: [ReportRow] = []
        for c in try channels({ $0.quantity == "volume" && $0.interval > 0 && $0.isTotal }) {
            guard let m = meter(c.meter) else { continue }
            let length = c.interval
            var nightMin: [Int: ExactAmount] = [:]
            try intervals(c) { r in
                guard let v = r.value else { return }
                let (day, tod) = days.split(r.time - length)
                guard tod >= Int64(o.nightStart) * 3_600_000, tod + length <= Int64(o.nightEnd) * 3_600_000 else { return }
                let a = ExactAmount(v)
                nightMin[day] = nightMin[day].map { min($0, a) } ?? a
            }
            var run: [Int] = []
            func close() {
                defer { run = [] }
                guard run.count >= o.nights, let first = run.first, let last = run.last else { return }
                let least = run.map { nightMin[$0]! }.min()!
                rows.append(row("leak", m, nightBound(first, o.nightStart), nightBound(last, o.nightEnd),
                                quantityFields(c.quantity, c.unit) + [("nights", .integer(Int64(run.count))), ("min_flow", .amount(least))]))
            }
            for day in nightMin.keys.sorted() {
                if nightMin[day]!.signum <= 0 || (run.last.map { $0 + 1 != day } ?? false) { close() }
                if nightMin[day]!.signum > 0 { run.append(day) }
            }
            close()
        }
        return rows
    }

    private func nightBound(_ day: Int, _ hour: Int) -> Int64? {
        let (y, m, d) = CivilDate.civilFromDays(day)
        return scope.zone.utc(year: y, month: m, day: d, hour: hour, minute: 0, second: 0)?.milliseconds
    }

    /// Per channel, the readings flagged reverse flow by VEE (3.6.1008) or negative intervals.
    private func reverseFlow() throws -> [ReportRow] {
        var rows: [ReportRow] = []
        for c in try channels({ $0.interval > 0 }) {
            guard let m = meter(c.meter) else { continue }
            var first: Int64?, last: Int64?, count: Int64 = 0
            try intervals(c) { r in
                guard r.quality.contains(.reverseFlow) || (r.value.map { $0.significand < 0 } ?? false) else { return }
                first = first ?? r.time - c.interval
                last = r.time
                count += 1
            }
            if count > 0 {
                rows.append(row("reverse-flow", m, first, last, quantityFields(c.quantity, c.unit) + [("intervals", .integer(count))]))
            }
        }
        return rows
    }

    /// Daily consumption against the average of the `history` earlier days with data.
    private func suddenChanges(_ o: AnomalyOptions) throws -> [ReportRow] {
        var daily = scope
        daily.period = .day
        let context = try ReportContext(store: store, scope: daily)
        var rows: [ReportRow] = []
        for mc in try context.meterConsumption() {
            let dayStarts = mc.byPeriod.keys.sorted()
            guard dayStarts.count > o.history else { continue }
            for i in o.history..<dayStarts.count {
                var sum = ExactAmount.zero
                for d in dayStarts[(i - o.history)..<i] { try sum.add(mc.byPeriod[d]!) }
                guard sum.signum > 0 else { continue }
                let value = mc.byPeriod[dayStarts[i]]!
                // value ≥ factor × mean, or value × factor ≤ mean, with mean = sum / history.
                let scaled = try value.multiplied(by: ExactDecimal(Int64(o.history)))
                let up = try scaled >= sum.multiplied(by: o.factor)
                let down = try scaled.multiplied(by: o.factor) <= sum
                guard up || down else { continue }
                let mean = ExactAmount.ratio(sum, ExactAmount(units: Int128(o.history)), places: max(0, -sum.scale) + 3)!
                rows.append(row("sudden-change", mc.meter, dayStarts[i], context.periodEnd(dayStarts[i]),
                                quantityFields(mc.quantity, mc.unit) + [("value", .amount(value)), ("baseline", .amount(mean)),
                                                                        ("direction", .text(up ? "up" : "down"))]))
            }
        }
        return rows
    }
}
