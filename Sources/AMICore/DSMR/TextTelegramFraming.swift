/// Placeholder replaced by the framing of text telegrams (DSMR P1, IEC 62056-21).
public enum TextTelegramFraming {
    public static let startBytes: Set<UInt8> = [UInt8(ascii: "/"), 0x02]

    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool,
                            protocols: Set<ProtocolID>) -> ScanResult {
        .invalid(DecodeError(.framing, at: start, .unsupported, "text telegrams are not framed yet"), skip: 1)
    }
}
