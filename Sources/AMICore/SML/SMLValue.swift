/// One element of SML's type-length encoding (SML 1.04 §6.3): a TL field — bit 7 "another TL byte
/// follows", bits 6–4 the type (000 octet string, 100 boolean, 101 integer, 110 unsigned, 111 list),
/// bits 3–0 a nibble of the length — then the value. For a list the length counts its elements, for
/// anything else the bytes including the TL bytes. `01` (an empty octet string) marks an optional
/// element that is absent; `00` ends a message.
public indirect enum SMLValue: Sendable, Equatable {
    case absent
    case octets([UInt8])
    case boolean(Bool)
    /// A signed integer and the number of bytes it was sent in (1 to 8).
    case integer(Int64, width: Int)
    /// An unsigned integer and the number of bytes it was sent in (1 to 8).
    case unsigned(UInt64, width: Int)
    case list([SMLValue])
    /// The end-of-message mark `00`.
    case endOfMessage

    /// Lists nested deeper than this are refused (hostile input must not exhaust the stack).
    static let maximumDepth = 24

    /// Reads one element at the cursor.
    static func read(_ c: inout ByteCursor, depth: Int = 0) throws(DecodeError) -> SMLValue {
        let start = c.offset
        let first = try c.u8()
        if first == 0x00 { return .endOfMessage }
        let type = (first >> 4) & 0x07
        var length = Int(first & 0x0F)
        var tlBytes = 1
        var more = first & 0x80 != 0
        while more {
            let b = try c.u8()
            guard (b >> 4) & 0x07 == 0 else {
                throw c.error(.malformed, "TL byte \(Hex.byte(b)) continues a length but has a type", at: start)
            }
            length = length << 4 | Int(b & 0x0F)
            tlBytes += 1
            more = b & 0x80 != 0
            guard tlBytes <= 4 else { throw c.error(.malformed, "TL field longer than 4 bytes", at: start) }
        }
        if type == 0x07 {
            guard depth < maximumDepth else {
                throw c.error(.malformed, "lists nested more than \(maximumDepth) deep", at: start)
            }
            // Each element takes a byte at least: a count beyond the bytes left cannot be met.
            guard length <= c.remaining else {
                throw c.error(.needMore(count: length - c.remaining),
                              "list of \(length) elements, \(c.remaining) bytes left", at: start)
            }
            var items: [SMLValue] = []
            items.reserveCapacity(length)
            for _ in 0..<length { items.append(try read(&c, depth: depth + 1)) }
            return .list(items)
        }
        let size = length - tlBytes
        guard size >= 0 else {
            throw c.error(.malformed, "TL length \(length) is shorter than the TL field itself", at: start)
        }
        switch type {
        case 0x00:
            if size == 0 && tlBytes == 1 { return .absent }
            return .octets(try c.take(size))
        case 0x04:
            guard size == 1 else { throw c.error(.malformed, "boolean of \(size) bytes", at: start) }
            return .boolean(try c.u8() != 0)
        case 0x05, 0x06:
            guard (1...8).contains(size) else {
                throw c.error(.malformed, "\(type == 5 ? "integer" : "unsigned") of \(size) bytes", at: start)
            }
            let raw = try c.uintBE(size)
            if type == 0x06 { return .unsigned(raw, width: size) }
            let shift = UInt64(64 - 8 * size)
            return .integer(Int64(bitPattern: raw << shift) >> Int64(shift), width: size)
        default:
            throw c.error(.malformed, "TL byte \(Hex.byte(first)) has the reserved type \(type)", at: start)
        }
    }

    /// The elements of a list; nil for anything else.
    var elements: [SMLValue]? {
        if case .list(let items) = self { return items }
        return nil
    }

    /// The value of an integer of either sign, when it fits.
    var integerValue: Int64? {
        switch self {
        case .integer(let v, _): v
        case .unsigned(let v, _): v <= UInt64(Int64.max) ? Int64(v) : nil
        default: nil
        }
    }

    var octetsValue: [UInt8]? {
        if case .octets(let b) = self { return b }
        return nil
    }
}
