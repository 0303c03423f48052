/// VEE statistics from the store's quality flags: per group, readings stored, actual, estimated,
/// known missing, flagged by validation, and the count of each quality code (ami-report(1), vee).
extension ReportContext {
    /// VEE statistics rows, one per group, of the readings stored in the window.
    public func veeStatistics() throws -> [ReportRow] {
        var codeOfBit: [Int: String] = [:]
        let q = try store.db.statement("SELECT bit, code FROM quality_code")
        while try q.step() { codeOfBit[Int(q.int64(0))] = q.text(1) ?? "" }
        let wanted = scope.filter.quantities.isEmpty ? nil : Set(scope.filter.quantities)
        struct Tally { var readings: Int64 = 0; var actual: Int64 = 0; var estimated: Int64 = 0; var missing: Int64 = 0
                       var flagged: Int64 = 0; var codes: [String: Int64] = [:] }
        var tallies: [String?: Tally] = [:]
        for c in try channels({ wanted?.contains($0.quantity) ?? true }) {
            guard let m = meter(c.meter) else { continue }
            var t = tallies[group(m)] ?? Tally()
            try readings(c, from: scope.from, to: scope.to) { r in
                t.readings += 1
                if r.quality.contains(.missing) { t.missing += 1 } else if r.quality.contains(.estimated) { t.estimated += 1 }
                if !r.quality.intersection(QualityFlag.validation.union(.clock)).isEmpty { t.flagged += 1 }
                if r.quality.intersection([.missing, .estimated]).isEmpty { t.actual += 1 }
                var bits = r.quality.rawValue
                while bits != 0 {
                    let b = bits.trailingZeroBitCount
                    t.codes[codeOfBit[b] ?? "bit \(b)", default: 0] += 1
                    bits &= bits - 1
                }
            }
            tallies[group(m)] = t
        }
        return tallies.keys.sorted { ($0 ?? "") < ($1 ?? "") }.map { g in
            let t = tallies[g]!
            return ReportRow("vee_statistics", groupFields(g) + [
                ("start", time(scope.from)), ("end", time(scope.to)), ("readings", .integer(t.readings)),
                ("actual", .integer(t.actual)), ("estimated", .integer(t.estimated)), ("missing", .integer(t.missing)),
                ("flagged", .integer(t.flagged)), ("codes", .counts(t.codes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })),
            ])
        }
    }
}
