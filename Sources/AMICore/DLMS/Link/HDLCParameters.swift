/// The HDLC parameters negotiated in the information fields of SNRM and UA (IEC 62056-46, HDLC
/// parameter negotiation; ISO/IEC 13239 parameter field): format identifier 0x81, group 0x80, then
/// parameters 0x05 maximum information field length transmit, 0x06 … receive, 0x07 window size
/// transmit, 0x08 … receive, each a tag, a length and a 1-, 2- or 4-byte big-endian value.
/// Transmit and receive are as seen by the sender of the frame. A parameter left out keeps its
/// default: 128 bytes and a window of 1.
public struct HDLCParameters: Sendable, Equatable {
    /// Largest information field the sender will transmit.
    public var maxInfoTransmit: Int
    /// Largest information field the sender can receive.
    public var maxInfoReceive: Int
    /// Frames the sender will transmit before waiting for an acknowledgement (1 to 7).
    public var windowTransmit: Int
    /// Frames the sender can receive before it acknowledges (1 to 7).
    public var windowReceive: Int

    public init(maxInfoTransmit: Int = 128, maxInfoReceive: Int = 128, windowTransmit: Int = 1, windowReceive: Int = 1) {
        self.maxInfoTransmit = maxInfoTransmit
        self.maxInfoReceive = maxInfoReceive
        self.windowTransmit = windowTransmit
        self.windowReceive = windowReceive
    }

    static let formatIdentifier: UInt8 = 0x81
    static let groupIdentifier: UInt8 = 0x80

    /// Parses an SNRM or UA information field; an empty one means all defaults. Unknown parameters
    /// are skipped. `base` is the absolute offset of `info[0]`, for errors.
    public init(decoding info: [UInt8], base: Int = 0) throws(DecodeError) {
        self.init()
        guard !info.isEmpty else { return }
        var c = ByteCursor(info, base: base, layer: .hdlc)
        let format = try c.u8()
        guard format == HDLCParameters.formatIdentifier else {
            throw c.error(.malformed, "parameter format identifier \(Hex.byte(format)), not 0x81", at: base)
        }
        let group = try c.u8()
        guard group == HDLCParameters.groupIdentifier else {
            throw c.error(.malformed, "parameter group identifier \(Hex.byte(group)), not 0x80", at: base + 1)
        }
        let groupLength = Int(try c.u8())
        guard groupLength <= c.remaining else {
            throw c.error(.malformed, "parameter group of \(groupLength) bytes, \(c.remaining) present")
        }
        let groupEnd = c.position + groupLength
        while c.position < groupEnd {
            let tagAt = c.offset
            let tag = try c.u8()
            let length = Int(try c.u8())
            guard length <= groupEnd - c.position else {
                throw c.error(.malformed, "parameter \(Hex.byte(tag)) of \(length) bytes overruns its group", at: tagAt)
            }
            guard (0x05...0x08).contains(tag) else {
                try c.skip(length)
                continue
            }
            guard length == 1 || length == 2 || length == 4 else {
                throw c.error(.malformed, "parameter \(Hex.byte(tag)) of \(length) bytes (1, 2 or 4 are allowed)", at: tagAt)
            }
            let value = Int(try c.uintBE(length))
            if tag <= 0x06 {
                guard value >= 1 else { throw c.error(.malformed, "maximum information field length 0", at: tagAt) }
            } else {
                guard (1...7).contains(value) else {
                    throw c.error(.malformed, "window size \(value) outside 1 to 7", at: tagAt)
                }
            }
            switch tag {
            case 0x05: maxInfoTransmit = value
            case 0x06: maxInfoReceive = value
            case 0x07: windowTransmit = value
            default: windowReceive = value
            }
        }
    }

    /// The information field with all four parameters, each in the fewest of 1, 2 or 4 bytes.
    public var encoded: [UInt8] {
        var group: [UInt8] = []
        for (tag, value) in [(0x05, maxInfoTransmit), (0x06, maxInfoReceive), (0x07, windowTransmit), (0x08, windowReceive)] {
            let v = UInt32(clamping: value)
            let size = v < 0x100 ? 1 : v < 0x10000 ? 2 : 4
            group.append(UInt8(tag))
            group.append(UInt8(size))
            for i in (0..<size).reversed() { group.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * i))) }
        }
        return [HDLCParameters.formatIdentifier, HDLCParameters.groupIdentifier, UInt8(group.count)] + group
    }
}
