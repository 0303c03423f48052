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
    /// Returns nil for anything else, or when more than 18 significant digits are given (zeros at
    /// the end beyond the 18th digit do not count: `1` and 300 zeros is 1e300).
    public init?(_ text: Substring) { self.init(utf8: text.utf8) }

    public init?(_ text: String) {
        var t = text
        guard let d = t.withUTF8({ ExactDecimal(utf8: $0) }) else { return nil }
        self = d
    }

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
        var droppedZeros = 0    // integer-part zeros past the 18th digit, folded into the exponent
        var dropping = false    // past the 18th digit: only zeros may follow
        while let ch = c {
            if ch >= UInt8(ascii: "0") && ch <= UInt8(ascii: "9") {
                sawDigit = true
                if mantissa != 0 || ch != UInt8(ascii: "0") { digits += 1 }
                if digits > 18 || dropping {
                    guard ch == UInt8(ascii: "0") else { return nil }
                    dropping = true
                    if !inFraction { droppedZeros += 1 }
                    c = it.next()
                    continue
                }
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
        self.exponent = exp - fraction + droppedZeros
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

    /// This value times another exactly (a scale factor), or nil on overflow.
    public func multiplied(by factor: ExactDecimal) -> ExactDecimal? {
        multiplied(by: factor.significand).map { ExactDecimal($0.significand, exponent: exponent + factor.exponent) }
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
        // The digits go straight to their places, least significant first, two at a time.
        let m = significand.magnitude
        let n = DecimalDigits.count(m)
        var k = 0
        if significand < 0 { p[k] = UInt8(ascii: "-"); k += 1 }
        if exponent >= 0 {
            _ = DecimalDigits.write(m, count: n, endingAt: p + k + n)
            k += n
            if significand != 0 {
                for _ in 0..<exponent { p[k] = 48; k += 1 }
            }
            return k
        }
        // Fraction digits (zeros once the significand's digits run out), the point, then the
        // integer digits or a single 0.
        let frac = -exponent
        let intDigits = max(n - frac, 1)
        let end = k + intDigits + 1 + frac
        let high = DecimalDigits.write(m, count: frac, endingAt: p + end)
        p[end - frac - 1] = UInt8(ascii: ".")
        _ = DecimalDigits.write(high, count: intDigits, endingAt: p + end - frac - 1)
        return end
    }
}

/// Decimal digits of unsigned integers, written two at a time from a table.
enum DecimalDigits {
    /// The number of decimal digits of `v` (1 for 0).
    @inline(__always)
    static func count(_ v: UInt64) -> Int {
        var n = 1
        var t = v
        while t >= 100 {
            t /= 100
            n += 2
        }
        return t >= 10 ? n + 1 : n
    }

    /// Writes the lowest `count` decimal digits of `v` (zero-padded) so that the last one is just before
    /// `end`; returns what is left of `v` above them.
    @inline(__always)
    static func write(_ v: UInt64, count: Int, endingAt end: UnsafeMutablePointer<UInt8>) -> UInt64 {
        let pairs = pairText.utf8Start
        var v = v
        var e = end
        var c = count
        while c >= 2 {
            let q = v / 100
            let r = Int(truncatingIfNeeded: v &- q &* 100) &* 2
            e -= 2
            e[0] = pairs[r]
            e[1] = pairs[r &+ 1]
            v = q
            c -= 2
        }
        if c == 1 {
            let q = v / 10
            e[-1] = UInt8(truncatingIfNeeded: 48 &+ (v &- q &* 10))
            v = q
        }
        return v
    }

    /// "00", "01", … "99".
    private static var pairText: StaticString {
        """
        0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """
    }
}
