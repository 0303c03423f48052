/// The quality of a stored reading as a bit set (`reading.quality`); each bit stands for one IEC 61968-9
/// reading-quality code, listed in the `quality_code` table. Bits 0–15 are ami-store's own (below);
/// codes that arrive with readings (e.g. an end device's `1.4.2`) get the next free bit from 16 on.
///
/// The validation failures are locally defined rules in the Validation category (system 3, meter
/// data management; category 6), numbered from 1001 the way IEC 61968-9 leaves indexes to the
/// system that defines the rule.
public struct QualityFlag: OptionSet, Sendable, Hashable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }

    public static let estimated = QualityFlag(rawValue: 1 << 0)
    public static let missing = QualityFlag(rawValue: 1 << 1)
    public static let registerDecrease = QualityFlag(rawValue: 1 << 2)
    public static let rollover = QualityFlag(rawValue: 1 << 3)
    public static let advanceMismatch = QualityFlag(rawValue: 1 << 4)
    public static let high = QualityFlag(rawValue: 1 << 5)
    public static let low = QualityFlag(rawValue: 1 << 6)
    public static let spike = QualityFlag(rawValue: 1 << 7)
    public static let zeros = QualityFlag(rawValue: 1 << 8)
    public static let reverseFlow = QualityFlag(rawValue: 1 << 9)
    public static let inactiveMeter = QualityFlag(rawValue: 1 << 10)
    public static let clock = QualityFlag(rawValue: 1 << 11)
    public static let touMismatch = QualityFlag(rawValue: 1 << 12)

    /// The flags validation recomputes: a new validation of a reading replaces these and only these.
    /// (`clock` is set when a reading arrives off its grid, or by the clock rule, and stays.)
    public static let validation: QualityFlag = [.registerDecrease, .rollover, .advanceMismatch, .high, .low, .spike,
                                                 .zeros, .reverseFlow, .inactiveMeter, .touMismatch]

    /// The first bit given to codes that arrive with readings.
    static let firstDynamicBit = 16

    /// ami-store's own flags: bit, code, rule name (as in the VEE summary), meaning.
    public static let builtIn: [(bit: Int, code: ReadingQuality, rule: String, meaning: String)] = [
        (0, ReadingQuality(3, 8, 0), "estimated", "estimated by ami-store"),
        (1, ReadingQuality(3, 5, 259), "missing", "known missing read: an interval that could not be estimated"),
        (2, ReadingQuality(3, 6, 1001), "register-decrease", "register value below the previous one"),
        (3, ReadingQuality(3, 6, 1002), "rollover", "register rolled over past its largest value"),
        (4, ReadingQuality(3, 6, 1003), "advance-mismatch", "register advance differs from the sum of its intervals"),
        (5, ReadingQuality(3, 6, 1004), "high", "above the high threshold"),
        (6, ReadingQuality(3, 6, 1005), "low", "below the low threshold"),
        (7, ReadingQuality(3, 6, 1006), "spike", "spike against the previous valid value"),
        (8, ReadingQuality(3, 6, 1007), "zeros", "part of a run of consecutive zero intervals"),
        (9, ReadingQuality(3, 6, 1008), "reverse-flow", "negative flow on a channel that counts one way"),
        (10, ReadingQuality(3, 6, 1009), "inactive-meter", "usage on a meter that is not active at that time"),
        (11, ReadingQuality(3, 6, 1010), "clock", "meter clock or reading time outside the tolerance"),
        (12, ReadingQuality(3, 6, 1011), "tou-mismatch", "tariff registers do not add up to the total"),
    ]

    /// Writes the built-in codes into a new database's `quality_code` table.
    static func seed(_ db: SQLiteDatabase) throws(SQLiteError) {
        for f in builtIn {
            try db.run("INSERT INTO quality_code(bit, code, meaning) VALUES (?, ?, ?)",
                       [.integer(Int64(f.bit)), .text(f.code.description), .text(f.meaning)])
        }
    }
}

/// The `quality_code` table in memory: codes to bits and back, growing when a reading brings a code
/// not seen before.
final class QualityCodes {
    private var bitOf: [ReadingQuality: Int] = [:]
    private var codeOf: [Int: ReadingQuality] = [:]

    init(_ db: SQLiteDatabase) throws(SQLiteError) {
        let s = try db.statement("SELECT bit, code FROM quality_code")
        while try s.step() {
            if let text = s.text(1), let q = ReadingQuality(text) { add(Int(s.int64(0)), q) }
        }
    }

    private func add(_ bit: Int, _ q: ReadingQuality) {
        bitOf[q] = bit
        codeOf[bit] = q
    }

    /// The codes of a bit set, in bit order.
    func codes(_ flags: Int64) -> [ReadingQuality] {
        guard flags != 0 else { return [] }
        return (0..<63).compactMap { flags & (1 << $0) != 0 ? codeOf[$0] : nil }
    }

    /// The bit set of `codes`, registering unknown codes in `db` (inside the caller's transaction).
    func flags(_ codes: [ReadingQuality], db: SQLiteDatabase) throws -> Int64 {
        var f: Int64 = 0
        for q in codes {
            if let b = bitOf[q] { f |= 1 << b; continue }
            let next = max(QualityFlag.firstDynamicBit, (codeOf.keys.max() ?? 0) + 1)
            guard next < 63 else { throw StoreError("more than 63 distinct reading-quality codes: \(q) has no room") }
            try db.run("INSERT INTO quality_code(bit, code, meaning) VALUES (?, ?, 'as received')",
                       [.integer(Int64(next)), .text(q.description)])
            add(next, q)
            f |= 1 << next
        }
        return f
    }

    /// Forgets codes added by a transaction that was rolled back.
    func reload(_ db: SQLiteDatabase) throws(SQLiteError) {
        bitOf = [:]
        codeOf = [:]
        let fresh = try QualityCodes(db)
        bitOf = fresh.bitOf
        codeOf = fresh.codeOf
    }
}
