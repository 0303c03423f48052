/// What follows a ciphered APDU's length: the security header (security control byte and
/// invocation counter) and the protected bytes (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "Ciphered
/// xDLMS APDUs").
public struct CipheredContent: Sendable, Hashable {
    public var securityControl: SecurityControl
    public var invocationCounter: UInt32
    /// The ciphertext (the plaintext when only authenticated), then the 12-byte authentication tag
    /// when authenticated.
    public var payload: [UInt8]

    public init(securityControl: SecurityControl, invocationCounter: UInt32, payload: [UInt8]) {
        self.securityControl = securityControl
        self.invocationCounter = invocationCounter
        self.payload = payload
    }

    /// Reads the header and takes every byte left in `c` as the payload (layer `dlms-security`).
    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> CipheredContent {
        let layer = c.layer
        c.layer = .dlmsSecurity
        defer { c.layer = layer }
        let sc = SecurityControl(rawValue: try c.u8())
        let ic = UInt32(truncatingIfNeeded: try c.uintBE(4))
        return CipheredContent(securityControl: sc, invocationCounter: ic, payload: try c.take(c.remaining))
    }

    /// SC ‖ IC ‖ payload.
    public var bytes: [UInt8] {
        var out = [securityControl.rawValue]
        out.appendBigEndian(invocationCounter)
        return out + payload
    }
}

/// The tag of a service-specific ciphered APDU, glo- (global key) or ded- (dedicated key)
/// (DLMS UA 1000-2 Ed. 10, COSEMpdu CHOICE): each protects one plaintext APDU kind.
public struct CipheredServiceTag: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8

    /// Nil for a tag that is not a glo- or ded- service tag this library knows.
    public init?(rawValue: UInt8) {
        guard CipheredServiceTag.plaintext[rawValue] != nil else { return nil }
        self.rawValue = rawValue
    }

    /// The glo- (or, `dedicated`, ded-) tag protecting APDUs of `plaintextTag`; nil when there is none.
    public init?(protecting plaintextTag: UInt8, dedicated: Bool = false) {
        guard let (tag, _) = CipheredServiceTag.plaintext.first(where: {
            $0.value == plaintextTag && CipheredServiceTag.isDedicated($0.key) == dedicated
        }) else { return nil }
        rawValue = tag
    }

    public static let gloInitiateRequest = CipheredServiceTag(known: 33)
    public static let gloInitiateResponse = CipheredServiceTag(known: 40)
    public static let gloConfirmedServiceError = CipheredServiceTag(known: 46)
    public static let gloGetRequest = CipheredServiceTag(known: 200)
    public static let gloSetRequest = CipheredServiceTag(known: 201)
    public static let gloEventNotificationRequest = CipheredServiceTag(known: 202)
    public static let gloActionRequest = CipheredServiceTag(known: 203)
    public static let gloGetResponse = CipheredServiceTag(known: 204)
    public static let gloSetResponse = CipheredServiceTag(known: 205)
    public static let gloActionResponse = CipheredServiceTag(known: 207)
    public static let dedInitiateRequest = CipheredServiceTag(known: 65)
    public static let dedInitiateResponse = CipheredServiceTag(known: 72)
    public static let dedConfirmedServiceError = CipheredServiceTag(known: 78)
    public static let dedGetRequest = CipheredServiceTag(known: 208)
    public static let dedSetRequest = CipheredServiceTag(known: 209)
    public static let dedEventNotificationRequest = CipheredServiceTag(known: 210)
    public static let dedActionRequest = CipheredServiceTag(known: 211)
    public static let dedGetResponse = CipheredServiceTag(known: 212)
    public static let dedSetResponse = CipheredServiceTag(known: 213)
    public static let dedActionResponse = CipheredServiceTag(known: 215)

    private init(known: UInt8) { rawValue = known }

    /// Ciphered tag → plaintext tag (LN services, initiate and confirmed-service-error).
    private static let plaintext: [UInt8: UInt8] = [
        33: APDUTag.initiateRequest, 40: APDUTag.initiateResponse, 46: APDUTag.confirmedServiceError,
        65: APDUTag.initiateRequest, 72: APDUTag.initiateResponse, 78: APDUTag.confirmedServiceError,
        200: APDUTag.getRequest, 201: APDUTag.setRequest, 202: APDUTag.eventNotificationRequest,
        203: APDUTag.actionRequest, 204: APDUTag.getResponse, 205: APDUTag.setResponse, 207: APDUTag.actionResponse,
        208: APDUTag.getRequest, 209: APDUTag.setRequest, 210: APDUTag.eventNotificationRequest,
        211: APDUTag.actionRequest, 212: APDUTag.getResponse, 213: APDUTag.setResponse, 215: APDUTag.actionResponse,
    ]

    private static func isDedicated(_ tag: UInt8) -> Bool { (65...78).contains(tag) || tag >= 208 }

    /// True for ded- tags (dedicated key).
    public var isDedicated: Bool { CipheredServiceTag.isDedicated(rawValue) }

    /// The tag of the APDU kind this one protects (e.g. 192 get-request for 200 glo-get-request).
    public var plaintextTag: UInt8 { CipheredServiceTag.plaintext[rawValue] ?? 0 }

    public var description: String {
        let kind = switch plaintextTag {
        case APDUTag.initiateRequest: "initiate-request"
        case APDUTag.initiateResponse: "initiate-response"
        case APDUTag.confirmedServiceError: "confirmed-service-error"
        case APDUTag.getRequest: "get-request"
        case APDUTag.setRequest: "set-request"
        case APDUTag.eventNotificationRequest: "event-notification-request"
        case APDUTag.actionRequest: "action-request"
        case APDUTag.getResponse: "get-response"
        case APDUTag.setResponse: "set-response"
        default: "action-response"
        }
        return (isDedicated ? "ded-" : "glo-") + kind
    }
}

/// A service-specific ciphered APDU (glo-get-request…, ded-…): tag, length, ciphered content. The
/// sender's system title is not in it; it comes from the association (AARQ/AARE AP titles).
public struct CipheredAPDU: Sendable, Hashable {
    public var tag: CipheredServiceTag
    public var content: CipheredContent

    public init(tag: CipheredServiceTag, content: CipheredContent) {
        self.tag = tag
        self.content = content
    }

    func encode(into out: inout [UInt8]) {
        out.append(tag.rawValue)
        out.appendLengthPrefixed(content.bytes)
    }
}

/// `general-glo-ciphering` (tag 219) or `general-ded-ciphering` (tag 220): any APDU, ciphered, with
/// the sender's system title (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "general-glo-ciphering").
public struct GeneralCipheredAPDU: Sendable, Hashable {
    /// True for general-ded-ciphering (dedicated key).
    public var isDedicated: Bool
    public var systemTitle: [UInt8]
    public var content: CipheredContent

    public init(isDedicated: Bool = false, systemTitle: [UInt8], content: CipheredContent) {
        self.isDedicated = isDedicated
        self.systemTitle = systemTitle
        self.content = content
    }

    static func decode(_ c: inout ByteCursor, dedicated: Bool) throws(DecodeError) -> GeneralCipheredAPDU {
        let title = try c.lengthPrefixedBytes()
        var inner = try c.subCursor(try c.lengthField())
        return GeneralCipheredAPDU(isDedicated: dedicated, systemTitle: title, content: try CipheredContent.decode(&inner))
    }

    func encode(into out: inout [UInt8]) {
        out.append(isDedicated ? APDUTag.generalDedCiphering : APDUTag.generalGloCiphering)
        out.appendLengthPrefixed(systemTitle)
        out.appendLengthPrefixed(content.bytes)
    }
}
