/// Hex text to bytes and back, locale-free.
public enum Hex {
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)
    static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// The value of one ASCII hex digit, or nil.
    public static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }

    /// Appends lowercase hex of `bytes` to `out`, optionally separated.
    public static func append<C: Collection>(_ bytes: C, to out: inout [UInt8], separator: UInt8? = nil)
    where C.Element == UInt8 {
        var first = true
        for b in bytes {
            if let s = separator, !first { out.append(s) }
            first = false
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
    }

    /// Lowercase hex string of `bytes`.
    public static func string<C: Collection>(_ bytes: C, separator: Character? = nil) -> String
    where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        append(bytes, to: &out, separator: separator.flatMap { $0.asciiValue })
        return String(decoding: out, as: UTF8.self)
    }

    /// Uppercase two-digit hex of one byte, for messages (`0x3A`).
    public static func byte(_ b: UInt8) -> String {
        "0x" + String(decoding: [upperDigits[Int(b >> 4)], upperDigits[Int(b & 0x0F)]], as: UTF8.self)
    }

    /// Parses hex text: pairs of digits, with spaces, tabs, `:` and `-` allowed between pairs.
    /// Throws `.malformed` at the offset (within `text`) of the first character that is not allowed,
    /// or of a lone final digit.
    public static func decode<C: Collection>(_ text: C, base: Int = 0) throws(DecodeError) -> [UInt8]
    where C.Element == UInt8, C.Index == Int {
        if let bytes = text.withContiguousStorageIfAvailable(pairs), let bytes { return bytes }
        // Not contiguous, or not well formed: digit by digit, to tell where and why.
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var i = text.startIndex
        let end = text.endIndex
        while i < end {
            let c = text[i]
            if let high = nibble(c) {
                guard i + 1 < end else { throw DecodeError(.hex, at: base + i, .malformed, "odd number of hex digits") }
                let c2 = text[i + 1]
                if let low = nibble(c2) {
                    out.append(high << 4 | low)
                    i += 2
                    continue
                }
                if isSeparator(c2) { throw DecodeError(.hex, at: base + i, .malformed, "lone hex digit") }
                throw DecodeError(.hex, at: base + i + 1, .malformed, "not a hex digit: \(printable(c2))")
            }
            guard isSeparator(c) else { throw DecodeError(.hex, at: base + i, .malformed, "not a hex digit: \(printable(c))") }
            i += 1
        }
        return out
    }

    /// The bytes of well-formed hex text in contiguous memory, or nil when the text is not (the
    /// usual case, read without per-byte checks on the output).
    private static func pairs(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var ok = true
        let out = [UInt8](unsafeUninitializedCapacity: text.count / 2) { buffer, count in
            nibbles.withUnsafeBufferPointer { nibbles in
                var i = 0
                while i < text.count {
                    let high = nibbles[Int(text[i])]
                    if high < 16 {
                        guard i + 1 < text.count, case let low = nibbles[Int(text[i + 1])], low < 16 else {
                            ok = false
                            return
                        }
                        buffer[count] = high << 4 | low
                        count += 1
                        i += 2
                    } else {
                        guard high == separator else { ok = false; return }
                        i += 1
                    }
                }
            }
        }
        return ok ? out : nil
    }

    /// `nibble(c)` of every byte `c`, `separator` for a character allowed between pairs, else 0xFF.
    private static let nibbles: [UInt8] = (0...255).map { c in
        nibble(UInt8(c)) ?? (isSeparator(UInt8(c)) ? separator : 0xFF)
    }
    private static let separator: UInt8 = 0xFE

    /// A character allowed between pairs of digits.
    private static func isSeparator(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: ":") || c == UInt8(ascii: "-")
            || c == UInt8(ascii: "\r")
    }

    /// A byte shown in a message: the character when printable ASCII, else its hex.
    public static func printable(_ c: UInt8) -> String {
        (c >= 0x21 && c < 0x7F) ? "'\(Character(Unicode.Scalar(c)))'" : byte(c)
    }
}
