/// A report failure with a message for the user (`ami-report: message`).
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    /// The data the report needs is not in the database (as opposed to a selection that fails).
    public let unavailable: Bool
    public init(_ description: String, unavailable: Bool = false) {
        self.description = description
        self.unavailable = unavailable
    }
}

/// An exact quantity: an integer count of 10^`scale` units, wide enough to sum millions of readings
/// without rounding (values are summed as integers at a common scale, never through a binary float).
public struct ExactAmount: Sendable, Equatable, Comparable, CustomStringConvertible {
    public private(set) var units: Int128
    public private(set) var scale: Int

    public init(units: Int128 = 0, scale: Int = 0) {
        self.units = units
        self.scale = scale
    }

    public init(_ d: ExactDecimal) { self.init(units: Int128(d.significand), scale: d.exponent) }

    public static let zero = ExactAmount()

    /// `self` expressed at a lower `scale` (nil when that overflows).
    func at(scale s: Int) -> Int128? {
        if units == 0 { return 0 }
        guard s <= scale, scale - s <= 38 else { return nil }
        let (r, o) = units.multipliedReportingOverflow(by: Scaled.pow10(scale - s))
        return o ? nil : r
    }

    /// Adds `significand × 10^exponent`.
    public mutating func add(_ significand: Int128, exponent: Int) throws(ReportError) {
        try add(ExactAmount(units: significand, scale: exponent))
    }

    public mutating func add(_ other: ExactAmount) throws(ReportError) {
        let s = min(scale, other.scale)
        guard let a = at(scale: s), let b = other.at(scale: s) else { throw Self.overflow }
        let (r, o) = a.addingReportingOverflow(b)
        if o { throw Self.overflow }
        units = r
        scale = s
    }

    public static func + (a: ExactAmount, b: ExactAmount) throws(ReportError) -> ExactAmount {
        var r = a
        try r.add(b)
        return r
    }

    public static prefix func - (a: ExactAmount) -> ExactAmount { ExactAmount(units: -a.units, scale: a.scale) }

    /// `self × d`, exactly.
    public func multiplied(by d: ExactDecimal) throws(ReportError) -> ExactAmount {
        let (r, o) = units.multipliedReportingOverflow(by: Int128(d.significand))
        if o { throw Self.overflow }
        return ExactAmount(units: r, scale: scale + d.exponent)
    }

    /// `a / b` rounded half away from zero to `places` decimals; nil when `b` is zero.
    public static func ratio(_ a: ExactAmount, _ b: ExactAmount, places: Int) -> ExactAmount? {
        guard b.units != 0 else { return nil }
        // a/b = (a.units / b.units) × 10^(a.scale − b.scale); wanted in units of 10^−places.
        let shift = a.scale - b.scale + places
        var n = a.units, d = b.units
        if shift >= 0 { n = Scaled.mul(n, Scaled.pow10(shift)) } else { d = Scaled.mul(d, Scaled.pow10(-shift)) }
        if d < 0 { n = -n; d = -d }
        return ExactAmount(units: Scaled.roundDiv(n, d), scale: -places)
    }

    public var isZero: Bool { units == 0 }
    public var signum: Int { units > 0 ? 1 : units < 0 ? -1 : 0 }

    public static func == (a: ExactAmount, b: ExactAmount) -> Bool { compare(a, b) == 0 }
    public static func < (a: ExactAmount, b: ExactAmount) -> Bool { compare(a, b) < 0 }

    private static func compare(_ a: ExactAmount, _ b: ExactAmount) -> Int {
        if a.signum != b.signum { return a.signum < b.signum ? -1 : 1 }
        let s = min(a.scale, b.scale)
        let x = Scaled.mul(a.units, Scaled.pow10(a.scale - s)), y = Scaled.mul(b.units, Scaled.pow10(b.scale - s))
        return x < y ? -1 : x > y ? 1 : 0
    }

    /// Plain decimal text (no exponent), valid as a JSON number: `1234`, `-0.005`, `12.50`.
    public var description: String {
        let digits = String(units.magnitude)
        let sign = units < 0 ? "-" : ""
        if scale >= 0 { return sign + digits + (units == 0 ? "" : String(repeating: "0", count: scale)) }
        let frac = -scale
        let padded = digits.count <= frac ? String(repeating: "0", count: frac - digits.count + 1) + digits : digits
        let cut = padded.index(padded.endIndex, offsetBy: -frac)
        return sign + padded[..<cut] + "." + padded[cut...]
    }

    static let overflow = ReportError("a sum exceeds the range of exact arithmetic (38 digits)")
}

/// One value of a report row.
public enum ReportValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case amount(ExactAmount)
    case time(UTCTime)
    case bool(Bool)
    case null
    /// A JSON object of counts (by code or rule), keys in the given order.
    case counts([(String, Int64)])

    public static func == (a: ReportValue, b: ReportValue) -> Bool { a.json == b.json }

    /// The value as JSON text.
    public var json: String {
        switch self {
        case .text(let s): return JSONText.quoted(s)
        case .integer(let n): return String(n)
        case .amount(let a): return a.description
        case .time(let t): return "\"\(t)\""
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .counts(let c): return "{" + c.map { JSONText.quoted($0.0) + ":" + String($0.1) }.joined(separator: ",") + "}"
        }
    }

    /// The value as a table cell.
    public var cell: String {
        switch self {
        case .text(let s): return s
        case .integer(let n): return String(n)
        case .amount(let a): return a.description
        case .time(let t): return t.description
        case .bool(let b): return b ? "yes" : "no"
        case .null: return "-"
        case .counts(let c): return c.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
        }
    }

    var isNumeric: Bool {
        switch self {
        case .integer, .amount: return true
        default: return false
        }
    }
}

/// One line of a report: a record type and its members in order (ami-jsonl(5), REPORT RECORDS).
public struct ReportRow: Sendable, Equatable {
    public var type: String
    public var fields: [(String, ReportValue)]

    public init(_ type: String, _ fields: [(String, ReportValue)]) {
        self.type = type
        self.fields = fields
    }

    public static func == (a: ReportRow, b: ReportRow) -> Bool { a.jsonLine == b.jsonLine }

    public subscript(_ key: String) -> ReportValue? { fields.first { $0.0 == key }?.1 }

    /// The row as one JSON line (without the newline): `{"type":…,"v":1,…}`; absent (null) members
    /// are left out, as ami-jsonl(5) wants.
    public var jsonLine: String {
        var s = "{\"type\":" + JSONText.quoted(type) + ",\"v\":1"
        for (k, v) in fields where v != .null { s += "," + JSONText.quoted(k) + ":" + v.json }
        return s + "}"
    }
}

/// Rows as aligned text tables for a terminal: one table per record type, columns in the order the
/// members first appear, numbers right-aligned.
public enum ReportTable {
    public static func render(_ rows: [ReportRow]) -> String {
        var order: [String] = []
        var byType: [String: [ReportRow]] = [:]
        for r in rows {
            if byType[r.type] == nil { order.append(r.type) }
            byType[r.type, default: []].append(r)
        }
        var out = ""
        for type in order {
            let group = byType[type]!
            var columns: [String] = []
            for r in group { for (k, _) in r.fields where !columns.contains(k) { columns.append(k) } }
            let cells = group.map { r in columns.map { r[$0] ?? .null } }
            var width = columns.map(\.count)
            for row in cells { for (i, c) in row.enumerated() { width[i] = max(width[i], c.cell.count) } }
            if !out.isEmpty { out += "\n" }
            out += type + "\n"
            out += line(columns.map { ReportValue.text($0) }, width) + "\n"
            for row in cells { out += line(row, width) + "\n" }
        }
        return out
    }

    private static func line(_ values: [ReportValue], _ width: [Int]) -> String {
        var parts: [String] = []
        for (i, v) in values.enumerated() {
            let c = v.cell
            let pad = String(repeating: " ", count: width[i] - c.count)
            parts.append(v.isNumeric ? pad + c : c + pad)
        }
        var s = parts.joined(separator: "  ")
        while s.last == " " { s.removeLast() }
        return s
    }
}
