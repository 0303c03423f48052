/// A 16-bit CRC processed least significant bit first (a "reflected" CRC), by table: the family of
/// CRC-16/ARC (DSMR P1) and CRC-16/X-25 (HDLC HCS and FCS).
public struct ReflectedCRC16: Sendable {
    private let table: [UInt16]
    private let initial: UInt16
    private let finalXOR: UInt16

    /// `polynomial` in its reflected form (0xA001 for 0x8005, 0x8408 for 0x1021).
    public init(reflectedPolynomial polynomial: UInt16, initial: UInt16, finalXOR: UInt16) {
        table = (0..<256).map { n in
            var c = UInt16(n)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ polynomial : c >> 1 }
            return c
        }
        self.initial = initial
        self.finalXOR = finalXOR
    }

    /// The CRC of `bytes[range]` (the range is clamped to the array).
    public func checksum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt16 {
        var crc = initial
        for i in range.clamped(to: 0..<bytes.count) { crc = (crc >> 8) ^ table[Int((crc ^ UInt16(bytes[i])) & 0xFF)] }
        return crc ^ finalXOR
    }
}
