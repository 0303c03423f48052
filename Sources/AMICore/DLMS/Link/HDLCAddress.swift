/// An HDLC address field of the DLMS MAC sublayer (IEC 62056-46, address fields; DLMS UA 1000-2
/// "MAC addressing"): 1, 2 or 4 bytes carrying 7 address bits each in bits 8 to 2; bit 1 is 1 on
/// the last byte only. A client address is one byte, the client SAP (16 public client, 1
/// management, 17 often LLS). A server address is the upper HDLC address (logical device, 1 for
/// the management logical device) and, in the 2- and 4-byte forms, the lower HDLC address
/// (physical device).
public struct HDLCAddress: Sendable, Hashable, CustomStringConvertible {
    /// The 7-bit groups of all bytes, most significant first (upper and lower address together).
    public let value: UInt32
    /// 1, 2 or 4 bytes.
    public let size: Int

    /// An address of `size` bytes (1, 2 or 4) holding `value`; nil when it does not fit.
    public init?(value: UInt32, size: Int) {
        guard size == 1 || size == 2 || size == 4, value < UInt32(1) << UInt32(7 * size) else { return nil }
        self.value = value
        self.size = size
    }

    private init(checked value: UInt32, size: Int) {
        self.value = value
        self.size = size
    }

    /// Client SAP 16, the public client.
    public static let publicClient = HDLCAddress(checked: 16, size: 1)
    /// Upper HDLC address 1, the management logical device, in one byte.
    public static let managementLogicalDevice = HDLCAddress(checked: 1, size: 1)

    /// The one-byte address of client SAP `sap` (0 to 127).
    public static func client(_ sap: UInt8) -> HDLCAddress? {
        HDLCAddress(value: UInt32(sap), size: 1)
    }

    /// A server address: the upper HDLC address `logical` and, when given, the lower one
    /// `physical`. Without `size`, the shortest form: 1 byte without a physical address, else 2
    /// bytes when both are below 128, else 4. nil when the addresses do not fit `size` (7 bits each
    /// in 1 and 2 bytes, 14 bits each in 4), or when a 2- or 4-byte form lacks `physical`.
    public static func server(logical: UInt16, physical: UInt16? = nil, size: Int? = nil) -> HDLCAddress? {
        let upper = UInt32(logical)
        guard let lower = physical.map(UInt32.init) else {
            return size == nil || size == 1 ? HDLCAddress(value: upper, size: 1) : nil
        }
        switch size ?? (upper < 0x80 && lower < 0x80 ? 2 : 4) {
        case 2 where upper < 0x80 && lower < 0x80: return HDLCAddress(value: upper << 7 | lower, size: 2)
        case 4 where upper < 0x4000 && lower < 0x4000: return HDLCAddress(value: upper << 14 | lower, size: 4)
        default: return nil
        }
    }

    /// The upper HDLC address (the whole address when it is one byte).
    public var upper: UInt32 { size == 1 ? value : size == 2 ? value >> 7 : value >> 14 }
    /// The lower HDLC address, nil in the one-byte form.
    public var lower: UInt32? { size == 1 ? nil : size == 2 ? value & 0x7F : value & 0x3FFF }

    /// The address field as sent.
    public var bytes: [UInt8] {
        (0..<size).map { i in
            let group = UInt8(truncatingIfNeeded: value >> UInt32(7 * (size - 1 - i))) & 0x7F
            return group << 1 | (i == size - 1 ? 1 : 0)
        }
    }

    /// `16`, or `1/17` (upper/lower) for a 2- or 4-byte server address.
    public var description: String { lower.map { "\(upper)/\($0)" } ?? "\(upper)" }

    /// Reads an address field: bytes up to the one with bit 1 set, which must be the 1st, 2nd or
    /// 4th.
    static func read(_ c: inout ByteCursor) throws(DecodeError) -> HDLCAddress {
        let at = c.offset
        var value: UInt32 = 0
        for count in 1...4 {
            let b = try c.u8()
            value = value << 7 | UInt32(b >> 1)
            if b & 1 == 1 {
                guard let address = HDLCAddress(value: value, size: count) else {
                    throw c.error(.malformed, "address field of 3 bytes (1, 2 or 4 are allowed)", at: at)
                }
                return address
            }
        }
        throw c.error(.malformed, "address field longer than 4 bytes", at: at)
    }
}
