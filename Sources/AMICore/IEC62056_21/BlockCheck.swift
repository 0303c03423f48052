/// The block check character of IEC 62056-21 data messages (§6.3, ISO/IEC 1155): the XOR of every
/// byte after STX up to and including ETX.
public enum BlockCheck {
    /// The XOR of `bytes[range]` (the range is clamped to the array).
    public static func bcc(_ bytes: [UInt8], _ range: Range<Int>) -> UInt8 {
        var x: UInt8 = 0
        for i in range.clamped(to: 0..<bytes.count) { x ^= bytes[i] }
        return x
    }
}
