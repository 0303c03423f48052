/// Finds text telegrams in a byte stream and says which protocol each one is: DSMR P1 (DSMR P1
/// Companion Standard 5.0.2 §6.2, NEN-EN-IEC 62056-21 mode D based) or an IEC 62056-21 readout
/// (IEC 62056-21 §6.3/§6.4). The layout is described at `TextTelegramLayout`.
///
/// Classification when both protocols are enabled: an STX data block makes an IEC 62056-21 readout;
/// a CRC after `!` makes a DSMR telegram; otherwise DSMR when a data line carries a DSMR-only object
/// (`1-3:0.2.8`, `0-0:96.1.1`, `0-0:1.0.0`, an M-Bus channel `0-n:24.x`), else IEC 62056-21. With one
/// of the two enabled, every telegram is taken as that one. A sign-on request `/?…!` is a frame of its
/// own for the IEC 62056-21 decoder, which yields nothing for it; with IEC 62056-21 disabled it is
/// skipped as bytes that are not a frame. Idle CR/LF bytes between telegrams belong to a telegram
/// (see `TextTelegramLayout`); at the end of the input they are an idle frame that yields nothing.
public enum TextTelegramFraming {
    /// `/` (identification line), STX (data block without one), and CR and LF, the idle bytes that
    /// may come before a telegram.
    public static let startBytes: Set<UInt8> = [TextByte.slash, TextByte.stx, TextByte.cr, TextByte.lf]

    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool,
                            protocols: Set<ProtocolID>) -> ScanResult {
        switch TextTelegramLayout.locate(bytes, at: start, end: end, atEnd: atEnd) {
        case .needMore:
            return .needMore
        case .invalid(let error):
            return .invalid(error, skip: 1)
        case .found(let layout):
            guard let p = classify(layout, in: bytes, protocols: protocols) else {
                return .invalid(DecodeError(.framing, at: layout.begin, .unsupported,
                                            "IEC 62056-21 sign-on request, and IEC 62056-21 is not enabled"), skip: 1)
            }
            return .frame(p, length: layout.end - start)
        }
    }

    /// The protocol of a located telegram, or nil for a request when IEC 62056-21 is not enabled.
    static func classify(_ layout: TextTelegramLayout, in bytes: [UInt8], protocols: Set<ProtocolID>) -> ProtocolID? {
        let dsmr = protocols.contains(.dsmr), iec = protocols.contains(.iec62056_21)
        switch layout.kind {
        case .idle:
            return dsmr ? .dsmr : .iec62056_21
        case .request:
            return iec ? .iec62056_21 : nil
        case .telegram:
            if !iec { return .dsmr }
            if !dsmr { return .iec62056_21 }
            if layout.stx != nil { return .iec62056_21 }
            if layout.crc != nil { return .dsmr }
            return hasDSMRObjects(bytes, in: layout.data) ? .dsmr : .iec62056_21
        }
    }

    private static let dsmrMarkers: [[UInt8]] = ["1-3:0.2.8", "0-0:96.1.1(", "0-0:1.0.0("].map { Array($0.utf8) }

    /// True when a data line starts with an object only DSMR telegrams carry.
    static func hasDSMRObjects(_ bytes: [UInt8], in range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound {
            if i == range.lowerBound || TextByte.isLineEnd(bytes[i - 1]) {
                for m in dsmrMarkers where i + m.count <= range.upperBound && bytes[i..<i + m.count].elementsEqual(m) {
                    return true
                }
                // 0-n:24. (an M-Bus channel, n = 1…9)
                if i + 7 <= range.upperBound, bytes[i] == UInt8(ascii: "0"), bytes[i + 1] == UInt8(ascii: "-"),
                   bytes[i + 2] >= UInt8(ascii: "1"), bytes[i + 2] <= UInt8(ascii: "9"),
                   bytes[i + 3] == UInt8(ascii: ":"), bytes[i + 4] == UInt8(ascii: "2"),
                   bytes[i + 5] == UInt8(ascii: "4"), bytes[i + 6] == UInt8(ascii: ".") {
                    return true
                }
            }
            i += 1
        }
        return false
    }
}
