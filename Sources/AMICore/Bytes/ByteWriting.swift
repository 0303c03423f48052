/// Appending integers to byte arrays in network order, for the encoders that build frames.
extension Array where Element == UInt8 {
    /// Appends `value` big-endian, all of its bytes.
    @inlinable
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var shift = T.bitWidth - 8
        while shift >= 0 {
            append(UInt8(truncatingIfNeeded: value >> shift))
            shift -= 8
        }
    }
}
