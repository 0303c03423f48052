/// Reactive power ratios: inductive and capacitive reactive energy against active energy, per group
/// and period, checked against limits (ami-report(1), reactive).
extension ReportContext {
    /// The C group of an OBIS code written `A-B:C.D.E` (with or without `*F`).
    static func obisC(_ obis: String?) -> Int? {
        guard let o = obis, let colon = o.firstIndex(of: ":") else { return nil }
        return Int(o[o.index(after: colon)...].prefix { $0 != "." })
    }

    /// Reactive rows. Active energy is `energy` in Wh (OBIS C 1, or no OBIS code); inductive
    /// reactive energy is `reactive_energy` in varh of quadrant I (C 5), else reactive import (C 3);
    /// capacitive is quadrant IV (C 8), else reactive export (C 4). Ratios are reactive / active
    /// (tan φ) to 4 decimals; `exceeded` says whether either is above its limit (compared exactly).
    /// Meters without reactive registers or intervals are left out.
    public func reactive(inductiveLimit: ExactDecimal, capacitiveLimit: ExactDecimal) throws -> [ReportRow] {
        func sums(_ quantity: String, _ unit: String, _ cs: Set<Int?>) throws -> [Int64: [Int64: ExactAmount]] {
            var out: [Int64: [Int64: ExactAmount]] = [:]
            for mc in try meterConsumption({ $0.quantity == quantity && $0.unit == unit && $0.isCurrent && cs.contains(Self.obisC($0.obis)) }) {
                out[mc.meter.id] = mc.byPeriod
            }
            return out
        }
        let active = try sums("energy", "Wh", [1, nil])
        // Per meter, the quadrant registers when it has them, else import/export.
        let inductive = try sums("reactive_energy", "varh", [3]).merging(try sums("reactive_energy", "varh", [5])) { $1 }
        let capacitive = try sums("reactive_energy", "varh", [4]).merging(try sums("reactive_energy", "varh", [8])) { $1 }
        struct Key: Hashable { var group: String?; var period: Int64 }
        var totals: [Key: [ExactAmount]] = [:]
        for m in meters where inductive[m.id] != nil || capacitive[m.id] != nil {
            for (k, series) in [active[m.id], inductive[m.id], capacitive[m.id]].enumerated() {
                for (p, v) in series ?? [:] {
                    let key = Key(group: group(m), period: p)
                    var t = totals[key] ?? [.zero, .zero, .zero]
                    try t[k].add(v)
                    totals[key] = t
                }
            }
        }
        return totals.keys.sorted { ($0.group ?? "", $0.period) < ($1.group ?? "", $1.period) }.map { k in
            let t = totals[k]!
            let ri = ExactAmount.ratio(t[1], t[0], places: 4), rc = ExactAmount.ratio(t[2], t[0], places: 4)
            // Exactly: reactive > limit × active.
            let over = { (r: ExactAmount, limit: ExactDecimal) -> Bool in
                guard let l = try? t[0].multiplied(by: limit) else { return false }
                return t[0].signum > 0 && r > l
            }
            return ReportRow("reactive", groupFields(k.group) + periodFields(k.period) + [
                ("active", .amount(t[0])), ("inductive", .amount(t[1])), ("capacitive", .amount(t[2])),
                ("inductive_ratio", ri.map { .amount($0) } ?? .null), ("capacitive_ratio", rc.map { .amount($0) } ?? .null),
                ("inductive_limit", .amount(ExactAmount(inductiveLimit))), ("capacitive_limit", .amount(ExactAmount(capacitiveLimit))),
                ("exceeded", .bool(over(t[1], inductiveLimit) || over(t[2], capacitiveLimit))),
            ])
        }
    }
}
