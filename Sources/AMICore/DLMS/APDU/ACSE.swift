/// `AARQ`, the association request (tag 0x60; ISO/IEC 8650-1 ACSE as profiled by DLMS UA 1000-2
/// Ed. 10 / IEC 62056-5-3, "Encoding of the AARQ APDU"). BER encoded; fields in tag order.
public struct AARQ: Sendable, Hashable {
    /// `protocol-version` [0] bit string content, when sent (`07 80`: version 1).
    public var protocolVersion: [UInt8]?
    public var applicationContext: ApplicationContextName
    /// `calling-AP-title` [6]: the client's system title (8 bytes) when ciphering.
    public var callingAPTitle: [UInt8]?
    /// `calling-AE-qualifier` [7] (a certificate with suite 1 and 2).
    public var callingAEQualifier: [UInt8]?
    /// `sender-acse-requirements` [10]: true when the authentication functional unit is selected.
    public var senderACSERequirements: Bool?
    /// `mechanism-name` [11].
    public var mechanism: MechanismName?
    /// `calling-authentication-value` [12]: the LLS password, or the client's HLS challenge (CtoS).
    public var callingAuthenticationValue: AuthenticationValue?
    /// `user-information` [30]: the InitiateRequest, plain or ciphered.
    public var userInformation: UserInformation?
    /// Fields not interpreted here, as sent.
    public var otherFields: [ACSEField]

    public init(applicationContext: ApplicationContextName = .logicalName, callingAPTitle: [UInt8]? = nil,
                senderACSERequirements: Bool? = nil, mechanism: MechanismName? = nil,
                callingAuthenticationValue: AuthenticationValue? = nil, userInformation: UserInformation?,
                protocolVersion: [UInt8]? = nil, callingAEQualifier: [UInt8]? = nil, otherFields: [ACSEField] = []) {
        self.protocolVersion = protocolVersion
        self.applicationContext = applicationContext
        self.callingAPTitle = callingAPTitle
        self.callingAEQualifier = callingAEQualifier
        self.senderACSERequirements = senderACSERequirements
        self.mechanism = mechanism
        self.callingAuthenticationValue = callingAuthenticationValue
        self.userInformation = userInformation
        self.otherFields = otherFields
    }

    /// An AARQ for `mechanism` (authentication functional unit set unless `.lowest`), with
    /// `authentication` (the password or CtoS challenge) and the InitiateRequest as user-information.
    public static func request(mechanism: MechanismName = .lowest, authentication: AuthenticationValue? = nil,
                               systemTitle: [UInt8]? = nil, ciphered: Bool = false,
                               userInformation: UserInformation) -> AARQ {
        let authenticated = mechanism != .lowest
        return AARQ(applicationContext: ciphered ? .logicalNameWithCiphering : .logicalName, callingAPTitle: systemTitle,
                    senderACSERequirements: authenticated ? true : nil, mechanism: authenticated ? mechanism : nil,
                    callingAuthenticationValue: authentication, userInformation: userInformation)
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> AARQ {
        let start = c.offset - 1
        var body = try c.subCursor(try c.lengthField())
        var context: ApplicationContextName?
        var r = AARQ(userInformation: nil)
        for e in try BER.elements(&body) {
            switch e.tag {
            case 0x80: r.protocolVersion = try BER.content(e)
            case 0xA1:
                context = ApplicationContextName(rawValue: try BER.dlmsOID(try BER.explicit(e, 0x06, "application-context-name"),
                                                                           kind: 1, e, "application-context-name"))
            case 0xA6: r.callingAPTitle = try BER.explicit(e, 0x04, "calling-AP-title")
            case 0xA7: r.callingAEQualifier = try BER.explicit(e, 0x04, "calling-AE-qualifier")
            case 0x8A: r.senderACSERequirements = try BER.firstBit(try BER.content(e), e, "sender-acse-requirements")
            case 0x8B: r.mechanism = MechanismName(rawValue: try BER.dlmsOID(try BER.content(e), kind: 2, e, "mechanism-name"))
            case 0xAC: r.callingAuthenticationValue = try BER.authenticationValue(e, "calling-authentication-value")
            case 0xBE: r.userInformation = try BER.userInformation(e)
            default: r.otherFields.append(ACSEField(tag: e.tag, content: try BER.content(e)))
            }
        }
        guard let context else { throw c.error(.malformed, "AARQ without application-context-name", at: start) }
        r.applicationContext = context
        return r
    }

    func encode(into out: inout [UInt8]) {
        var w = BER.Writer()
        if let protocolVersion { w.add(0x80, protocolVersion) }
        w.addOID(0xA1, explicit: true, kind: 1, applicationContext.rawValue)
        if let callingAPTitle { w.addExplicit(0xA6, 0x04, callingAPTitle) }
        if let callingAEQualifier { w.addExplicit(0xA7, 0x04, callingAEQualifier) }
        if let senderACSERequirements { w.add(0x8A, [0x07, senderACSERequirements ? 0x80 : 0x00]) }
        if let mechanism { w.addOID(0x8B, explicit: false, kind: 2, mechanism.rawValue) }
        if let callingAuthenticationValue { w.addExplicit(0xAC, 0x80, callingAuthenticationValue.bytes) }
        if let userInformation { w.addUserInformation(userInformation) }
        w.addOthers(otherFields)
        w.finish(APDUTag.aarq, into: &out)
    }
}

/// `AARE`, the association response (tag 0x61; ISO/IEC 8650-1 ACSE as profiled by DLMS UA 1000-2
/// Ed. 10 / IEC 62056-5-3, "Encoding of the AARE APDU").
public struct AARE: Sendable, Hashable {
    public var protocolVersion: [UInt8]?
    public var applicationContext: ApplicationContextName
    public var result: AssociationResult
    public var diagnostic: AssociationDiagnostic
    /// `responding-AP-title` [4]: the server's system title when ciphering.
    public var respondingAPTitle: [UInt8]?
    /// `responding-AE-qualifier` [5].
    public var respondingAEQualifier: [UInt8]?
    /// `responder-acse-requirements` [8].
    public var responderACSERequirements: Bool?
    /// `mechanism-name` [9].
    public var mechanism: MechanismName?
    /// `responding-authentication-value` [10]: the server's HLS challenge (StoC).
    public var respondingAuthenticationValue: AuthenticationValue?
    /// `user-information` [30]: the InitiateResponse (or ConfirmedServiceError), plain or ciphered.
    public var userInformation: UserInformation?
    public var otherFields: [ACSEField]

    public init(applicationContext: ApplicationContextName = .logicalName, result: AssociationResult,
                diagnostic: AssociationDiagnostic, respondingAPTitle: [UInt8]? = nil,
                responderACSERequirements: Bool? = nil, mechanism: MechanismName? = nil,
                respondingAuthenticationValue: AuthenticationValue? = nil, userInformation: UserInformation?,
                protocolVersion: [UInt8]? = nil, respondingAEQualifier: [UInt8]? = nil, otherFields: [ACSEField] = []) {
        self.protocolVersion = protocolVersion
        self.applicationContext = applicationContext
        self.result = result
        self.diagnostic = diagnostic
        self.respondingAPTitle = respondingAPTitle
        self.respondingAEQualifier = respondingAEQualifier
        self.responderACSERequirements = responderACSERequirements
        self.mechanism = mechanism
        self.respondingAuthenticationValue = respondingAuthenticationValue
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
            switch e.tag {
            case 0x80: r.protocolVersion = try BER.content(e)
            case 0xA1:
                context = ApplicationContextName(rawValue: try BER.dlmsOID(try BER.explicit(e, 0x06, "application-context-name"),
                                                                           kind: 1, e, "application-context-name"))
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
            case 0xA4: r.respondingAPTitle = try BER.explicit(e, 0x04, "responding-AP-title")
            case 0xA5: r.respondingAEQualifier = try BER.explicit(e, 0x04, "responding-AE-qualifier")
            case 0x88: r.responderACSERequirements = try BER.firstBit(try BER.content(e), e, "responder-acse-requirements")
            case 0x89: r.mechanism = MechanismName(rawValue: try BER.dlmsOID(try BER.content(e), kind: 2, e, "mechanism-name"))
            case 0xAA: r.respondingAuthenticationValue = try BER.authenticationValue(e, "responding-authentication-value")
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
        var w = BER.Writer()
        if let protocolVersion { w.add(0x80, protocolVersion) }
        w.addOID(0xA1, explicit: true, kind: 1, applicationContext.rawValue)
        w.addExplicit(0xA2, 0x02, BER.integer(result.rawValue))
        switch diagnostic {
        case .serviceUser(let v): w.add(0xA3, BER.element(0xA1, BER.element(0x02, BER.integer(v))))
        case .serviceProvider(let v): w.add(0xA3, BER.element(0xA2, BER.element(0x02, BER.integer(v))))
        }
        if let respondingAPTitle { w.addExplicit(0xA4, 0x04, respondingAPTitle) }
        if let respondingAEQualifier { w.addExplicit(0xA5, 0x04, respondingAEQualifier) }
        if let responderACSERequirements { w.add(0x88, [0x07, responderACSERequirements ? 0x80 : 0x00]) }
        if let mechanism { w.addOID(0x89, explicit: false, kind: 2, mechanism.rawValue) }
        if let respondingAuthenticationValue { w.addExplicit(0xAA, 0x80, respondingAuthenticationValue.bytes) }
        if let userInformation { w.addUserInformation(userInformation) }
        w.addOthers(otherFields)
        w.finish(APDUTag.aare, into: &out)
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
        if let userInformation { w.addUserInformation(userInformation) }
        w.addOthers(otherFields)
        w.finish(tag, into: &out)
    }
}
