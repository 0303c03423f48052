/// The messages of an SML file (SML 1.04 §7) as far as readings need them.
struct SMLMessage: Sendable {
    /// Message body tags (SML 1.04 §7.2, table "SML_MessageBody").
    enum Tag: UInt32 {
        case openRequest = 0x0100, openResponse = 0x0101
        case closeRequest = 0x0200, closeResponse = 0x0201
        case getProfilePackRequest = 0x0300, getProfilePackResponse = 0x0301
        case getProfileListRequest = 0x0400, getProfileListResponse = 0x0401
        case getProcParameterRequest = 0x0500, getProcParameterResponse = 0x0501
        case setProcParameterRequest = 0x0600
        case getListRequest = 0x0700, getListResponse = 0x0701
        case attentionResponse = 0xFF01
    }

    var transactionID: [UInt8]
    /// The body's tag as sent (it may be one `Tag` does not name).
    var tag: UInt32
    var body: SMLValue
    /// Offset of the message's first byte in the payload.
    var offset: Int

    /// Reads every message of an unwrapped payload. A message whose own CRC does not match is kept
    /// and reported through `warning` (some meters compute it wrongly while the frame's CRC holds).
    static func readAll(_ payload: [UInt8], warning: (DecodeError) -> Void) throws(DecodeError) -> [SMLMessage] {
        var c = ByteCursor(payload, layer: .sml)
        var messages: [SMLMessage] = []
        while !c.isAtEnd {
            let start = c.position
            let value = try SMLValue.read(&c)
            if case .endOfMessage = value { continue }     // stray end marks between messages
            // SML_Message: transactionId, groupNo, abortOnError, messageBody, crc16, endOfSmlMsg.
            guard let fields = value.elements, fields.count == 6, let id = fields[0].octetsValue,
                  let body = fields[3].elements, body.count == 2, let rawTag = body[0].integerValue, rawTag >= 0 else {
                throw DecodeError(.sml, at: start, .malformed, "message \(messages.count) is not an SML_Message")
            }
            guard fields[5] == .endOfMessage else {
                throw DecodeError(.sml, at: start, .malformed, "message \(messages.count) does not end with 00")
            }
            if case .unsigned(let sent, let width) = fields[4], width == 2 {
                // The CRC covers the message from its first byte to the CRC's TL byte (SML 1.04 §7.1).
                let crcStart = c.position - 4
                let computed = SMLTransport.x25.checksum(payload, start..<crcStart)
                if UInt16(sent).byteSwapped != computed {
                    warning(DecodeError(.sml, at: crcStart, .checksum,
                                        "message \(messages.count) CRC \(SMLTransport.hex16(UInt16(sent))), "
                                            + "computed \(SMLTransport.hex16(computed.byteSwapped))"))
                }
            }
            messages.append(SMLMessage(transactionID: id, tag: UInt32(truncatingIfNeeded: rawTag), body: body[1],
                                       offset: start))
        }
        return messages
    }
}

/// SML_Time (SML 1.04 §6.3.6): seconds since an unknown start (secIndex), or a UTC timestamp.
enum SMLTime: Sendable, Equatable {
    case secondIndex(UInt64)
    case timestamp(UTCTime)

    init?(_ value: SMLValue) {
        guard let parts = value.elements, parts.count == 2, let tag = parts[0].integerValue else { return nil }
        switch tag {
        case 1:
            guard case .unsigned(let s, _) = parts[1] else { return nil }
            self = .secondIndex(s)
        case 2:
            guard let s = parts[1].integerValue else { return nil }
            self = .timestamp(UTCTime(seconds: s))
        case 3:
            // SML_TimestampLocal: the UTC timestamp, then the local and season offsets (not needed here).
            guard let local = parts[1].elements, local.count == 3, let s = local[0].integerValue else { return nil }
            self = .timestamp(UTCTime(seconds: s))
        default:
            return nil
        }
    }

    var utc: UTCTime? {
        if case .timestamp(let t) = self { return t }
        return nil
    }
}

/// One entry of a GetList.Res value list (SML_ListEntry, SML 1.04 §7.2.12).
struct SMLListEntry: Sendable {
    var objectName: [UInt8]
    var status: UInt64?
    var valueTime: SMLTime?
    var unit: UInt8?
    var scaler: Int8?
    var value: SMLValue

    init?(_ v: SMLValue) {
        guard let f = v.elements, f.count == 7, let name = f[0].octetsValue else { return nil }
        objectName = name
        if case .unsigned(let s, _) = f[1] { status = s }
        valueTime = SMLTime(f[2])
        if case .unsigned(let u, _) = f[3], u <= 255 { unit = UInt8(u) }
        if let s = f[4].integerValue, (-128...127).contains(s) { scaler = Int8(s) }
        value = f[5]
    }
}

/// The server ID of an SML meter. Ten bytes in the form of DIN 43863-5 (a type byte, the medium
/// digit, three letters of the FLAG manufacturer code, the fabrication block and an eight-digit serial
/// number) are named as printed on the meter, `1DZG0042082910`; any other ID is named in hex.
struct SMLServerID: Sendable, Equatable {
    var bytes: [UInt8]

    var manufacturer: String? {
        guard bytes.count == 10, bytes[1] <= 9,
              bytes[2...4].allSatisfy({ (0x41...0x5A).contains($0) }) else { return nil }
        return String(decoding: bytes[2...4], as: UTF8.self)
    }

    var name: String {
        guard let m = manufacturer, bytes[5] <= 99 else { return Hex.string(bytes) }
        let serial = bytes[6...9].reduce(0) { $0 << 8 | Int($1) }
        guard serial <= 99_999_999 else { return Hex.string(bytes) }
        let block = bytes[5] < 10 ? "0\(bytes[5])" : "\(bytes[5])"
        let digits = String(serial)
        return "\(bytes[1])\(m)\(block)" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
