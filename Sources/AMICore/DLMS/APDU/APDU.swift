/// Tags of the APDUs this library reads and writes (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, the
/// COSEMpdu CHOICE; ACSE tags from ISO/IEC 8650-1).
enum APDUTag {
    static let initiateRequest: UInt8 = 1
    static let initiateResponse: UInt8 = 8
    static let confirmedServiceError: UInt8 = 14
    static let dataNotification: UInt8 = 15
    static let aarq: UInt8 = 0x60
    static let aare: UInt8 = 0x61
    static let rlrq: UInt8 = 0x62
    static let rlre: UInt8 = 0x63
    static let getRequest: UInt8 = 192
    static let setRequest: UInt8 = 193
    static let eventNotificationRequest: UInt8 = 194
    static let actionRequest: UInt8 = 195
    static let getResponse: UInt8 = 196
    static let setResponse: UInt8 = 197
    static let actionResponse: UInt8 = 199
    static let exceptionResponse: UInt8 = 216
    static let generalGloCiphering: UInt8 = 219
    static let generalDedCiphering: UInt8 = 220
}

/// A DLMS/COSEM application-layer PDU, LN referencing (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3):
/// the ACSE association APDUs (BER) and the xDLMS APDUs (A-XDR), plain or ciphered.
///
/// `APDU.parse` reads one complete APDU; `encoded()` writes it back. Every APDU that parses can be
/// encoded, and plain APDUs encode to the bytes they were parsed from when those used the shortest
/// length forms. Ciphered APDUs are opened with `SecurityContext.decrypt`.
public enum APDU: Sendable, Hashable {
    /// The first bytes of the APDUs `parse` reads.
    public static let startTags: Set<UInt8> = [
        APDUTag.dataNotification, APDUTag.aarq, APDUTag.aare, APDUTag.rlrq, APDUTag.rlre, APDUTag.getRequest,
        APDUTag.setRequest, APDUTag.eventNotificationRequest, APDUTag.actionRequest, APDUTag.getResponse,
        APDUTag.setResponse, APDUTag.actionResponse, APDUTag.exceptionResponse, APDUTag.generalGloCiphering,
        APDUTag.generalDedCiphering, 200, 201, 202, 203, 204, 205, 207, 208, 209, 210, 211, 212, 213, 215,
    ]

    case aarq(AARQ)
    case aare(AARE)
    case releaseRequest(Release)
    case releaseResponse(Release)
    case initiateRequest(InitiateRequest)
    case initiateResponse(InitiateResponse)
    case confirmedServiceError(ConfirmedServiceError)
    case getRequest(GetRequest)
    case getResponse(GetResponse)
    case setRequest(SetRequest)
    case setResponse(SetResponse)
    case actionRequest(ActionRequest)
    case actionResponse(ActionResponse)
    case eventNotification(EventNotification)
    case dataNotification(DataNotification)
    case exceptionResponse(ExceptionResponse)
    /// A glo- or ded- service-specific ciphered APDU.
    case ciphered(CipheredAPDU)
    /// general-glo-ciphering or general-ded-ciphering.
    case generalCiphered(GeneralCipheredAPDU)

    /// Parses `bytes` as exactly one APDU. Errors are at layer `dlms-app` (`dlms-security` inside a
    /// security header), with offsets into `bytes` plus `base`.
    public static func parse(_ bytes: [UInt8], base: Int = 0) throws(DecodeError) -> APDU {
        var c = ByteCursor(bytes, base: base, layer: .dlmsApplication)
        let apdu = try decode(&c)
        try c.expectEnd("APDU")
        return apdu
    }

    /// Decodes one APDU at the cursor.
    public static func decode(_ c: inout ByteCursor) throws(DecodeError) -> APDU {
        let start = c.offset
        let tag = try c.u8()
        switch tag {
        case APDUTag.aarq: return .aarq(try AARQ.decode(&c))
        case APDUTag.aare: return .aare(try AARE.decode(&c))
        case APDUTag.rlrq: return .releaseRequest(try Release.decode(&c))
        case APDUTag.rlre: return .releaseResponse(try Release.decode(&c))
        case APDUTag.initiateRequest: return .initiateRequest(try InitiateRequest.decode(&c))
        case APDUTag.initiateResponse: return .initiateResponse(try InitiateResponse.decode(&c))
        case APDUTag.confirmedServiceError: return .confirmedServiceError(try ConfirmedServiceError.decode(&c))
        case APDUTag.getRequest: return .getRequest(try GetRequest.decode(&c))
        case APDUTag.getResponse: return .getResponse(try GetResponse.decode(&c))
        case APDUTag.setRequest: return .setRequest(try SetRequest.decode(&c))
        case APDUTag.setResponse: return .setResponse(try SetResponse.decode(&c))
        case APDUTag.actionRequest: return .actionRequest(try ActionRequest.decode(&c))
        case APDUTag.actionResponse: return .actionResponse(try ActionResponse.decode(&c))
        case APDUTag.eventNotificationRequest: return .eventNotification(try EventNotification.decode(&c))
        case APDUTag.dataNotification: return .dataNotification(try DataNotification.decode(&c))
        case APDUTag.exceptionResponse: return .exceptionResponse(try ExceptionResponse.decode(&c))
        case APDUTag.generalGloCiphering, APDUTag.generalDedCiphering:
            return .generalCiphered(try GeneralCipheredAPDU.decode(&c, dedicated: tag == APDUTag.generalDedCiphering))
        default:
            guard let ciphered = CipheredServiceTag(rawValue: tag) else {
                throw c.error(.unsupported, "APDU tag \(tag) (\(Hex.byte(tag)))", at: start)
            }
            var inner = try c.subCursor(try c.lengthField())
            return .ciphered(CipheredAPDU(tag: ciphered, content: try CipheredContent.decode(&inner)))
        }
    }

    /// The encoded APDU.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends the encoded APDU.
    public func encode(into out: inout [UInt8]) {
        switch self {
        case .aarq(let a): a.encode(into: &out)
        case .aare(let a): a.encode(into: &out)
        case .releaseRequest(let r): r.encode(tag: APDUTag.rlrq, into: &out)
        case .releaseResponse(let r): r.encode(tag: APDUTag.rlre, into: &out)
        case .initiateRequest(let r): r.encode(into: &out)
        case .initiateResponse(let r): r.encode(into: &out)
        case .confirmedServiceError(let e): e.encode(into: &out)
        case .getRequest(let r): r.encode(into: &out)
        case .getResponse(let r): r.encode(into: &out)
        case .setRequest(let r): r.encode(into: &out)
        case .setResponse(let r): r.encode(into: &out)
        case .actionRequest(let r): r.encode(into: &out)
        case .actionResponse(let r): r.encode(into: &out)
        case .eventNotification(let n): n.encode(into: &out)
        case .dataNotification(let n): n.encode(into: &out)
        case .exceptionResponse(let e): e.encode(into: &out)
        case .ciphered(let x): x.encode(into: &out)
        case .generalCiphered(let x): x.encode(into: &out)
        }
    }

    /// The tag this APDU is sent with.
    public var tag: UInt8 {
        switch self {
        case .aarq: APDUTag.aarq
        case .aare: APDUTag.aare
        case .releaseRequest: APDUTag.rlrq
        case .releaseResponse: APDUTag.rlre
        case .initiateRequest: APDUTag.initiateRequest
        case .initiateResponse: APDUTag.initiateResponse
        case .confirmedServiceError: APDUTag.confirmedServiceError
        case .getRequest: APDUTag.getRequest
        case .getResponse: APDUTag.getResponse
        case .setRequest: APDUTag.setRequest
        case .setResponse: APDUTag.setResponse
        case .actionRequest: APDUTag.actionRequest
        case .actionResponse: APDUTag.actionResponse
        case .eventNotification: APDUTag.eventNotificationRequest
        case .dataNotification: APDUTag.dataNotification
        case .exceptionResponse: APDUTag.exceptionResponse
        case .ciphered(let x): x.tag.rawValue
        case .generalCiphered(let x): x.isDedicated ? APDUTag.generalDedCiphering : APDUTag.generalGloCiphering
        }
    }

    /// The standard's name of this APDU's kind: `get-request`, `glo-get-response`, `AARQ`…
    public var kindName: String {
        switch self {
        case .aarq: "AARQ"
        case .aare: "AARE"
        case .releaseRequest: "RLRQ"
        case .releaseResponse: "RLRE"
        case .initiateRequest: "initiate-request"
        case .initiateResponse: "initiate-response"
        case .confirmedServiceError: "confirmed-service-error"
        case .getRequest: "get-request"
        case .getResponse: "get-response"
        case .setRequest: "set-request"
        case .setResponse: "set-response"
        case .actionRequest: "action-request"
        case .actionResponse: "action-response"
        case .eventNotification: "event-notification-request"
        case .dataNotification: "data-notification"
        case .exceptionResponse: "exception-response"
        case .ciphered(let x): x.tag.description
        case .generalCiphered(let x): x.isDedicated ? "general-ded-ciphering" : "general-glo-ciphering"
        }
    }
}
