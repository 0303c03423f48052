/// The length (or element count) field shared by A-XDR and BER, definite form only
/// (IEC 62056-6-2 / DLMS UA 1000-2 "A-XDR encoding rules"; ITU-T X.690 §8.1.3): one byte below 0x80,
/// else `0x80 + n` followed by `n` big-endian length bytes.
extension ByteCursor {
    /// Reads a length field. The indefinite form (0x80) and lengths above `Int.max` are refused.
    mutating func lengthField() throws(DecodeError) -> Int {
        let start = offset
        let first = try u8()
        if first < 0x80 { return Int(first) }
        let n = Int(first & 0x7F)
        guard n >= 1 else { throw error(.malformed, "indefinite length form (0x80)", at: start) }
        guard n <= 8 else { throw error(.malformed, "length field of \(n) bytes", at: start) }
        let value = try uintBE(n)
        guard value <= UInt64(Int.max) else { throw error(.outOfRange, "length \(value) too large", at: start) }
        return Int(value)
    }

    /// Reads a length field, then that many bytes.
    mutating func lengthPrefixedBytes() throws(DecodeError) -> [UInt8] {
        try take(try lengthField())
    }

    /// An A-XDR OPTIONAL or DEFAULT presence flag: 0 absent, 1 present.
    mutating func optionalFlag(_ what: String) throws(DecodeError) -> Bool {
        let start = offset
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw error(.malformed, "\(what): presence flag \(Hex.byte(b)), not 0 or 1", at: start)
        }
    }

    /// A cursor over the next `count` bytes (same layer and offsets), and skips them here.
    mutating func subCursor(_ count: Int) throws(DecodeError) -> ByteCursor {
        let r = try range(count)
        return ByteCursor(bytes, start: r.lowerBound, end: r.upperBound, base: base, layer: layer)
    }

    /// Throws `.malformed` when bytes are left over after a complete value of `what`.
    func expectEnd(_ what: String) throws(DecodeError) {
        guard isAtEnd else {
            throw error(.malformed, "\(remaining) byte\(remaining == 1 ? "" : "s") after the \(what)")
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends a length field in its shortest form.
    mutating func appendLengthField(_ length: Int) {
        if length < 0x80 {
            append(UInt8(length))
            return
        }
        let bytes = (UInt64(length).bitWidth - UInt64(length).leadingZeroBitCount + 7) / 8
        append(0x80 | UInt8(bytes))
        for i in stride(from: bytes - 1, through: 0, by: -1) {
            append(UInt8(truncatingIfNeeded: UInt64(length) >> (UInt64(i) * 8)))
        }
    }

    /// Appends a length field and `bytes`.
    mutating func appendLengthPrefixed(_ bytes: [UInt8]) {
        appendLengthField(bytes.count)
        append(contentsOf: bytes)
    }
}
