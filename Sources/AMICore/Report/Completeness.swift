/// Data completeness: expected against received intervals per meter and group, and meters not read
/// for a number of days (ami-report(1), completeness and not-read).
extension ReportContext {
    /// Completeness rows: per group, the intervals expected on the grid of each interval channel
    /// (within the window, else from the channel's first to its last interval, and within the
    /// meter's installation), those received (actual), estimated and missing, and the received share.
    public func completeness() throws -> [ReportRow] {
        let wanted = scope.filter.quantities.isEmpty ? nil : Set(scope.filter.quantities)
        struct Tally { var meters = Set<Int64>(); var expected: Int64 = 0; var received: Int64 = 0; var estimated: Int64 = 0 }
        var tallies: [String?: Tally] = [:]
        for c in try channels({ $0.interval > 0 && (wanted?.contains($0.quantity) ?? true) }) {
            guard let m = meter(c.meter) else { continue }
            let length = c.interval
            var first: Int64?, last: Int64?
            var received: Int64 = 0, estimated: Int64 = 0
            try intervals(c) { r in
                let start = r.time - length
                first = first ?? start
                last = start
                guard r.value != nil else { return }
                if r.quality.contains(.estimated) { estimated += 1 } else { received += 1 }
            }
            var from = scope.from ?? first, to = scope.to ?? last.map { $0 + length }
            if let i = m.installed { from = from.map { max($0, i) } }
            if let r = m.removed { to = to.map { min($0, r) } }
            var expected: Int64 = 0
            if let f = from, let t = to {
                let aligned = f + floorMod(-f, length)
                if t > aligned { expected = (t - aligned + length - 1) / length }
            }
            let g = group(m)
            var tally = tallies[g] ?? Tally()
            tally.meters.insert(m.id)
            tally.expected += expected
            tally.received += received
            tally.estimated += estimated
            tallies[g] = tally
        }
        return tallies.keys.sorted { ($0 ?? "") < ($1 ?? "") }.map { g in
            let t = tallies[g]!
            let percent = ExactAmount.ratio(ExactAmount(units: Int128(t.received) * 100), ExactAmount(units: Int128(t.expected)), places: 2)
            return ReportRow("completeness", groupFields(g) + [
                ("start", time(scope.from)), ("end", time(scope.to)), ("meters", .integer(Int64(t.meters.count))),
                ("expected", .integer(t.expected)), ("received", .integer(t.received)), ("estimated", .integer(t.estimated)),
                ("missing", .integer(max(0, t.expected - t.received - t.estimated))),
                ("percent", percent.map { .amount($0) } ?? .null),
            ])
        }
    }

    /// Not-read rows: the selected meters whose last reading with a value is more than `days` days
    /// before `now` (or that have none), longest silent first.
    public func notRead(days: Int, now: UTCTime) throws -> [ReportRow] {
        let limit = now.milliseconds - Int64(days) * 86_400_000
        let s = try store.db.statement("""
            SELECT max(r.time) FROM reading r JOIN channel c ON c.id = r.channel WHERE c.meter = ? AND r.value IS NOT NULL
            """)
        var found: [(ReportMeter, Int64?)] = []
        for m in meters where m.status != "removed" {
            try s.bind(1, m.id)
            let last = try s.step() ? s.optionalInt64(0) : nil
            s.reset()
            if last.map({ $0 < limit }) ?? true { found.append((m, last)) }
        }
        found.sort { ($0.1 ?? Int64.min, $0.0.identity) < ($1.1 ?? Int64.min, $1.0.identity) }
        return found.map { m, last in
            ReportRow("not_read", [("meter", .text(m.identity)), ("node", m.node.map { .text($0) } ?? .null),
                                   ("status", .text(m.status)), ("last_reading", time(last)),
                                   ("days", last.map { .integer((now.milliseconds - $0) / 86_400_000) } ?? .null)])
        }
    }
}
