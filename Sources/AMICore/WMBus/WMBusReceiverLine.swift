/// The text lines wireless M-Bus receivers write, each holding one frame without its CRCs:
///
/// - rtl_wmbus: `MODE;CRC_OK;3OUTOF6_OK;TIME;PACKET_RSSI;CURRENT_RSSI;ID;0xHEX` (the frame is the
///   field starting `0x`; `CRC_OK` 0 marks a frame whose CRC failed);
/// - wmbusmeters' simulation lines: `telegram=|HEX|`, optionally followed by `+SECONDS`; `_`, `|`,
///   `#` and spaces inside the hex are separators.
public enum WMBusReceiverLine {
    /// The frame of `line` and whether the receiver found its CRCs good; nil when the line is not a
    /// receiver line. Throws when it is one whose hex is bad.
    public static func parse(_ line: ArraySlice<UInt8>) throws(DecodeError) -> (frame: [UInt8], crcOK: Bool)? {
        let start = line.startIndex
        if line.count > prefix.count, line.starts(with: prefix) {
            let body = line[(start + prefix.count)...]
            let end = body.lastIndex(of: UInt8(ascii: "|")) ?? line.endIndex
            let digits = body[body.startIndex..<end].filter {
                $0 != UInt8(ascii: "_") && $0 != UInt8(ascii: "|") && $0 != UInt8(ascii: "#") && $0 != 0x20
            }
            return (try Hex.decode(digits, base: start + prefix.count), true)
        }
        guard let fields = rtlWMBusFields(line) else { return nil }
        let hex = fields[7]
        return (try Hex.decode(Array(hex.dropFirst(2)), base: hex.startIndex + 2), fields[1].first == UInt8(ascii: "1"))
    }

    /// True when `line` is a receiver line (for telling an input's format).
    static func isReceiverLine(_ line: ArraySlice<UInt8>) -> Bool {
        line.starts(with: prefix) || rtlWMBusFields(line) != nil
    }

    /// The start of a wmbusmeters line.
    private static let prefix = Array("telegram=|".utf8)

    /// The fields of an rtl_wmbus line: a mode (`T1`, `C1`, `S1`), CRC and 3-out-of-6 flags, and a
    /// frame field starting `0x` as the eighth.
    private static func rtlWMBusFields(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>]? {
        // The mode's `;` comes within the first 4 bytes: other lines (hex frames) are not split.
        guard line.prefix(4).contains(UInt8(ascii: ";")) else { return nil }
        let fields = line.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard fields.count >= 8, (1...3).contains(fields[0].count),
              fields[0].allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) }),
              fields[1].count == 1, fields[1].first == UInt8(ascii: "0") || fields[1].first == UInt8(ascii: "1"),
              fields[7].starts(with: Array("0x".utf8)) || fields[7].starts(with: Array("0X".utf8))
        else { return nil }
        return Array(fields)
    }
}
