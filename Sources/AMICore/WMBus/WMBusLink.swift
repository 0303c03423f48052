/// The CRC of wireless M-Bus (EN 13757-4 §12.6.1 "CRC", also EN 13757-3 format signatures and the ELL
/// payload CRC): polynomial x¹⁶+x¹³+x¹²+x¹¹+x¹⁰+x⁸+x⁶+x⁵+x²+1 (0x3D65), initial value 0, most
/// significant bit first, complemented; sent most significant byte first.
public enum WMBusCRC {
    private static let table: [UInt16] = (0..<256).map { n in
        var c = UInt16(n) << 8
        for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x3D65 : c << 1 }
        return c
    }

    /// The CRC of `bytes[range]`.
    public static func checksum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt16 {
        var crc: UInt16 = 0
        for i in range { crc = (crc << 8) ^ table[Int((crc >> 8) ^ UInt16(bytes[i]))] }
        return ~crc
    }

    /// True when the two bytes at `at` hold the CRC of `bytes[range]`.
    static func matches(_ bytes: [UInt8], _ range: Range<Int>, at: Int) -> Bool {
        checksum(bytes, range) == UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }
}

/// The frame formats of EN 13757-4 §12.5 as a receiver may hand them on.
public enum WMBusFrameFormat: String, Sendable, Equatable {
    /// Format A: a first block of 10 bytes (L C M A) and blocks of 16 bytes, each followed by its CRC;
    /// the L field counts neither CRC.
    case a = "A"
    /// Format B: block 1 and 2 (up to 126 bytes) with one CRC, then an optional block 3 with its own;
    /// the L field counts the CRCs.
    case b = "B"
    /// The CRCs already removed by the receiver: L + 1 bytes.
    case noCRC = "none"
}

/// Finds the CRCs of a wireless M-Bus frame and removes them (EN 13757-4 §12.5.2, §12.5.3).
public enum WMBusFraming {
    /// The smallest L field: C, M and A (9 bytes), without CI.
    static let minimumL = 9

    /// The length on air of a format A frame whose L field is `l`.
    public static func formatALength(_ l: Int) -> Int {
        let data = l + 1
        return data + 2 * (1 + (data - 10 + 15) / 16)
    }

    /// The CRC spans (data range, CRC position) of a format A frame of L field `l` starting at `s`.
    static func formatABlocks(_ l: Int, at s: Int) -> [(Range<Int>, Int)] {
        var blocks = [(s..<(s + 10), s + 10)]
        var remaining = l + 1 - 10
        var i = s + 12
        while remaining > 0 {
            let n = min(16, remaining)
            blocks.append((i..<(i + n), i + n))
            i += n + 2
            remaining -= n
        }
        return blocks
    }

    /// The CRC spans of a format B frame of `n` bytes (L + 1) starting at `s`: blocks 1 and 2 (at most
    /// 128 bytes with their CRC), then block 3 (at least one byte and its CRC). Empty when `n` fits no
    /// format B frame.
    static func formatBBlocks(_ n: Int, at s: Int) -> [(Range<Int>, Int)] {
        guard n >= 12, n <= 128 || n >= 131 else { return [] }
        let first = min(n, 128)
        var blocks = [(s..<(s + first - 2), s + first - 2)]
        if n > 128 { blocks.append(((s + 128)..<(s + n - 2), s + n - 2)) }
        return blocks
    }

    /// True when every block CRC matches.
    static func valid(_ bytes: [UInt8], _ blocks: [(Range<Int>, Int)]) -> Bool {
        blocks.allSatisfy { WMBusCRC.matches(bytes, $0.0, at: $0.1) }
    }

    /// The format of the whole of `bytes`: A or B when its length fits that format and all its CRCs
    /// match, else without CRCs when the L field counts the bytes after it, else A or B with a bad CRC
    /// (`crcOK` false) when only the length fits. Nil when no format has that length.
    public static func format(of bytes: [UInt8]) -> (format: WMBusFrameFormat, crcOK: Bool)? {
        guard let first = bytes.first, Int(first) >= minimumL else { return nil }
        let l = Int(first), n = bytes.count
        let isA = n == formatALength(l)
        if isA, valid(bytes, formatABlocks(l, at: 0)) { return (.a, true) }
        if n == l + 1 {
            let b = formatBBlocks(n, at: 0)
            if !b.isEmpty, valid(bytes, b) { return (.b, true) }
            return (.noCRC, true)
        }
        if isA { return (.a, false) }
        return nil
    }

    /// The frame without its CRCs (its L field set to count the bytes left), checked by `format(of:)`.
    /// A CRC that does not match throws, or under `ignoreChecksums` is only reported by `warn`.
    public static func strip(_ bytes: [UInt8], ignoreChecksums: Bool,
                             warn: (DecodeError) -> Void) throws(DecodeError) -> (frame: [UInt8], format: WMBusFrameFormat) {
        guard let (format, crcOK) = format(of: bytes) else {
            let l = bytes.first.map(Int.init) ?? 0
            throw DecodeError(.wmbusLink, at: 0, .malformed,
                              "L field \(l) fits neither \(l + 1) bytes (no CRCs, or format B) nor "
                              + "\(formatALength(l)) (format A): frame has \(bytes.count)")
        }
        let blocks: [(Range<Int>, Int)]
        switch format {
        case .noCRC: return (bytes, .noCRC)
        case .a: blocks = formatABlocks(Int(bytes[0]), at: 0)
        case .b: blocks = formatBBlocks(bytes.count, at: 0)
        }
        if !crcOK {
            for (range, at) in blocks where !WMBusCRC.matches(bytes, range, at: at) {
                let sent = UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
                let error = DecodeError(.wmbusLink, at: at, .checksum,
                                        "format \(format.rawValue) block CRC \(hex16(sent)), computed "
                                        + hex16(WMBusCRC.checksum(bytes, range)))
                if !ignoreChecksums { throw error }
                warn(error)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for (range, _) in blocks { out.append(contentsOf: bytes[range]) }
        out[0] = UInt8(truncatingIfNeeded: out.count - 1)
        return (out, format)
    }

    static func hex16(_ v: UInt16) -> String {
        "0x" + Hex.string([UInt8(v >> 8), UInt8(v & 0xFF)]).uppercased()
    }

    /// C fields a frame found without being asked for (`--protocol auto`) must have: the link functions
    /// of EN 13757-4 Table 20 (SND-NKE, SND-UD, SND-UD2, SND-NR, SND-IR, ACC-NR, ACC-DMD, REQ-UD1/2,
    /// ACK, CNF-IR, RSP-UD), with and without the FCB/FCV bits.
    static let linkFunctions: Set<UInt8> = [
        0x40, 0x43, 0x44, 0x46, 0x47, 0x48, 0x53, 0x73, 0x5A, 0x7A, 0x5B, 0x7B,
        0x00, 0x10, 0x20, 0x30, 0x06, 0x08, 0x18, 0x28, 0x38,
    ]

    /// Scans for a wireless M-Bus frame at `bytes[start]`. Nothing marks where one starts: when
    /// `alone` (only wM-Bus is asked for) frames follow each other, each as long as its L field and
    /// format say (format A when its CRCs match, else L + 1 bytes); otherwise only a whole line or
    /// frame record (`start` 0, `atEnd`) that is one frame with a link-layer C field is one.
    static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool, alone: Bool) -> ScanResult? {
        let l = Int(bytes[start])
        guard alone else {
            guard start == 0, atEnd, end - start >= 10, linkFunctions.contains(bytes[start + 1]),
                  let f = format(of: Array(bytes[start..<end])), f.crcOK else { return nil }
            return .frame(.wmbus, length: end - start)
        }
        guard l >= minimumL else {
            return .invalid(DecodeError(.wmbusLink, at: start, .malformed,
                                        "L field \(l) is below the minimum of \(minimumL)"), skip: 1)
        }
        let available = end - start
        let aLength = formatALength(l)
        if available >= aLength, valid(bytes, formatABlocks(l, at: start)) { return .frame(.wmbus, length: aLength) }
        if available < l + 1 { return .needMore }
        if available < aLength, available >= 12, !atEnd, WMBusCRC.matches(bytes, start..<(start + 10), at: start + 10) {
            return .needMore
        }
        return .frame(.wmbus, length: l + 1)
    }
}

/// The link-layer header of a wireless M-Bus frame (EN 13757-4 §12.5.2): L, C, the manufacturer and
/// the address (identification number, version, device type).
public struct WMBusLinkHeader: Sendable {
    public var c: UInt8
    /// The manufacturer field as sent (little-endian).
    public var manufacturer: UInt16
    /// The identification number's 4 bytes, most significant first (8 BCD digits).
    public var id: (UInt8, UInt8, UInt8, UInt8)
    public var version: UInt8
    public var deviceType: UInt8

    /// Reads the 9 bytes after L at `bytes[at]` (M, A as they are sent).
    init(_ bytes: [UInt8], addressAt at: Int, c: UInt8) {
        self.c = c
        manufacturer = UInt16(bytes[at + 1]) << 8 | UInt16(bytes[at])
        id = (bytes[at + 5], bytes[at + 4], bytes[at + 3], bytes[at + 2])
        version = bytes[at + 6]
        deviceType = bytes[at + 7]
    }

    /// `MAN-IIIIIIII-VV-TT`, the meter identity of wired M-Bus (ami-jsonl(5)).
    public var meter: String {
        MBusHeader.meterIdentity(manufacturer: manufacturer, id: id, version: version, medium: deviceType)
    }

    /// M and A as they are sent (8 bytes), the first half of the mode 5 IV.
    var addressBytes: [UInt8] {
        [UInt8(manufacturer & 0xFF), UInt8(manufacturer >> 8), id.3, id.2, id.1, id.0, version, deviceType]
    }
}
