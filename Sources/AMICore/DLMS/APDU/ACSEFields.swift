/// The DLMS application context names, object identifiers `2.16.756.5.8.1.N` (DLMS UA 1000-2 Ed. 10
/// / IEC 62056-5-3, "The COSEM application context").
public struct ApplicationContextName: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// N, the last arc of the object identifier.
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let logicalName = ApplicationContextName(rawValue: 1)
    public static let shortName = ApplicationContextName(rawValue: 2)
    public static let logicalNameWithCiphering = ApplicationContextName(rawValue: 3)
    public static let shortNameWithCiphering = ApplicationContextName(rawValue: 4)

    public var description: String {
        switch rawValue {
        case 1: "logical-name"
        case 2: "short-name"
        case 3: "logical-name-with-ciphering"
        case 4: "short-name-with-ciphering"
        default: "application-context \(rawValue)"
        }
    }
}

/// The authentication mechanism names, object identifiers `2.16.756.5.8.2.N` (DLMS UA 1000-2 Ed. 10
/// / IEC 62056-5-3, "The COSEM authentication mechanism name").
public struct MechanismName: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// N, the last arc of the object identifier.
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let lowest = MechanismName(rawValue: 0)
    /// Low level security: a password.
    public static let low = MechanismName(rawValue: 1)
    public static let high = MechanismName(rawValue: 2)
    public static let highMD5 = MechanismName(rawValue: 3)
    public static let highSHA1 = MechanismName(rawValue: 4)
    /// HLS mechanism 5, GMAC (security suite 0).
    public static let highGMAC = MechanismName(rawValue: 5)
    public static let highSHA256 = MechanismName(rawValue: 6)
    public static let highECDSA = MechanismName(rawValue: 7)

    public var description: String {
        switch rawValue {
        case 0: "lowest-level-security"
        case 1: "low-level-security"
        case 2: "high-level-security"
        case 3: "hls-md5"
        case 4: "hls-sha1"
        case 5: "hls-gmac"
        case 6: "hls-sha256"
        case 7: "hls-ecdsa"
        default: "mechanism \(rawValue)"
        }
    }
}

/// An ACSE authentication value (a password, or an HLS challenge), sent as the `charstring`
/// choice. Never shown: descriptions say "withheld".
public struct AuthenticationValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable {
    /// The bytes, for the code that checks or answers them; never for output.
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "withheld" }
    public var debugDescription: String { "AuthenticationValue(withheld, \(bytes.count) bytes)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// `Association-result` of an AARE (ISO/IEC 8650-1 ACSE, as profiled by DLMS UA 1000-2 Ed. 10).
public struct AssociationResult: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let accepted = AssociationResult(rawValue: 0)
    public static let rejectedPermanent = AssociationResult(rawValue: 1)
    public static let rejectedTransient = AssociationResult(rawValue: 2)

    public var description: String {
        switch rawValue {
        case 0: "accepted"
        case 1: "rejected-permanent"
        case 2: "rejected-transient"
        default: "result \(rawValue)"
        }
    }
}

/// `Associate-source-diagnostic` of an AARE: why the association was accepted or rejected.
public enum AssociationDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// From the ACSE service user (the DLMS server): 0 null, 1 no-reason-given,
    /// 2 application-context-name-not-supported, 11 authentication-mechanism-name-not-recognised,
    /// 12 authentication-mechanism-name-required, 13 authentication-failure, 14 authentication-required…
    case serviceUser(UInt8)
    /// From the ACSE service provider: 0 null, 1 no-reason-given, 2 no-common-acse-version.
    case serviceProvider(UInt8)

    public static let authenticationFailure = AssociationDiagnostic.serviceUser(13)
    public static let authenticationRequired = AssociationDiagnostic.serviceUser(14)

    private static let userNames = [
        "null", "no-reason-given", "application-context-name-not-supported", "calling-AP-title-not-recognized",
        "calling-AP-invocation-identifier-not-recognized", "calling-AE-qualifier-not-recognized",
        "calling-AE-invocation-identifier-not-recognized", "called-AP-title-not-recognized",
        "called-AP-invocation-identifier-not-recognized", "called-AE-qualifier-not-recognized",
        "called-AE-invocation-identifier-not-recognized", "authentication-mechanism-name-not-recognised",
        "authentication-mechanism-name-required", "authentication-failure", "authentication-required",
    ]
    private static let providerNames = ["null", "no-reason-given", "no-common-acse-version"]

    /// The standard's name, nil for an unassigned code.
    public var name: String? {
        switch self {
        case .serviceUser(let v): Int(v) < Self.userNames.count ? Self.userNames[Int(v)] : nil
        case .serviceProvider(let v): Int(v) < Self.providerNames.count ? Self.providerNames[Int(v)] : nil
        }
    }

    public var description: String {
        switch self {
        case .serviceUser(let v): name ?? "acse-service-user \(v)"
        case .serviceProvider(let v): name.map { "acse-service-provider: " + $0 } ?? "acse-service-provider \(v)"
        }
    }
}

/// The xDLMS APDU in an AARQ, AARE, RLRQ or RLRE `user-information`.
public enum UserInformation: Sendable, Hashable {
    case initiateRequest(InitiateRequest)
    case initiateResponse(InitiateResponse)
    case confirmedServiceError(ConfirmedServiceError)
    /// A glo- or ded-initiate request or response, or confirmed service error, ciphered.
    case ciphered(CipheredAPDU)

    /// The APDU tags user-information may hold; checked before decoding, so that hostile input cannot
    /// nest AARQs in AARQs without end.
    private static let tags: Set<UInt8> = [APDUTag.initiateRequest, APDUTag.initiateResponse, APDUTag.confirmedServiceError,
                                            33, 40, 46, 65, 72, 78]

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> UserInformation {
        let start = c.offset
        guard tags.contains(try c.peek()) else {
            throw c.error(.malformed, "user-information holds an APDU other than initiate or confirmed-service-error", at: start)
        }
        let result: UserInformation
        switch try APDU.decode(&c) {
        case .initiateRequest(let r): result = .initiateRequest(r)
        case .initiateResponse(let r): result = .initiateResponse(r)
        case .confirmedServiceError(let e): result = .confirmedServiceError(e)
        case .ciphered(let x):
            result = .ciphered(x)
        default:
            throw c.error(.malformed, "user-information holds an APDU other than initiate or confirmed-service-error", at: start)
        }
        try c.expectEnd("user-information APDU")
        return result
    }

    var apdu: APDU {
        switch self {
        case .initiateRequest(let r): .initiateRequest(r)
        case .initiateResponse(let r): .initiateResponse(r)
        case .confirmedServiceError(let e): .confirmedServiceError(e)
        case .ciphered(let x): .ciphered(x)
        }
    }
}

/// An ACSE field this library does not interpret, kept as sent: its BER tag byte and content.
public struct ACSEField: Sendable, Hashable {
    public var tag: UInt8
    public var content: [UInt8]

    public init(tag: UInt8, content: [UInt8]) {
        self.tag = tag
        self.content = content
    }
}

/// BER reading and writing for the ACSE APDUs (ITU-T X.690 definite-length encoding; the AARQ, AARE,
/// RLRQ and RLRE of ISO/IEC 8650-1 as used by DLMS UA 1000-2 Ed. 10, "ACSE APDUs").
enum BER {
    /// One tagged element inside an ACSE APDU: tag byte and a cursor over its content.
    struct Element {
        var tag: UInt8
        var content: ByteCursor
        var offset: Int
    }

    /// Splits the content of an ACSE APDU into its tagged fields. Only one-byte tags (numbers below
    /// 31) occur in ACSE APDUs; others are `.unsupported`. A repeated tag is `.malformed`.
    static func elements(_ c: inout ByteCursor) throws(DecodeError) -> [Element] {
        var out: [Element] = []
        var seen = Set<UInt8>()
        while !c.isAtEnd {
            let start = c.offset
            let tag = try c.u8()
            guard tag & 0x1F != 0x1F else { throw c.error(.unsupported, "multi-byte BER tag \(Hex.byte(tag))", at: start) }
            guard seen.insert(tag).inserted else { throw c.error(.malformed, "field \(Hex.byte(tag)) given twice", at: start) }
            out.append(Element(tag: tag, content: try c.subCursor(try c.lengthField()), offset: start))
        }
        return out
    }

    /// The content of `[n] EXPLICIT` around a universal `inner` tag (`04` octet string, `06` object
    /// identifier, `02` integer…): the inner element's bytes.
    static func explicit(_ e: Element, _ inner: UInt8, _ what: String) throws(DecodeError) -> [UInt8] {
        var c = e.content
        let start = c.offset
        let tag = try c.u8()
        guard tag == inner else {
            throw c.error(.malformed, "\(what): tag \(Hex.byte(tag)) where \(Hex.byte(inner)) is expected", at: start)
        }
        let value = try c.lengthPrefixedBytes()
        try c.expectEnd(what)
        return value
    }

    /// All content bytes of an element.
    static func content(_ e: Element) throws(DecodeError) -> [UInt8] {
        var c = e.content
        return try c.take(c.remaining)
    }

    /// A small non-negative INTEGER (0…255) in one or two content bytes.
    static func smallInteger(_ bytes: [UInt8], _ e: Element, _ what: String) throws(DecodeError) -> UInt8 {
        switch bytes.count {
        case 1 where bytes[0] < 0x80: return bytes[0]
        case 2 where bytes[0] == 0 && bytes[1] >= 0x80: return bytes[1]
        default: throw DecodeError(e.content.layer, at: e.offset, .unsupported, "\(what): integer \(Hex.string(bytes))")
        }
    }

    /// The last arc of a DLMS UA object identifier `2.16.756.5.8.<kind>.N`.
    static func dlmsOID(_ bytes: [UInt8], kind: UInt8, _ e: Element, _ what: String) throws(DecodeError) -> UInt8 {
        guard bytes.count == 7, Array(bytes[0..<6]) == dlmsOIDPrefix + [kind] else {
            throw DecodeError(e.content.layer, at: e.offset, .unsupported, "\(what): object identifier \(Hex.string(bytes))")
        }
        return bytes[6]
    }

    /// `2.16.756.5.8` encoded: 60 85 74 05 08.
    static let dlmsOIDPrefix: [UInt8] = [0x60, 0x85, 0x74, 0x05, 0x08]

    /// A BIT STRING holding only the first bit (ACSE requirements: the authentication functional
    /// unit): `07 80` when set.
    static func firstBit(_ bytes: [UInt8], _ e: Element, _ what: String) throws(DecodeError) -> Bool {
        guard bytes.count == 2, bytes[0] == 7, bytes[1] & 0x7F == 0 else {
            throw DecodeError(e.content.layer, at: e.offset, .unsupported, "\(what): bit string \(Hex.string(bytes))")
        }
        return bytes[1] == 0x80
    }

    /// `application-context-name` [1]: an explicit DLMS object identifier `2.16.756.5.8.1.N`.
    static func applicationContext(_ e: Element) throws(DecodeError) -> ApplicationContextName {
        ApplicationContextName(rawValue: try dlmsOID(try explicit(e, 0x06, "application-context-name"), kind: 1, e,
                                                     "application-context-name"))
    }

    /// The user-information field: `[30] EXPLICIT` octet string holding one xDLMS APDU.
    static func userInformation(_ e: Element) throws(DecodeError) -> UserInformation {
        var c = e.content
        let start = c.offset
        let tag = try c.u8()
        guard tag == 0x04 else {
            throw c.error(.malformed, "user-information: tag \(Hex.byte(tag)) where 0x04 is expected", at: start)
        }
        var inner = try c.subCursor(try c.lengthField())
        try c.expectEnd("user-information")
        return try UserInformation.decode(&inner)
    }

    /// `tag`, length, `content`.
    static func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var bytes = [tag]
        bytes.appendLengthPrefixed(content)
        return bytes
    }

    /// The content of a non-negative INTEGER below 256.
    static func integer(_ v: UInt8) -> [UInt8] { v < 0x80 ? [v] : [0, v] }

    /// Collects encoded fields and writes them in tag-number order (the order the ASN.1 SEQUENCEs
    /// define), after the APDU tag and length.
    struct Writer {
        private var fields: [(number: UInt8, bytes: [UInt8])] = []

        init() {}

        /// Starts an AARQ or AARE: protocol version (when given) and application context name.
        init(protocolVersion: [UInt8]?, applicationContext: ApplicationContextName) {
            if let protocolVersion { add(0x80, protocolVersion) }
            addOID(0xA1, explicit: true, kind: 1, applicationContext.rawValue)
        }

        /// Adds a field: `tag`, length, `content`.
        mutating func add(_ tag: UInt8, _ content: [UInt8]) {
            fields.append((tag & 0x1F, element(tag, content)))
        }

        /// Adds `[n] EXPLICIT` around a universal `inner` element.
        mutating func addExplicit(_ tag: UInt8, _ inner: UInt8, _ content: [UInt8]) {
            add(tag, element(inner, content))
        }

        mutating func addOID(_ tag: UInt8, explicit: Bool, kind: UInt8, _ n: UInt8) {
            let oid = dlmsOIDPrefix + [kind, n]
            if explicit { addExplicit(tag, 0x06, oid) } else { add(tag, oid) }
        }

        /// The APDU: `apduTag`, length, the fields and then `userInformation` [30] and `otherFields`,
        /// sorted by tag number (stable).
        func finish(_ apduTag: UInt8, userInformation: UserInformation?, otherFields: [ACSEField], into out: inout [UInt8]) {
            var all = self
            if let userInformation { all.addExplicit(0xBE, 0x04, userInformation.apdu.encoded()) }
            for f in otherFields { all.add(f.tag, f.content) }
            let sorted = all.fields.enumerated().sorted { ($0.element.number, $0.offset) < ($1.element.number, $1.offset) }
            var body: [UInt8] = []
            for f in sorted { body += f.element.bytes }
            out.append(apduTag)
            out.appendLengthPrefixed(body)
        }
    }
}
