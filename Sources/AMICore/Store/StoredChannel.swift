/// A stored channel: what a reading's place is, as the `channel` table keeps it (for VEE and reports).
struct StoredChannel {
    var id: Int64
    var meter: Int64
    var quantity: String
    var storage: Int64?
    var tariff: Int64?
    var subunit: Int64?
    var function: String?
    var unit: String?
    var obis: String?
    /// Milliseconds; 0 for a register.
    var interval: Int64
    var exponent: Int

    /// A register that only counts up (energy, volume, mass, heat cost allocator units, counters):
    /// the register rules apply to these.
    var isCumulative: Bool {
        interval == 0 && (["Wh", "varh", "VAh", "J", "m3", "kg"].contains(unit ?? "") || quantity == "hca" || quantity == "counter")
    }

    /// A total register (no tariff, current value) that intervals of the same quantity add up to.
    var isTotalRegister: Bool { isCumulative && isTotal }

    /// Tariff registers named by OBIS (the E group): they split the total of the same group.
    var isTariffRegister: Bool { isCumulative && (tariff ?? 0) > 0 && obis != nil }

    /// Tariff registers and their total share this key.
    var touGroup: [String?] {
        [quantity, unit, storage.map(String.init), subunit.map(String.init), function]
    }

    /// A current value (not a stored historic value, not a maximum or minimum).
    var isCurrent: Bool { (storage ?? 0) == 0 && (function ?? "instantaneous") == "instantaneous" }

    /// A current value of no tariff (a total register, or intervals of the total).
    var isTotal: Bool { isCurrent && (tariff ?? 0) == 0 }
}

extension MeterStore {
    /// Every channel of the store, by meter and id.
    func channels() throws -> [StoredChannel] {
        let s = try db.statement("""
            SELECT id, meter, quantity, storage, tariff, subunit, function, unit, interval, exponent, obis FROM channel ORDER BY meter, id
            """)
        var out: [StoredChannel] = []
        while try s.step() {
            out.append(StoredChannel(id: s.int64(0), meter: s.int64(1), quantity: s.text(2) ?? "", storage: s.optionalInt64(3),
                                     tariff: s.optionalInt64(4), subunit: s.optionalInt64(5), function: s.text(6),
                                     unit: s.text(7), obis: s.text(10), interval: s.int64(8) * 1000, exponent: Int(s.int64(9))))
        }
        return out
    }
}
