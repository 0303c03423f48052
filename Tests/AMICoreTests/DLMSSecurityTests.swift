import Foundation
import Testing
@testable import AMICore

/// Security suite 0 against the published examples of DLMS UA 1000-2 (Green Book) Ed. 8:
/// Table 40 (a glo-get-request with each protection) and Table 43 (HLS mechanism 5 with GMAC).
@Suite struct DLMSSecurityTests {
    static func b(_ hex: String) -> [UInt8] { DLMSTest.bytes(hex) }

    static let server = SecurityContext(systemTitle: b("4D4D4D0000BC614E"), ek: DLMSTest.ek, ak: DLMSTest.ak)
    static let client = SecurityContext(systemTitle: b("4D4D4D0000000001"), ek: DLMSTest.ek, ak: DLMSTest.ak)

    /// The Table 40 plaintext: get-request-normal for the clock's time (invoke-id-and-priority 0x00).
    static let clockGet = APDU.getRequest(.normal(invokeID: InvokeIDAndPriority(rawValue: 0),
                                                  attribute: AttributeDescriptor(classID: 8, instance: OBISCode(0, 0, 1, 0, 0, 255), attributeID: 2)))

    @Test(arguments: [
        (SecurityControl.authenticatedEncryption, "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"),
        (SecurityControl.authenticationOnly, "C81E1001234567C0010000080000010000FF020006725D910F9221D263877516"),
        (SecurityControl.encryptionOnly, "C8122001234567411312FF935A47566827C467BC"),
    ])
    func greenBookTable40(control: SecurityControl, expected: String) throws {
        #expect(DLMSTest.hex(Self.clockGet.encoded()) == "C0010000080000010000FF0200")
        let ciphered = try Self.server.encrypt(apdu: Self.clockGet, invocationCounter: 0x0123_4567, control: control)
        #expect(ciphered.tag == .gloGetRequest)
        #expect(DLMSTest.hex(APDU.ciphered(ciphered).encoded()) == expected)
        let parsed = try APDU.parse(Self.b(expected))
        #expect(parsed == .ciphered(ciphered))
        #expect(try Self.client.decrypt(parsed, senderSystemTitle: Self.server.systemTitle) == Self.clockGet)
    }

    @Test func greenBookTable43HLSGMAC() throws {
        let ctos = Array("K56iVagY".utf8), stoc = Array("P6wRJ21F".utf8)
        let fStoC = try Self.client.hlsGMAC(challenge: stoc, invocationCounter: 1)
        #expect(DLMSTest.hex(fStoC) == "10000000011A52FE7DD3E72748973C1E28")
        let fCtoS = try Self.server.hlsGMAC(challenge: ctos, invocationCounter: 0x0123_4567)
        #expect(DLMSTest.hex(fCtoS) == "1001234567FE1466AFB3DBCD4F9389E2B7")
        try Self.server.verifyHLSGMAC(fStoC, challenge: stoc, peerSystemTitle: Self.client.systemTitle)
        try Self.client.verifyHLSGMAC(fCtoS, challenge: ctos, peerSystemTitle: Self.server.systemTitle)
        // The wrong challenge, title or a flipped bit is refused with a checksum error.
        for (response, challenge, title) in [(fCtoS, stoc, Self.server.systemTitle), (fCtoS, ctos, Self.client.systemTitle),
                                             (fCtoS.enumerated().map { $0.offset == 16 ? $0.element ^ 1 : $0.element }, ctos,
                                              Self.server.systemTitle)] {
            #expect(throws: DecodeError(.dlmsSecurity, at: 0, .checksum, SecurityContext.tagMismatch)) {
                try Self.client.verifyHLSGMAC(response, challenge: challenge, peerSystemTitle: title)
            }
        }
        #expect(throws: DecodeError.self) { try Self.client.verifyHLSGMAC(Array(fCtoS.dropLast()), challenge: ctos, peerSystemTitle: Self.server.systemTitle) }
    }

    @Test func wrongKeyOrTitleIsATypedError() throws {
        let ciphered = APDU.ciphered(try Self.server.encrypt(apdu: Self.clockGet, invocationCounter: 7))
        let wrongKey = SecurityContext(systemTitle: Self.client.systemTitle, ek: DLMSKey(Array(repeating: 0x11, count: 16))!, ak: DLMSTest.ak)
        let wrongAK = SecurityContext(systemTitle: Self.client.systemTitle, ek: DLMSTest.ek, ak: DLMSKey(Array(repeating: 0x22, count: 16))!)
        let mismatch = DecodeError(.dlmsSecurity, at: 0, .checksum, "authentication tag mismatch (wrong key or system title?)")
        #expect(throws: mismatch) { try wrongKey.decrypt(ciphered, senderSystemTitle: Self.server.systemTitle) }
        #expect(throws: mismatch) { try wrongAK.decrypt(ciphered, senderSystemTitle: Self.server.systemTitle) }
        #expect(throws: mismatch) { try Self.client.decrypt(ciphered, senderSystemTitle: Self.client.systemTitle) }
        // Without a title, with a short one, a cut payload: errors, not traps.
        #expect(throws: DecodeError.self) { try Self.client.decrypt(ciphered) }
        #expect(throws: DecodeError.self) { try Self.client.decrypt(ciphered, senderSystemTitle: [1, 2, 3]) }
        let cut = CipheredContent(securityControl: .authenticatedEncryption, invocationCounter: 1, payload: [1, 2, 3])
        #expect(throws: DecodeError.self) { try Self.client.unprotect(cut, senderSystemTitle: Self.server.systemTitle) }
        let suite2 = CipheredContent(securityControl: SecurityControl(suite: 2, authenticated: true, encrypted: true),
                                     invocationCounter: 1, payload: Array(repeating: 0, count: 20))
        #expect(throws: DecodeError.self) { try Self.client.unprotect(suite2, senderSystemTitle: Self.server.systemTitle) }
        let dedicated = APDU.ciphered(CipheredAPDU(tag: .dedGetRequest, content: cut))
        #expect(throws: DecodeError.self) { try Self.client.decrypt(dedicated, senderSystemTitle: Self.server.systemTitle) }
        // A glo-get-request that holds a set-request is refused.
        let setInside = try Self.server.encrypt(apdu: .setResponse(.normal(invokeID: InvokeIDAndPriority(invokeID: 1), result: .success)),
                                                tag: .gloGetRequest, invocationCounter: 8)
        #expect(throws: DecodeError.self) { try Self.client.decrypt(.ciphered(setInside), senderSystemTitle: Self.server.systemTitle) }
    }

    @Test func generalGloCipheringAndDedicatedKeys() throws {
        let general = try Self.client.encryptGeneral(apdu: Self.clockGet, invocationCounter: 4)
        #expect(general.systemTitle == Self.client.systemTitle)
        let parsed = try APDU.parse(APDU.generalCiphered(general).encoded())
        #expect(Array(APDU.generalCiphered(general).encoded().prefix(11)) == Self.b("DB084D4D4D0000000001") + [0x1E])
        #expect(try Self.server.decrypt(parsed) == Self.clockGet)

        var withDedicated = Self.client
        withDedicated.dedicatedKey = DLMSKey(Array(repeating: 0x5A, count: 16))
        let ded = try withDedicated.encrypt(apdu: Self.clockGet, invocationCounter: 9, dedicated: true)
        #expect(ded.tag == .dedGetRequest && ded.tag.isDedicated && ded.tag.plaintextTag == 192)
        #expect(try withDedicated.decrypt(.ciphered(ded), senderSystemTitle: Self.client.systemTitle) == Self.clockGet)
        #expect(throws: DecodeError.self) { try Self.server.decrypt(.ciphered(ded), senderSystemTitle: Self.client.systemTitle) }
        #expect(throws: DecodeError.self) {
            try Self.client.encrypt(apdu: .dataNotification(DataNotification(invokeID: .init(rawValue: 1), body: .null)), invocationCounter: 1)
        }
    }

    /// An HLS association as the corpus's Gurux client makes it: AARQ with a ciphered InitiateRequest,
    /// deciphered with the calling AP title it carries.
    @Test func cipheredAssociation() throws {
        let initiate = InitiateRequest(conformance: [.generalProtection, .get, .set, .action, .selectiveAccess, .blockTransferWithGetOrRead])
        let ciphered = try Self.client.encrypt(apdu: .initiateRequest(initiate), invocationCounter: 1)
        #expect(ciphered.tag == .gloInitiateRequest)
        let aarq = APDU.aarq(.request(mechanism: .highGMAC, authentication: AuthenticationValue(Array("K56iVagY".utf8)),
                                      systemTitle: Self.client.systemTitle, ciphered: true, userInformation: .ciphered(ciphered)))
        let parsed = try APDU.parse(aarq.encoded())
        #expect(parsed == aarq)
        guard case .aarq(let opened) = try Self.server.decrypt(parsed) else { Issue.record("not an AARQ"); return }
        #expect(opened.userInformation == .initiateRequest(initiate))
        #expect(opened.applicationContext == .logicalNameWithCiphering && opened.calling.mechanism == .highGMAC)
        #expect(try Self.server.plaintext(of: parsed) == APDU.initiateRequest(initiate).encoded())
    }

    @Test func secretsAreNeverShown() throws {
        let key = try #require(DLMSKey(hex: "000102030405060708090A0B0C0D0E0F"))
        #expect(DLMSKey(hex: "0001") == nil && DLMSKey([1, 2]) == nil)
        var dumped = ""
        dump(key, to: &dumped)
        let password = AuthenticationValue(Array("12345678".utf8))
        let aarq = AARQ.request(mechanism: .low, authentication: password,
                                userInformation: .initiateRequest(InitiateRequest(dedicatedKey: key, conformance: [.get])))
        var dumpedAARQ = ""
        dump(aarq, to: &dumpedAARQ)
        let texts = ["\(key)", String(reflecting: key), dumped, "\(Self.server)", String(reflecting: Self.server),
                     "\(aarq)", String(reflecting: aarq), dumpedAARQ, "\(password)", String(reflecting: password)]
        for text in texts {
            #expect(!text.contains("0, 1, 2, 3") && !text.lowercased().contains("000102") && !text.contains("49, 50, 51"),
                    "\(text)")
        }
        #expect("\(key)" == "withheld" && "\(password)" == "withheld")
        #expect(String(reflecting: key) == "DLMSKey(withheld)")
    }
}
