/// Exact fixed-point numbers for billing: an `Int128` count of 10⁻⁹ units (nano-units). Usage
/// (in the tariff's unit), prices (currency per unit) and tax rates are all held this way; money
/// is an `Int64` count of minor units (see `Tariff.minorUnits`). Never a binary float.
public struct Nano: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value times 10⁹.
    public var raw: Int128
    public static let scale = 9
    public static let one: Int128 = 1_000_000_000

    public init(raw: Int128) { self.raw = raw }
    public init(units: Int64) { raw = Int128(units) * Nano.one }
    public static let zero = Nano(raw: 0)

    /// An exact decimal as nano-units; nil when it has more than nine decimals or is too large.
    public init?(_ d: ExactDecimal) {
        let n = d.normalized
        var v = Int128(n.significand)
        var shift = n.exponent + Nano.scale
        guard shift >= 0, shift <= 30 else { return nil }
        while shift > 0 {
            let (r, o) = v.multipliedReportingOverflow(by: 10)
            if o { return nil }
            v = r
            shift -= 1
        }
        raw = v
    }

    /// Decimal text (`"0.2834"`, `12`, `-1.5`) as nano-units; nil when not a plain decimal of at most nine decimals.
    public init?(text: String) {
        guard let d = ExactDecimal(text) else { return nil }
        self.init(d)
    }

    public static func < (a: Nano, b: Nano) -> Bool { a.raw < b.raw }
    public static func + (a: Nano, b: Nano) -> Nano { Nano(raw: a.raw + b.raw) }
    public static func - (a: Nano, b: Nano) -> Nano { Nano(raw: a.raw - b.raw) }
    public static func += (a: inout Nano, b: Nano) { a.raw += b.raw }

    /// Plain decimal text without trailing zeros in the fraction: `12.5`, `0.000001`, `3`.
    public var description: String {
        let negative = raw < 0
        let m = raw.magnitude
        let whole = m / UInt128(Nano.one), frac = m % UInt128(Nano.one)
        var s = (negative ? "-" : "") + String(whole)
        if frac != 0 {
            var f = String(frac)
            f = String(repeating: "0", count: Nano.scale - f.count) + f
            while f.hasSuffix("0") { f.removeLast() }
            s += "." + f
        }
        return s
    }

    /// `self × other` in nano-units, rounded half away from zero (used for demand = energy × factor).
    public func times(_ other: Nano) -> Nano { Nano(raw: Money.divideRounded(raw * other.raw, Nano.one)) }

    /// `self × factor` exactly.
    public func times(_ factor: Int128) -> Nano { Nano(raw: raw * factor) }
}

/// Money: integer minor units, and the single rounding step of a bill line.
public enum Money {
    /// `quantity × price` in minor units of a currency with `minorUnits` decimals, rounded once,
    /// half away from zero (both factors are nano-units, so the exact product is in 10⁻¹⁸).
    public static func amount(_ quantity: Nano, _ price: Nano, minorUnits: Int) -> Int64 {
        let product = quantity.raw * price.raw
        var d: Int128 = 1
        for _ in 0..<(2 * Nano.scale - minorUnits) { d *= 10 }
        return Int64(divideRounded(product, d))
    }

    /// `base × rate` (minor units × nano-units) in minor units, rounded half away from zero.
    public static func percentage(_ base: Int64, _ rate: Nano) -> Int64 {
        Int64(divideRounded(Int128(base) * rate.raw, Nano.one))
    }

    /// `n / d` rounded half away from zero (d > 0).
    public static func divideRounded(_ n: Int128, _ d: Int128) -> Int128 {
        let q = n / d, r = n % d
        if r.magnitude * 2 >= d.magnitude { return n < 0 ? q - 1 : q + 1 }
        return q
    }

    /// Minor units of an amount written as a decimal (`"12.50"`), or nil when it has more decimals than
    /// the currency.
    public static func minor(_ text: String, minorUnits: Int) -> Int64? {
        guard let d = ExactDecimal(text) else { return nil }
        return d.integer(atScale: -minorUnits)
    }

    /// An amount in minor units as decimal text with exactly `minorUnits` decimals (`-3.05`).
    public static func text(_ minor: Int64, minorUnits: Int) -> String {
        ExactDecimal(minor, exponent: -minorUnits).description
    }
}
