/// Placeholder replaced by the M-Bus application-layer decoder.
public enum MBusDecoder {
    public static func decode(_ frame: [UInt8], context: FrameContext, into out: inout DecodeOutput) throws(DecodeError) {
        throw DecodeError(.mbusApplication, at: 0, .unsupported, "M-Bus decoding is not built yet")
    }
}
