/// The HCS and FCS of HDLC frames (IEC 62056-46, MAC sublayer frame format; ISO/IEC 13239 16-bit
/// FCS): CRC-16/X-25, polynomial x¹⁶+x¹²+x⁵+1 (0x1021) processed LSB first (0x8408), initial value
/// 0xFFFF, final XOR 0xFFFF, sent least significant byte first. Check value of `123456789`: 0x906E.
public enum HDLCFrameCheck {
    private static let crc = ReflectedCRC16(reflectedPolynomial: 0x8408, initial: 0xFFFF, finalXOR: 0xFFFF)

    /// The CRC of `bytes[range]` (the range is clamped to the array).
    public static func checksum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt16 {
        crc.checksum(bytes, range)
    }

    /// Appends the CRC of `bytes[from...]` to `bytes`, least significant byte first.
    static func append(to bytes: inout [UInt8], from start: Int) {
        let crc = checksum(bytes, start..<bytes.count)
        bytes.append(UInt8(truncatingIfNeeded: crc))
        bytes.append(UInt8(truncatingIfNeeded: crc >> 8))
    }
}
