/// Placeholder replaced by the DSMR P1 decoder.
public enum DSMRDecoder {
    public static func decode(_ frame: [UInt8], context: FrameContext, into out: inout DecodeOutput) throws(DecodeError) {
        throw DecodeError(.dsmr, at: 0, .unsupported, "DSMR decoding is not built yet")
    }
}
