/// One HDLC frame of the DLMS MAC sublayer, frame format type 3 (IEC 62056-46 and DLMS UA 1000-2
/// Ed. 8 §8.4.1; ISO/IEC 13239 Annex H.4):
///
///     7E | format 1010 S LLL LLLLLLLL | destination | source | control | [HCS | information] | FCS | 7E
///
/// The length counts the bytes between the flags. HCS (over format to control) is present only
/// with a non-empty information field; FCS covers format to the end of the information field.
public struct HDLCFrame: Sendable, Equatable {
    /// The control field (IEC 62056-46, commands and responses; N(S), N(R) modulo 8, P/F bit 0x10).
    public enum Control: Sendable, Equatable {
        /// Information frame: send sequence N(S), receive sequence N(R), poll/final bit.
        case i(ns: UInt8, nr: UInt8, pf: Bool)
        /// Receive ready: acknowledges up to N(R) - 1 and, with P, asks for the next segment.
        case rr(nr: UInt8, pf: Bool)
        /// Receive not ready.
        case rnr(nr: UInt8, pf: Bool)
        /// Set normal response mode: opens the link.
        case snrm(pf: Bool)
        /// Disconnect: closes the link.
        case disc(pf: Bool)
        /// Unnumbered acknowledge of SNRM or DISC.
        case ua(pf: Bool)
        /// Disconnected mode: the secondary is not connected.
        case dm(pf: Bool)
        /// Frame reject: the secondary could not accept a frame.
        case frmr(pf: Bool)
        /// Unnumbered information (no sequence numbers).
        case ui(pf: Bool)

        /// The control of `byte`; nil for control values DLMS does not use (REJ, SREJ, …).
        public init?(byte: UInt8) {
            let pf = byte & 0x10 != 0
            let nr = byte >> 5
            if byte & 0x01 == 0 {
                self = .i(ns: (byte >> 1) & 0x07, nr: nr, pf: pf)
                return
            }
            switch byte & 0xEF {
            case 0x83: self = .snrm(pf: pf)
            case 0x43: self = .disc(pf: pf)
            case 0x63: self = .ua(pf: pf)
            case 0x0F: self = .dm(pf: pf)
            case 0x87: self = .frmr(pf: pf)
            case 0x03: self = .ui(pf: pf)
            default:
                switch byte & 0x0F {
                case 0x01: self = .rr(nr: nr, pf: pf)
                case 0x05: self = .rnr(nr: nr, pf: pf)
                default: return nil
                }
            }
        }

        /// The control byte; sequence numbers are taken modulo 8.
        public var byte: UInt8 {
            func bit(_ pf: Bool) -> UInt8 { pf ? 0x10 : 0 }
            switch self {
            case .i(let ns, let nr, let pf): return (nr & 7) << 5 | bit(pf) | (ns & 7) << 1
            case .rr(let nr, let pf): return (nr & 7) << 5 | bit(pf) | 0x01
            case .rnr(let nr, let pf): return (nr & 7) << 5 | bit(pf) | 0x05
            case .snrm(let pf): return 0x83 | bit(pf)
            case .disc(let pf): return 0x43 | bit(pf)
            case .ua(let pf): return 0x63 | bit(pf)
            case .dm(let pf): return 0x0F | bit(pf)
            case .frmr(let pf): return 0x87 | bit(pf)
            case .ui(let pf): return 0x03 | bit(pf)
            }
        }

        /// `I`, `RR`, `RNR`, `SNRM`, `DISC`, `UA`, `DM`, `FRMR`, `UI`.
        public var name: String {
            switch self {
            case .i: "I"
            case .rr: "RR"
            case .rnr: "RNR"
            case .snrm: "SNRM"
            case .disc: "DISC"
            case .ua: "UA"
            case .dm: "DM"
            case .frmr: "FRMR"
            case .ui: "UI"
            }
        }

        /// The poll (command) or final (response) bit.
        public var pollFinal: Bool {
            switch self {
            case .i(_, _, let pf), .rr(_, let pf), .rnr(_, let pf): pf
            case .snrm(let pf), .disc(let pf), .ua(let pf), .dm(let pf), .frmr(let pf), .ui(let pf): pf
            }
        }

        /// N(S) of an I frame.
        public var ns: UInt8? {
            if case .i(let ns, _, _) = self { return ns }
            return nil
        }

        /// N(R) of an I, RR or RNR frame.
        public var nr: UInt8? {
            switch self {
            case .i(_, let nr, _), .rr(let nr, _), .rnr(let nr, _): nr
            default: nil
            }
        }
    }

    /// The opening and closing flag.
    public static let flag: UInt8 = 0x7E
    /// The largest frame length the 11-bit length sub-field can hold.
    public static let maxLength = 0x7FF
    /// The LLC header on the first segment of an APDU sent by the client (IEC 62056-46, LLC
    /// sublayer: destination LSAP E6, source LSAP E6, quality 00).
    public static let llcCommand: [UInt8] = [0xE6, 0xE6, 0x00]
    /// The LLC header on the first segment of an APDU sent by the server (source LSAP E7).
    public static let llcResponse: [UInt8] = [0xE6, 0xE7, 0x00]

    public var destination: HDLCAddress
    public var source: HDLCAddress
    public var control: Control
    /// The segmentation bit S: more segments of the same information field follow.
    public var segmented: Bool
    /// The information field (with the LLC header where the frame carries one).
    public var information: [UInt8]

    public init(destination: HDLCAddress, source: HDLCAddress, control: Control, segmented: Bool = false,
                information: [UInt8] = []) {
        self.destination = destination
        self.source = source
        self.control = control
        self.segmented = segmented
        self.information = information
    }

    /// The largest information field a frame between these addresses can carry.
    public static func maxInformationLength(destination: HDLCAddress, source: HDLCAddress) -> Int {
        maxLength - (2 + destination.size + source.size + 1 + 2 + 2)
    }

    /// The frame as sent, flags included. Throws `invalidArgument` when the information field does
    /// not fit the 11-bit length.
    public func encoded() throws(DLMSLinkError) -> [UInt8] {
        let headerLength = 2 + destination.size + source.size + 1
        let length = headerLength + (information.isEmpty ? 0 : 2 + information.count) + 2
        guard length <= HDLCFrame.maxLength else {
            throw .invalidArgument("an information field of \(information.count) bytes does not fit an HDLC frame "
                                   + "(at most \(HDLCFrame.maxInformationLength(destination: destination, source: source)))")
        }
        var out: [UInt8] = []
        out.reserveCapacity(length + 2)
        out.append(HDLCFrame.flag)
        out.append(0xA0 | (segmented ? 0x08 : 0) | UInt8(length >> 8))
        out.append(UInt8(truncatingIfNeeded: length))
        out += destination.bytes
        out += source.bytes
        out.append(control.byte)
        if !information.isEmpty {
            HDLCFrameCheck.append(to: &out, from: 1)
            out += information
        }
        HDLCFrameCheck.append(to: &out, from: 1)
        out.append(HDLCFrame.flag)
        return out
    }

    /// What the header says about a frame starting at an opening flag.
    struct Header {
        var start: Int
        /// The frame length sub-field: bytes between the flags.
        var length: Int
        var segmented: Bool
        var destination: HDLCAddress
        var source: HDLCAddress
        var control: UInt8
        var controlAt: Int
        /// Where the information field starts, nil without one.
        var informationAt: Int?
        /// Flags included.
        var total: Int { length + 2 }
        var fcsAt: Int { start + length - 1 }
    }

    /// Reads the header of the frame at the cursor and checks its HCS when the bytes are there.
    static func header(_ c: inout ByteCursor) throws(DecodeError) -> Header {
        let start = c.position
        let flag = try c.u8()
        guard flag == HDLCFrame.flag else {
            throw c.error(.malformed, "\(Hex.byte(flag)) where a frame's opening flag 0x7E belongs", at: c.base + start)
        }
        let formatAt = c.offset
        let format = try c.uintBE(2)
        guard format & 0xF000 == 0xA000 else {
            throw c.error(.malformed, format >> 8 == UInt64(HDLCFrame.flag)
                          ? "flag 0x7E without a frame between" : "frame format \(Hex.byte(UInt8(format >> 8))): not type 3 (0xA)",
                          at: formatAt)
        }
        let length = Int(format & 0x07FF)
        guard length >= 7 else {
            throw c.error(.malformed, "frame length \(length) is below the minimum of 7", at: formatAt)
        }
        let destination = try HDLCAddress.read(&c)
        let source = try HDLCAddress.read(&c)
        let controlAt = c.offset
        let control = try c.u8()
        let headerLength = c.position - start - 1
        var informationAt: Int? = nil
        if length != headerLength + 2 {
            guard length > headerLength + 4 else {
                throw c.error(.malformed, "frame length \(length) does not fit its \(headerLength)-byte header "
                              + "and check sequences", at: formatAt)
            }
            let hcsAt = c.position
            let hcs = UInt16(try c.uintLE(2))
            let computed = HDLCFrameCheck.checksum(c.bytes, (start + 1)..<hcsAt)
            guard hcs == computed else {
                throw c.error(.checksum, "HCS \(hex16(hcs)), computed \(hex16(computed))", at: c.base + hcsAt)
            }
            informationAt = c.position
        }
        return Header(start: start, length: length, segmented: format & 0x0800 != 0, destination: destination,
                      source: source, control: control, controlAt: controlAt, informationAt: informationAt)
    }

    /// Checks the FCS and closing flag of a frame whose bytes are all at hand.
    static func checkTrailer(_ c: ByteCursor, _ h: Header) throws(DecodeError) {
        let closeAt = h.start + h.total - 1
        guard c.bytes[closeAt] == HDLCFrame.flag else {
            throw c.error(.malformed, "no closing flag after a frame length of \(h.length) "
                          + "(\(Hex.byte(c.bytes[closeAt])) there)", at: c.base + closeAt)
        }
        let fcs = UInt16(c.bytes[h.fcsAt]) | UInt16(c.bytes[h.fcsAt + 1]) << 8
        let computed = HDLCFrameCheck.checksum(c.bytes, (h.start + 1)..<h.fcsAt)
        guard fcs == computed else {
            throw c.error(.checksum, "FCS \(hex16(fcs)), computed \(hex16(computed))", at: c.base + h.fcsAt)
        }
    }

    /// Finds the frame starting at `bytes[start]` by its length field (never by looking for the
    /// closing flag, which can also be a byte of the FCS) and checks its HCS, FCS and closing flag.
    /// `end` is one past the last byte read so far; `atEnd` says no more will come. A frame that
    /// fails its FCS is skipped whole.
    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool) -> LinkScan {
        var c = ByteCursor(bytes, start: start, end: end, layer: .hdlc)
        let h: Header
        do {
            h = try header(&c)
        } catch {
            if case .needMore = error.kind { return atEnd ? .invalid(error, skip: 1) : .needMore }
            return .invalid(error, skip: 1)
        }
        let available = c.end - start
        guard available >= h.total else {
            return atEnd ? .invalid(c.error(.needMore(count: h.total - available),
                                            "frame cut short: \(available) of \(h.total) bytes", at: start), skip: 1)
                         : .needMore
        }
        do {
            try checkTrailer(c, h)
        } catch {
            // A bad FCS behind a good header and closing flag: the length was right, skip the frame.
            return .invalid(error, skip: error.kind == .checksum ? h.total : 1)
        }
        return .frame(length: h.total)
    }

    /// Decodes the frame that starts at `bytes[start]` (as found by `scan`). Error offsets are
    /// positions in `bytes`.
    public init(decoding bytes: [UInt8], at start: Int = 0) throws(DecodeError) {
        var c = ByteCursor(bytes, start: start, layer: .hdlc)
        let h = try HDLCFrame.header(&c)
        try c.seek(to: start)
        try c.skip(h.total)
        try HDLCFrame.checkTrailer(c, h)
        guard let control = Control(byte: h.control) else {
            throw c.error(.unsupported, "control field \(Hex.byte(h.control)) (REJ, SREJ and other kinds DLMS does not use)",
                          at: h.controlAt)
        }
        self.destination = h.destination
        self.source = h.source
        self.control = control
        self.segmented = h.segmented
        self.information = h.informationAt.map { Array(bytes[$0..<h.fcsAt]) } ?? []
    }
}

/// `0x1A2B`, for check sequences in messages.
func hex16(_ v: UInt16) -> String {
    "0x" + Hex.string([UInt8(v >> 8), UInt8(truncatingIfNeeded: v)]).uppercased()
}
