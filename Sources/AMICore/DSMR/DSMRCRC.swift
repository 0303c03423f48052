/// The CRC of DSMR 4 and later P1 telegrams (DSMR P1 Companion Standard 5.0.2 §6.2): CRC16 with
/// polynomial x¹⁶+x¹⁵+x²+1 (0x8005, processed LSB first as 0xA001), initial value 0, no final XOR —
/// the CRC-16/ARC of the catalogue — over every byte from `/` up to and including `!`, sent as four
/// hex digits after the `!`.
public enum DSMRCRC {
    private static let crc = ReflectedCRC16(reflectedPolynomial: 0xA001, initial: 0, finalXOR: 0)

    /// The CRC16 of `bytes[range]` (the range is clamped to the array).
    public static func checksum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt16 {
        crc.checksum(bytes, range)
    }

    public static func checksum<S: Sequence>(_ bytes: S) -> UInt16 where S.Element == UInt8 {
        let a = Array(bytes)
        return checksum(a, 0..<a.count)
    }
}
