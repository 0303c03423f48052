/// What an AARQ says about the client (`calling-…`, `sender-acse-requirements`) and an AARE about the
/// server (`responding-…`, `responder-acse-requirements`): the same fields at different tags.
public struct ACSEParty: Sendable, Hashable {
    /// The AP title: the sender's system title (8 bytes) when ciphering.
    public var apTitle: [UInt8]?
    /// The AE qualifier (a certificate with security suites 1 and 2).
    public var aeQualifier: [UInt8]?
    /// The ACSE requirements: true when the authentication functional unit is selected.
    public var acseRequirements: Bool?
    public var mechanism: MechanismName?
    /// The LLS password, or the sender's HLS challenge (CtoS from the client, StoC from the server).
    public var authenticationValue: AuthenticationValue?

    public init(apTitle: [UInt8]? = nil, aeQualifier: [UInt8]? = nil, acseRequirements: Bool? = nil,
                mechanism: MechanismName? = nil, authenticationValue: AuthenticationValue? = nil) {
        self.apTitle = apTitle
        self.aeQualifier = aeQualifier
        self.acseRequirements = acseRequirements
        self.mechanism = mechanism
        self.authenticationValue = authenticationValue
    }

    /// The BER tags of the five fields in one APDU.
    struct Tags {
        var apTitle: UInt8, aeQualifier: UInt8, requirements: UInt8, mechanism: UInt8, authentication: UInt8
    }

    /// AARQ [6], [7], [10], [11], [12].
    static let calling = Tags(apTitle: 0xA6, aeQualifier: 0xA7, requirements: 0x8A, mechanism: 0x8B, authentication: 0xAC)
    /// AARE [4], [5], [8], [9], [10].
    static let responding = Tags(apTitle: 0xA4, aeQualifier: 0xA5, requirements: 0x88, mechanism: 0x89, authentication: 0xAA)

    /// Reads `e` when it is one of these fields; false for other tags.
    mutating func read(_ e: BER.Element, _ tags: Tags) throws(DecodeError) -> Bool {
        switch e.tag {
        case tags.apTitle: apTitle = try BER.explicit(e, 0x04, "AP-title")
        case tags.aeQualifier: aeQualifier = try BER.explicit(e, 0x04, "AE-qualifier")
        case tags.requirements: acseRequirements = try BER.firstBit(try BER.content(e), e, "acse-requirements")
        case tags.mechanism: mechanism = MechanismName(rawValue: try BER.dlmsOID(try BER.content(e), kind: 2, e, "mechanism-name"))
        case tags.authentication: authenticationValue = AuthenticationValue(try BER.explicit(e, 0x80, "authentication-value"))
        default: return false
        }
        return true
    }

    func write(into w: inout BER.Writer, _ tags: Tags) {
        if let apTitle { w.addExplicit(tags.apTitle, 0x04, apTitle) }
        if let aeQualifier { w.addExplicit(tags.aeQualifier, 0x04, aeQualifier) }
        if let acseRequirements { w.add(tags.requirements, [0x07, acseRequirements ? 0x80 : 0x00]) }
        if let mechanism { w.addOID(tags.mechanism, explicit: false, kind: 2, mechanism.rawValue) }
        if let authenticationValue { w.addExplicit(tags.authentication, 0x80, authenticationValue.bytes) }
    }
}

/// `AARQ`, the association request (tag 0x60; ISO/IEC 8650-1 ACSE as profiled by DLMS UA 1000-2
/// Ed. 10 / IEC 62056-5-3, "Encoding of the AARQ APDU"). BER encoded; fields in tag order.
public struct AARQ: Sendable, Hashable {
    /// `protocol-version` [0] bit string content, when sent (`07 80`: version 1).
    public var protocolVersion: [UInt8]?
    public var applicationContext: ApplicationContextName
    /// The client: `calling-AP-title` (its system title), `calling-AE-qualifier`,
    /// `sender-acse-requirements`, `mechanism-name`, `calling-authentication-value` (password or CtoS).
    public var calling: ACSEParty
    /// `user-information` [30]: the InitiateRequest, plain or ciphered.
    public var userInformation: UserInformation?
    /// Fields not interpreted here, as sent.
    public var otherFields: [ACSEField]

    public init(applicationContext: ApplicationContextName = .logicalName, calling: ACSEParty = ACSEParty(),
                userInformation: UserInformation?, protocolVersion: [UInt8]? = nil, otherFields: [ACSEField] = []) {
        self.protocolVersion = protocolVersion
        self.applicationContext = applicationContext
        self.calling = calling
        self.userInformation = userInformation
        self.otherFields = otherFields
    }

    /// An AARQ for `mechanism` (authentication functional unit set unless `.lowest`), with
    /// `authentication` (the password or CtoS challenge), the client's `systemTitle`, the ciphering
    /// application context when `ciphered`, and the InitiateRequest as user-information.
    public static func request(mechanism: MechanismName = .lowest, authentication: AuthenticationValue? = nil,
                               systemTitle: [UInt8]? = nil, ciphered: Bool = false,
                               userInformation: UserInformation) -> AARQ {
        let authenticated = mechanism != .lowest
        let calling = ACSEParty(apTitle: systemTitle, acseRequirements: authenticated ? true : nil,
                                mechanism: authenticated ? mechanism : nil, authenticationValue: authentication)
        return AARQ(applicationContext: ciphered ? .logicalNameWithCiphering : .logicalName, calling: calling,
                    userInformation: userInformation)
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> AARQ {
        let start = c.offset - 1
        var body = try c.subCursor(try c.lengthField())
        var context: ApplicationContextName?
        var r = AARQ(userInformation: nil)
        for e in try BER.elements(&body) {
            if try r.calling.read(e, ACSEParty.calling) { continue }
            switch e.tag {
            case 0x80: r.protocolVersion = try BER.content(e)
            case 0xA1: context = try BER.applicationContext(e)
            case 0xBE: r.userInformation = try BER.userInformation(e)
            default: r.otherFields.append(ACSEField(tag: e.tag, content: try BER.content(e)))
            }
        }
        guard let context else { throw c.error(.malformed, "AARQ without application-context-name", at: start) }
        r.applicationContext = context
        return r
    }

    func encode(into out: inout [UInt8]) {
        var w = BER.Writer(protocolVersion: protocolVersion, applicationContext: applicationContext)
        calling.write(into: &w, ACSEParty.calling)
        w.finish(APDUTag.aarq, userInformation: userInformation, otherFields: otherFields, into: &out)
    }
}

/// `AARE`, the association response (tag 0x61; ISO/IEC 8650-1 ACSE as profiled by DLMS UA 1000-2
/// Ed. 10 / IEC 62056-5-3, "Encoding of the AARE APDU").
public struct AARE: Sendable, Hashable {
    public var protocolVersion: [UInt8]?
    public var applicationContext: ApplicationContextName
    public var result: AssociationResult
    public var diagnostic: AssociationDiagnostic
    /// The server: `responding-AP-title` (its system title), `responding-AE-qualifier`,
    /// `responder-acse-requirements`, `mechanism-name`, `responding-authentication-value` (StoC).
    public var responding: ACSEParty
    /// `user-information` [30]: the InitiateResponse (or ConfirmedServiceError), plain or ciphered.
    public var userInformation: UserInformation?
    public var otherFields: [ACSEField]

    public init(applicationContext: ApplicationContextName = .logicalName, result: AssociationResult,
                diagnostic: AssociationDiagnostic, responding: ACSEParty = ACSEParty(), userInformation: UserInformation?,
                protocolVersion: [UInt8]? = nil, otherFields: [ACSEField] = []) {
        self.protocolVersion = protocolVersion
        self.applicationContext = applicationContext
        self.result = result
        self.diagnostic = diagnostic
        self.responding = responding
        self.userInformation = userInformation
        self.otherFields = otherFields
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> AARE {
        let start = c.offset - 1
        var body = try c.subCursor(try c.lengthField())
        var context: ApplicationContextName?
        var result: AssociationResult?
        var diagnostic: AssociationDiagnostic?
        var r = AARE(result: .accepted, diagnostic: .serviceUser(0), userInformation: nil)
        for e in try BER.elements(&body) {
            if try r.responding.read(e, ACSEParty.responding) { continue }
            switch e.tag {
            case 0x80: r.protocolVersion = try BER.content(e)
            case 0xA1: context = try BER.applicationContext(e)
            case 0xA2:
                result = AssociationResult(rawValue: try BER.smallInteger(try BER.explicit(e, 0x02, "result"), e, "result"))
            case 0xA3:
                var inner = e.content
                let choices = try BER.elements(&inner)
                guard choices.count == 1, choices[0].tag == 0xA1 || choices[0].tag == 0xA2 else {
                    throw DecodeError(e.content.layer, at: e.offset, .malformed, "result-source-diagnostic is not one choice")
                }
                let v = try BER.smallInteger(try BER.explicit(choices[0], 0x02, "result-source-diagnostic"), e,
                                             "result-source-diagnostic")
                diagnostic = choices[0].tag == 0xA1 ? .serviceUser(v) : .serviceProvider(v)
            case 0xBE: r.userInformation = try BER.userInformation(e)
            default: r.otherFields.append(ACSEField(tag: e.tag, content: try BER.content(e)))
            }
        }
        guard let context, let result, let diagnostic else {
            throw c.error(.malformed, "AARE without application-context-name, result or result-source-diagnostic", at: start)
        }
        r.applicationContext = context
        r.result = result
        r.diagnostic = diagnostic
        return r
    }

    func encode(into out: inout [UInt8]) {
        var w = BER.Writer(protocolVersion: protocolVersion, applicationContext: applicationContext)
        w.addExplicit(0xA2, 0x02, BER.integer(result.rawValue))
        switch diagnostic {
        case .serviceUser(let v): w.add(0xA3, BER.element(0xA1, BER.element(0x02, BER.integer(v))))
        case .serviceProvider(let v): w.add(0xA3, BER.element(0xA2, BER.element(0x02, BER.integer(v))))
        }
        responding.write(into: &w, ACSEParty.responding)
        w.finish(APDUTag.aare, userInformation: userInformation, otherFields: otherFields, into: &out)
    }
}

/// `RLRQ` (tag 0x62) and `RLRE` (tag 0x63), the release request and response (ISO/IEC 8650-1 ACSE as
/// profiled by DLMS UA 1000-2 Ed. 10, "Encoding of the RLRQ and RLRE APDUs").
public struct Release: Sendable, Hashable {
    /// `reason` [0]: request 0 normal, 1 urgent, 30 user-defined; response 0 normal, 1 not-finished,
    /// 30 user-defined.
    public var reason: UInt8?
    /// `user-information` [30]: an InitiateRequest (RLRQ) or InitiateResponse (RLRE), plain or ciphered.
    public var userInformation: UserInformation?
    public var otherFields: [ACSEField]

    public init(reason: UInt8? = 0, userInformation: UserInformation? = nil, otherFields: [ACSEField] = []) {
        self.reason = reason
        self.userInformation = userInformation
        self.otherFields = otherFields
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> Release {
        var body = try c.subCursor(try c.lengthField())
        var r = Release(reason: nil)
        for e in try BER.elements(&body) {
            switch e.tag {
            case 0x80: r.reason = try BER.smallInteger(try BER.content(e), e, "reason")
            case 0xBE: r.userInformation = try BER.userInformation(e)
            default: r.otherFields.append(ACSEField(tag: e.tag, content: try BER.content(e)))
            }
        }
        return r
    }

    func encode(tag: UInt8, into out: inout [UInt8]) {
        var w = BER.Writer()
        if let reason { w.add(0x80, BER.integer(reason)) }
        w.finish(tag, userInformation: userInformation, otherFields: otherFields, into: &out)
    }
}
