/// What a frame scanner says about the bytes at a candidate start position.
public enum ScanResult: Sendable, Equatable {
    /// A complete frame of `length` bytes of `protocolID` starts here (its checksum is checked by the
    /// decoder).
    case frame(ProtocolID, length: Int)
    /// The bytes so far may begin a frame; more are needed to know.
    case needMore
    /// Not a frame: report `error` and move on by `skip` bytes (1 to resynchronise on the next byte;
    /// more when the scanner recognised a whole frame that is bad).
    case invalid(DecodeError, skip: Int)
}

/// What a decoder needs to know about the frame in hand besides its bytes.
public struct FrameContext: Sendable {
    /// The input (`file:NAME`, `-`) or the `source` of the `frame` record.
    public var source: String
    /// 0-based index of this frame within its input.
    public var frameIndex: Int
    /// When the frame was received (from a `frame` record), if known.
    public var receiveTime: UTCTime?
    /// The meter named by a `frame` record, if any.
    public var meterHint: String?
    /// The deciphered APDU a `frame` record carried beside a ciphered one (`plain`).
    public var plain: [UInt8]?
    /// The `dir` of a `frame` record, if it has one.
    public var direction: FrameRecord.Direction?
    /// The device profile a `frame` record names (Modbus).
    public var profile: String?
    public var options: DecodeOptions

    public init(source: String, frameIndex: Int, receiveTime: UTCTime? = nil, meterHint: String? = nil,
                plain: [UInt8]? = nil, direction: FrameRecord.Direction? = nil, profile: String? = nil,
                options: DecodeOptions = DecodeOptions()) {
        self.source = source
        self.frameIndex = frameIndex
        self.receiveTime = receiveTime
        self.meterHint = meterHint
        self.plain = plain
        self.direction = direction
        self.profile = profile
        self.options = options
    }

    public func provenance(_ p: ProtocolID) -> Provenance {
        Provenance(protocolID: p, source: source, frame: frameIndex)
    }
}

/// Options that change how frames are found and decoded.
public struct DecodeOptions: Sendable, Equatable {
    /// Protocols to look for; all of them for `--protocol auto`.
    public var protocols: Set<ProtocolID> = Set(ProtocolID.decodable)
    /// Decode frames whose checksum, CRC or BCC does not match; the mismatch becomes a warning.
    public var ignoreChecksums = false
    /// Zone of meter clocks that keep local time without saying which (M-Bus type F/G/I/J dates,
    /// IEC 62056-21 dates). UTC by default.
    public var meterTimeZone: LocalTimeZone = .utc
    /// Zone of DSMR timestamps that carry no W/S suffix. Europe/Amsterdam by default.
    public var dsmrTimeZone: LocalTimeZone = LocalTimeZone("Europe/Amsterdam") ?? .utc
    /// Keys for ciphered DLMS APDUs that come without their plaintext.
    public var dlmsSecurity: SecurityContext? = nil
    /// Keys of wireless M-Bus meters, for enciphered frames.
    public var wmbusKeys = WMBusKeys()
    /// The device profile Modbus responses are read with, whatever their frame records name.
    public var modbusProfile: ModbusProfile? = nil

    public init() {}
}

/// What the frames of one input share while it is decoded: DLMS responses are read with their
/// requests and segments are joined.
public struct StreamState: Sendable {
    public var dlms: DLMSStreamDecoder
    public var wmbus = WMBusStreamState()
    public var modbus = ModbusStreamState()
    /// The wired M-Bus record layouts seen so far.
    let mbusLayouts = MBusLayoutCache()

    public init(options: DecodeOptions) {
        dlms = DLMSStreamDecoder(security: options.dlmsSecurity)
    }
}

extension ScanResult {
    /// A link-layer scan as a frame of DLMS.
    init(_ scan: LinkScan) {
        switch scan {
        case .frame(let length): self = .frame(.dlms, length: length)
        case .needMore: self = .needMore
        case .invalid(let e, let skip): self = .invalid(e, skip: skip)
        }
    }
}

/// The frame scanners and decoders by protocol: the one place that maps a start byte to a scanner
/// and a protocol to its decoder.
public enum Codecs {
    /// Scans for a frame of an enabled protocol starting at `bytes[start]`; nil when that byte starts
    /// no frame of any enabled protocol.
    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool,
                            protocols: Set<ProtocolID>) -> ScanResult? {
        let b = bytes[start]
        // Nothing marks the start of a wM-Bus frame: see WMBusFraming.scan.
        if protocols.contains(.wmbus),
           let r = WMBusFraming.scan(bytes, at: start, end: end, atEnd: atEnd, alone: protocols == [.wmbus]) {
            return r
        }
        if MBusFraming.isStartByte(b), protocols.contains(.mbus) {
            return MBusFraming.scan(bytes, at: start, end: end, atEnd: atEnd)
        }
        if (protocols.contains(.dsmr) || protocols.contains(.iec62056_21)), TextTelegramFraming.startBytes.contains(b) {
            return TextTelegramFraming.scan(bytes, at: start, end: end, atEnd: atEnd, protocols: protocols)
        }
        if protocols.contains(.sml), b == 0x1B {
            return SMLTransport.scan(bytes, at: start, end: end, atEnd: atEnd)
        }
        if protocols.contains(.dlms) {
            if b == 0x7E { return ScanResult(HDLCFrame.scan(bytes, at: start, end: end, atEnd: atEnd)) }
            // The wrapper's version field, 0x0001.
            if b == 0x00, start + 1 >= end || bytes[start + 1] == 0x01 {
                return ScanResult(WrapperFrame.scan(bytes, at: start, end: end, atEnd: atEnd))
            }
            // A bare APDU, without link layer: only asked for by name, and only as the whole of a
            // hex line or frame record (nothing delimits an APDU in a byte stream).
            if protocols == [.dlms], atEnd, APDU.startTags.contains(b) {
                return .frame(.dlms, length: end - start)
            }
        }
        // Nothing delimits a Modbus ADU in a byte stream either (RTU frames end by silence): only
        // asked for by name, as the whole of a hex line or frame record.
        if protocols == [.modbus], atEnd {
            return .frame(.modbus, length: end - start)
        }
        return nil
    }

    /// Decodes one complete frame found by `scan`, appending its records. Errors and warnings carry
    /// offsets relative to the frame's first byte. `state` carries what a stream's frames share
    /// (DLMS and Modbus requests and responses).
    public static func decode<E: RecordEmitter>(_ frame: [UInt8], as protocolID: ProtocolID, context: FrameContext,
                                                state: inout StreamState, into out: inout E) throws(DecodeError) {
        switch protocolID {
        case .dlms: try out.collect { (o: inout DecodeOutput) throws(DecodeError) in
            try state.dlms.decode(frame, context: context, plain: context.plain, into: &o)
        }
        case .mbus: try MBusDecoder.decode(frame, context: context, layouts: state.mbusLayouts, into: &out)
        case .wmbus: try WMBusDecoder.decode(frame, context: context, state: &state.wmbus, into: &out)
        case .sml: try SMLDecoder.decode(frame, context: context, into: &out)
        case .dsmr: try out.collect { (o: inout DecodeOutput) throws(DecodeError) in
            try DSMRDecoder.decode(frame, context: context, into: &o)
        }
        case .iec62056_21: try out.collect { (o: inout DecodeOutput) throws(DecodeError) in
            try IEC62056_21Decoder.decode(frame, context: context, into: &o)
        }
        case .modbus: try state.modbus.decode(frame, context: context, into: &out)
        case .nem12, .espi:
            throw DecodeError(.framing, at: 0, .unsupported, "\(protocolID.rawValue) is a file format, not framed")
        }
    }
}
