/// An exact decimal number `significand × 10^exponent`, as a meter sent it after scaling.
///
/// Never built from a `Double`: values come from integers, BCD, decimal text, or (for IEEE 754
/// values a meter sends) the shortest decimal text that identifies the binary value exactly.
/// Trailing zeros are kept (`2.30` stays `2.30`); equality is numeric (`2.3 == 2.30`).
public struct ExactDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var significand: Int64
    public var exponent: Int

    public init(_ significand: Int64, exponent: Int = 0) {
        self.significand = significand
        self.exponent = exponent
    }

    public static let zero = ExactDecimal(0)

    /// Parses `[+-]digits[.digits][(e|E)[+-]digits]`; surrounding spaces are not accepted.
    /// Returns nil for anything else, or when more than 18 significant digits are given.
    public init?(_ text: Substring) { self.init(utf8: Array(text.utf8)) }

    public init?(_ text: String) { self.init(utf8: Array(text.utf8)) }

    /// Parses decimal text from ASCII bytes (see `init?(_:)`).
    public init?<C: Collection>(utf8 text: C) where C.Element == UInt8 {
        var it = text.makeIterator()
        var c = it.next()
        var negative = false
        if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
            negative = c == UInt8(ascii: "-")
            c = it.next()
        }
        var mantissa: UInt64 = 0
        var digits = 0          // significant digits accumulated (leading zeros not counted)
        var sawDigit = false
        var fraction = 0
        var inFraction = false
        while let ch = c {
            if ch >= UInt8(ascii: "0") && ch <= UInt8(ascii: "9") {
                sawDigit = true
                if mantissa != 0 || ch != UInt8(ascii: "0") { digits += 1 }
                if digits > 18 { return nil }
                mantissa = mantissa * 10 + UInt64(ch - UInt8(ascii: "0"))
                if inFraction { fraction += 1 }
            } else if ch == UInt8(ascii: ".") && !inFraction {
                inFraction = true
            } else {
                break
            }
            c = it.next()
        }
        guard sawDigit else { return nil }
        var exp = 0
        if let ch = c {
            guard ch == UInt8(ascii: "e") || ch == UInt8(ascii: "E") else { return nil }
            c = it.next()
            var expNegative = false
            if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                expNegative = c == UInt8(ascii: "-")
                c = it.next()
            }
            var sawExp = false
            while let d = c {
                guard d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") else { return nil }
                sawExp = true
                exp = exp * 10 + Int(d - UInt8(ascii: "0"))
                if exp > 400 { return nil }
                c = it.next()
            }
            guard sawExp else { return nil }
            if expNegative { exp = -exp }
        }
        self.significand = negative ? -Int64(mantissa) : Int64(mantissa)
        self.exponent = exp - fraction
    }

    /// The shortest decimal that identifies `value` exactly (IEEE 754 binary32 as sent by a meter).
    /// Nil for NaN and infinities.
    public init?(float value: Float) {
        guard value.isFinite else { return nil }
        self.init(value.description)
    }

    /// The shortest decimal that identifies `value` exactly (IEEE 754 binary64 as sent by a meter).
    public init?(double value: Double) {
        guard value.isFinite else { return nil }
        self.init(value.description)
    }

    /// This value times 10^`power` (exact: only the exponent changes).
    public func scaled(byPowerOfTen power: Int) -> ExactDecimal {
        ExactDecimal(significand, exponent: exponent + power)
    }

    /// This value times an integer factor, or nil on overflow.
    public func multiplied(by factor: Int64) -> ExactDecimal? {
        let (r, o) = significand.multipliedReportingOverflow(by: factor)
        return o ? nil : ExactDecimal(r, exponent: exponent)
    }

    /// The same number with trailing zeros of the significand folded into the exponent.
    public var normalized: ExactDecimal {
        if significand == 0 { return ExactDecimal(0) }
        var s = significand, e = exponent
        while s % 10 == 0 { s /= 10; e += 1 }
        return ExactDecimal(s, exponent: e)
    }

    /// The value as an integer count of 10^`scale` units when exactly representable (e.g. scale -3 for
    /// milli-units), else nil.
    public func integer(atScale scale: Int) -> Int64? {
        let n = normalized
        let shift = n.exponent - scale
        if shift < 0 { return nil }
        var v = n.significand
        for _ in 0..<shift {
            let (r, o) = v.multipliedReportingOverflow(by: 10)
            if o { return nil }
            v = r
        }
        return v
    }

    public static func == (a: ExactDecimal, b: ExactDecimal) -> Bool {
        let x = a.normalized, y = b.normalized
        return x.significand == y.significand && x.exponent == y.exponent
    }

    public func hash(into hasher: inout Hasher) {
        let n = normalized
        hasher.combine(n.significand)
        hasher.combine(n.exponent)
    }

    public static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        if (a.significand < 0) != (b.significand < 0) { return a.significand < 0 }
        // Compare by aligning exponents on digit strings (no overflow possible).
        let x = a.normalized, y = b.normalized
        if x.significand == 0 || y.significand == 0 { return x.significand < y.significand }
        let dx = String(x.significand.magnitude), dy = String(y.significand.magnitude)
        let mx = dx.count + x.exponent, my = dy.count + y.exponent
        let negative = x.significand < 0
        if mx != my { return negative ? mx > my : mx < my }
        let len = max(dx.count, dy.count)
        let px = dx + String(repeating: "0", count: len - dx.count)
        let py = dy + String(repeating: "0", count: len - dy.count)
        return negative ? px > py : px < py
    }

    /// Plain decimal text (no exponent), e.g. `1234.50`, `-0.001`, `1200`: valid as a JSON number.
    public var description: String {
        String(unsafeUninitializedCapacity: maxTextLength) { write(to: $0.baseAddress!) }
    }

    /// The most bytes `write(to:)` can write for this value.
    public var maxTextLength: Int { 23 + Int(exponent.magnitude) }

    /// Writes the plain decimal text at `p` (room for `maxTextLength` bytes) and returns its length.
    public func write(to p: UnsafeMutablePointer<UInt8>) -> Int {
        // The digits go straight to their places, least significant first: count them, then fill
        // the text from its end.
        var m = significand.magnitude
        var n = 1
        var t = m
        while t >= 10 {
            t /= 10
            n += 1
        }
        var k = 0
        if significand < 0 { p[k] = UInt8(ascii: "-"); k += 1 }
        if exponent >= 0 {
            var j = k + n
            repeat {
                j -= 1
                p[j] = UInt8(48 + m % 10)
                m /= 10
            } while j > k
            k += n
            if significand != 0 {
                for _ in 0..<exponent { p[k] = 48; k += 1 }
            }
            return k
        }
        // Fraction digits (zeros once the significand's digits run out), the point, then the
        // integer digits or a single 0.
        let frac = -exponent
        let intDigits = max(n - frac, 0)
        let end = k + max(intDigits, 1) + 1 + frac
        var j = end
        for _ in 0..<frac {
            j -= 1
            p[j] = UInt8(48 + m % 10)
            m /= 10
        }
        j -= 1
        p[j] = UInt8(ascii: ".")
        if intDigits == 0 {
            p[k] = 48
        } else {
            repeat {
                j -= 1
                p[j] = UInt8(48 + m % 10)
                m /= 10
            } while j > k
        }
        return end
    }
}
