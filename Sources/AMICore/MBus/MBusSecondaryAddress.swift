/// A wired M-Bus secondary address as the selection of EN 13757-3 (slave select, CI 0x52) sends it:
/// the identification number (8 BCD digits), manufacturer, version and medium, in the order and
/// byte order of the long header of a response (identification least significant byte first,
/// manufacturer low byte first). Any identification digit can be the wildcard nibble `F`, and the
/// manufacturer (`FF FF`), version (`FF`) and medium (`FF`) the wildcard byte.
public struct MBusSecondaryAddress: Sendable, Equatable, CustomStringConvertible {
    /// The 8 bytes of the selection.
    public private(set) var bytes: [UInt8]

    /// Everything wildcards: selects any meter.
    public static let any = MBusSecondaryAddress(bytes: [UInt8](repeating: 0xFF, count: 8))

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// The address of a meter's response: the first 8 bytes of the long header (CI 0x72) of a
    /// long frame `68 L L 68 C A 72 …`; nil for other frames.
    public init?(response frame: [UInt8]) {
        guard frame.count >= 21, frame[0] == 0x68, frame[6] == 0x72 else { return nil }
        bytes = Array(frame[7..<15])
    }

    /// Reads the forms people write:
    /// - `MAN-IIIIIIII-VV-MM`, the meter identity of ami-jsonl(5) (`ACW-11490378-0E-16`), with `F`
    ///   (or `*`) for any identification digit and `*` for the manufacturer, version or medium
    ///   (also `FF` for version and medium);
    /// - `IIIIIIIIMMMMVVMM`, 16 hex digits as libmbus writes secondary addresses (manufacturer
    ///   bytes in frame order);
    /// - `IIIIIIII`, the identification digits alone, the rest wildcards.
    /// Nil for anything else (identification digits A–E are not BCD).
    public init?(_ text: String) {
        var b = MBusSecondaryAddress.any.bytes
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Array($0.uppercased().utf8) }
        func digits(_ s: [UInt8]) -> [UInt8]? {
            guard s.count == 8 else { return nil }
            var out: [UInt8] = []
            for c in s {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): out.append(c - UInt8(ascii: "0"))
                case UInt8(ascii: "F"), UInt8(ascii: "*"): out.append(0xF)
                default: return nil
                }
            }
            return out
        }
        func hexByte(_ s: ArraySlice<UInt8>) -> UInt8? {
            guard s.count == 2 else { return nil }
            return UInt8(String(decoding: s, as: UTF8.self), radix: 16)
        }
        func wildByte(_ s: [UInt8]) -> UInt8? { s == [UInt8(ascii: "*")] ? 0xFF : hexByte(s[...]) }
        let id: [UInt8]
        if parts.count == 4 {
            guard let d = digits(parts[1]), let version = wildByte(parts[2]), let medium = wildByte(parts[3]) else {
                return nil
            }
            id = d
            if parts[0] != [UInt8(ascii: "*")] {
                guard parts[0].count == 3, parts[0].allSatisfy({ (0x41...0x5A).contains($0) }) else { return nil }
                let man = parts[0].reduce(UInt16(0)) { $0 << 5 | UInt16($1 - 64) }
                b[4] = UInt8(man & 0xFF)
                b[5] = UInt8(man >> 8)
            }
            b[6] = version
            b[7] = medium
        } else if parts.count == 1, parts[0].count == 16 {
            let s = parts[0]
            guard let d = digits(Array(s[0..<8])), let m0 = hexByte(s[8..<10]), let m1 = hexByte(s[10..<12]),
                  let version = hexByte(s[12..<14]), let medium = hexByte(s[14..<16]) else { return nil }
            id = d
            b[4] = m0; b[5] = m1; b[6] = version; b[7] = medium
        } else if parts.count == 1, let d = digits(parts[0]) {
            id = d
        } else {
            return nil
        }
        self.bytes = b
        for (i, d) in id.enumerated() { setDigit(i, d) }
    }

    /// Identification digit `i` (0 = the most significant), 0–9 or 0xF for the wildcard.
    public func digit(_ i: Int) -> UInt8 {
        let byte = bytes[3 - i / 2]
        return i % 2 == 0 ? byte >> 4 : byte & 0x0F
    }

    /// Sets identification digit `i` (0 = the most significant) to `value` (0–9, or 0xF).
    public mutating func setDigit(_ i: Int, _ value: UInt8) {
        let k = 3 - i / 2
        bytes[k] = i % 2 == 0 ? (bytes[k] & 0x0F) | (value << 4) : (bytes[k] & 0xF0) | (value & 0x0F)
    }

    /// True when `other` (a meter's own address, no wildcards) is one this address selects.
    public func matches(_ other: MBusSecondaryAddress) -> Bool {
        for i in 0..<8 where digit(i) != 0xF && digit(i) != other.digit(i) { return false }
        if !(bytes[4] == 0xFF && bytes[5] == 0xFF), bytes[4] != other.bytes[4] || bytes[5] != other.bytes[5] {
            return false
        }
        for k in 6..<8 where bytes[k] != 0xFF && bytes[k] != other.bytes[k] { return false }
        return true
    }

    /// The meter identity `MAN-IIIIIIII-VV-MM` of ami-jsonl(5); wildcards show as `F` digits, and
    /// `*` for a manufacturer wildcard.
    public var description: String {
        let identity = MBusHeader.meterIdentity(manufacturer: UInt16(bytes[5]) << 8 | UInt16(bytes[4]),
                                                id: (bytes[3], bytes[2], bytes[1], bytes[0]),
                                                version: bytes[6], medium: bytes[7])
        return bytes[4] == 0xFF && bytes[5] == 0xFF ? "*" + identity.dropFirst(3) : identity
    }
}
