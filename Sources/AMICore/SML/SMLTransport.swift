/// The SML transport protocol version 1 (SML 1.04 §8): a frame starts with the escape sequence
/// `1B1B1B1B` and `01010101`, ends with `1B1B1B1B 1A pp c1 c2` (pp: padding bytes before it, c1 c2:
/// CRC-16 over the whole frame up to pp), and is made of 4-byte blocks, so that an escape sequence
/// always starts at a multiple of 4 from the frame's start; data that would read `1B1B1B1B` there is
/// sent twice.
public enum SMLTransport {
    static let escape: [UInt8] = [0x1B, 0x1B, 0x1B, 0x1B]
    static let version1: [UInt8] = [0x01, 0x01, 0x01, 0x01]
    /// The longest frame looked for; past it without an end sequence the start is given up (a
    /// stream without ends must not be buffered without bound).
    public static let maximumFrameLength = 1 << 16

    /// CRC-16/X-25 (the frame and message CRC of SML 1.04 §8.1 and §7.1), sent low byte first.
    static let x25 = ReflectedCRC16(reflectedPolynomial: 0x8408, initial: 0xFFFF, finalXOR: 0xFFFF)
    /// CRC-16/KERMIT, sent high byte first: what some implementations compute instead.
    static let kermit = ReflectedCRC16(reflectedPolynomial: 0x8408, initial: 0, finalXOR: 0)

    /// The SML data of a frame, escapes removed, and where each of its bytes came from.
    public struct Unwrapped: Sendable {
        /// The messages' bytes, without the start sequence, padding and end sequence.
        public var payload: [UInt8]
        /// Payload offsets at which an escaped `1B1B1B1B` was taken out (each moved later bytes back by 4).
        var unescapedAt: [Int]
        /// True when the CRC matched only as CRC-16/KERMIT.
        public var kermitCRC: Bool

        /// The frame offset of payload byte `i`.
        func frameOffset(_ i: Int) -> Int {
            8 + i + 4 * unescapedAt.prefix { $0 <= i }.count
        }
    }

    /// Finds the frame that starts at `bytes[start]` (whose first byte is 0x1B): its length once the
    /// end sequence is in, `needMore` before, nil when the bytes are not a start sequence, and
    /// `invalid` for a frame cut off by a new start, an unknown escape or no end within
    /// `maximumFrameLength`.
    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool) -> ScanResult? {
        let available = end - start
        for (i, b) in (escape + version1).enumerated() where i < available {
            if bytes[start + i] != b { return nil }
        }
        if available < 8 { return atEnd ? nil : .needMore }
        var p = start + 8
        while true {
            if p - start > maximumFrameLength {
                return .invalid(DecodeError(.smlTransport, at: start, .malformed,
                                            "no end sequence within \(maximumFrameLength) bytes of the start"),
                                skip: 8)
            }
            guard p + 8 <= end else { return .needMore }
            guard bytes[p..<p + 4].elementsEqual(escape) else {
                // An end sequence off the 4-byte blocks: a byte was lost or added on the way.
                for k in 1...3 where p + k + 8 <= end && bytes[p + k..<p + k + 4].elementsEqual(escape)
                    && bytes[p + k + 4] == 0x1A {
                    return .invalid(DecodeError(.smlTransport, at: p + k, .malformed,
                                                "end sequence off the 4-byte blocks (a byte lost or added)"),
                                    skip: p + k + 8 - start)
                }
                p += 4
                continue
            }
            let next = bytes[p + 4..<p + 8]
            if next.elementsEqual(escape) { p += 8; continue }
            if next.first == 0x1A { return .frame(.sml, length: p + 8 - start) }
            if next.elementsEqual(version1) {
                return .invalid(DecodeError(.smlTransport, at: start, .malformed,
                                            "frame cut off by a new start sequence at byte \(p - start)"),
                                skip: p - start)
            }
            return .invalid(DecodeError(.smlTransport, at: p, .unsupported,
                                        "escape sequence 1B1B1B1B \(Hex.string(next)) is not version 1 data"),
                            skip: p + 8 - start)
        }
    }

    /// The payload of a whole frame as found by `scan`: checks the CRC (X-25, or KERMIT as a
    /// warning; a mismatch is an error unless `ignoreCRC`, then a warning) and the padding, and
    /// removes the escapes.
    public static func unwrap(_ frame: [UInt8], ignoreCRC: Bool,
                              warning: (DecodeError) -> Void) throws(DecodeError) -> Unwrapped {
        let n = frame.count
        guard n >= 16, n % 4 == 0, frame[0..<4].elementsEqual(escape), frame[4..<8].elementsEqual(version1),
              frame[(n - 8)..<(n - 4)].elementsEqual(escape), frame[n - 4] == 0x1A else {
            throw DecodeError(.smlTransport, at: 0, .malformed,
                              "not an SML frame: \(n) bytes without start and end sequences on 4-byte blocks")
        }
        let sent = UInt16(frame[n - 1]) << 8 | UInt16(frame[n - 2])
        let computed = x25.checksum(frame, 0..<(n - 2))
        var kermit = false
        if sent != computed {
            if kermit16(frame, n) {
                kermit = true
                warning(DecodeError(.smlTransport, at: n - 2, .checksum,
                                    "CRC matches only as CRC-16/KERMIT, not X-25"))
            } else {
                let e = DecodeError(.smlTransport, at: n - 2, .checksum,
                                    "CRC \(hex16(sent)), computed \(hex16(computed))")
                guard ignoreCRC else { throw e }
                warning(e)
            }
        }
        let padding = Int(frame[n - 3])
        if padding > 3 {
            warning(DecodeError(.smlTransport, at: n - 3, .malformed, "padding count \(padding) is more than 3"))
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(n - 16)
        var unescapedAt: [Int] = []
        var p = 8
        while p < n - 8 {
            payload.append(contentsOf: frame[p..<p + 4])
            if frame[p..<p + 4].elementsEqual(escape) {
                // scan() only ends a frame at an end sequence, so this is an escaped 1B1B1B1B.
                unescapedAt.append(payload.count)
                p += 4
            }
            p += 4
        }
        guard payload.count >= padding, payload.suffix(padding).allSatisfy({ $0 == 0 }) else {
            throw DecodeError(.smlTransport, at: n - 8 - padding, .malformed, "padding bytes are not 00")
        }
        payload.removeLast(padding)
        return Unwrapped(payload: payload, unescapedAt: unescapedAt, kermitCRC: kermit)
    }

    private static func kermit16(_ frame: [UInt8], _ n: Int) -> Bool {
        kermit.checksum(frame, 0..<(n - 2)) == UInt16(frame[n - 2]) << 8 | UInt16(frame[n - 1])
    }

    static func hex16(_ v: UInt16) -> String { "0x" + Hex.string([UInt8(v >> 8), UInt8(v & 0xFF)]) }
}
