/// Finds wired M-Bus frame boundaries in a byte stream (EN 13757-2 §5.1, FT 1.2 formats):
/// single character `E5`, short frame `10 C A CS 16`, control and long frames `68 L L 68 … CS 16`.
/// The checksum is left to the decoder; the scanner checks structure only.
public enum MBusFraming {
    /// Whether `b` starts a frame: 0xE5, 0x10 or 0x68 (a comparison, not a set lookup: this runs at
    /// every frame).
    @inline(__always)
    public static func isStartByte(_ b: UInt8) -> Bool { b == 0x68 || b == 0xE5 || b == 0x10 }

    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool) -> ScanResult {
        let available = end - start
        func short(_ needed: Int) -> ScanResult {
            atEnd ? .invalid(DecodeError(.mbusLink, at: start, .needMore(count: needed - available),
                                         "frame cut short: \(available) of \(needed) bytes"), skip: 1)
                  : .needMore
        }
        switch bytes[start] {
        case 0xE5:
            return .frame(.mbus, length: 1)
        case 0x10:
            guard available >= 5 else { return short(5) }
            guard bytes[start + 4] == 0x16 else {
                return .invalid(DecodeError(.mbusLink, at: start + 4, .malformed,
                                            "short frame without stop byte 0x16"), skip: 1)
            }
            return .frame(.mbus, length: 5)
        case 0x68:
            guard available >= 4 else { return short(4) }
            let l1 = Int(bytes[start + 1]), l2 = Int(bytes[start + 2])
            guard bytes[start + 3] == 0x68 else {
                return .invalid(DecodeError(.mbusLink, at: start + 3, .malformed,
                                            "second start byte is \(Hex.byte(bytes[start + 3])), not 0x68"), skip: 1)
            }
            guard l1 == l2 else {
                return .invalid(DecodeError(.mbusLink, at: start + 1, .malformed,
                                            "length fields differ (\(l1) and \(l2))"), skip: 1)
            }
            guard l1 >= 3 else {
                return .invalid(DecodeError(.mbusLink, at: start + 1, .malformed,
                                            "length \(l1) is below the minimum of 3"), skip: 1)
            }
            let total = l1 + 6
            guard available >= total else { return short(total) }
            guard bytes[start + total - 1] == 0x16 else {
                return .invalid(DecodeError(.mbusLink, at: start + total - 1, .malformed,
                                            "no stop byte 0x16 after \(l1) bytes of data"), skip: 1)
            }
            return .frame(.mbus, length: total)
        default:
            return .invalid(DecodeError(.mbusLink, at: start, .malformed, "not an M-Bus start byte"), skip: 1)
        }
    }

    /// The checksum of EN 13757-2: the arithmetic sum, modulo 256, of `range` (C, A, CI and the data).
    public static func checksum(_ bytes: [UInt8], _ range: Range<Int>) -> UInt8 {
        var sum: UInt8 = 0
        for i in range { sum &+= bytes[i] }
        return sum
    }

    /// A short frame `10 C A CS 16` (EN 13757-2 §5.1): SND_NKE, REQ_UD2.
    public static func shortFrame(control: UInt8, address: UInt8) -> [UInt8] {
        [0x10, control, address, control &+ address, 0x16]
    }

    /// A long frame `68 L L 68 C A CI data CS 16` (EN 13757-2 §5.1). The length field holds
    /// 3 + the data's length modulo 256: more than 252 bytes of data make a frame no slave takes.
    public static func longFrame(control: UInt8, address: UInt8, ci: UInt8, data: [UInt8]) -> [UInt8] {
        let l = UInt8(truncatingIfNeeded: data.count + 3)
        var f: [UInt8] = [0x68, l, l, 0x68, control, address, ci] + data
        f.append(checksum(f, 4..<f.count))
        f.append(0x16)
        return f
    }

    /// True when `frame` is one whole frame (as `scan` finds it) whose checksum is right.
    public static func isIntact(_ frame: [UInt8]) -> Bool {
        guard !frame.isEmpty, case .frame(_, let length) = scan(frame, at: 0, end: frame.count, atEnd: true),
              length == frame.count else { return false }
        switch frame[0] {
        case 0x10: return checksum(frame, 1..<3) == frame[3]
        case 0x68: return checksum(frame, 4..<(frame.count - 2)) == frame[frame.count - 2]
        default: return true
        }
    }
}
