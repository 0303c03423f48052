/// Placeholder replaced by the IEC 62056-21 decoder.
public enum IEC62056_21Decoder {
    public static func decode(_ frame: [UInt8], context: FrameContext, into out: inout DecodeOutput) throws(DecodeError) {
        throw DecodeError(.iec62056_21, at: 0, .unsupported, "IEC 62056-21 decoding is not built yet")
    }
}
