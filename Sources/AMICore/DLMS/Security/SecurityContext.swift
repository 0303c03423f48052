/// Keys and system title for DLMS security suite 0 (AES-GCM-128, 12-byte tag; DLMS UA 1000-2
/// Ed. 10 / IEC 62056-5-3, "Security suite 0" and "Cryptographic protection of xDLMS APDUs"):
///
/// * IV = the sender's system title (8 bytes) ‖ invocation counter (4 bytes, big-endian);
/// * authenticated encryption (SC 0x30): AAD = SC ‖ AK, ciphertext ‖ tag;
/// * authentication only (SC 0x10): AAD = SC ‖ AK ‖ plaintext, plaintext ‖ tag;
/// * encryption only (SC 0x20): ciphertext, no tag.
///
/// Errors are at layer `dlms-security`, offset 0 = the start of the ciphered APDU (shift them by
/// its position). A wrong key or system title is a `.checksum` error, never a trap.
public struct SecurityContext: Sendable, Equatable {
    /// This side's system title (8 bytes): the IV of what it sends.
    public var systemTitle: [UInt8]
    /// The global unicast encryption key (EK), also the GMAC key of HLS mechanism 5.
    public var encryptionKey: DLMSKey
    /// The authentication key (AK).
    public var authenticationKey: DLMSKey
    /// The global broadcast key, for APDUs whose SC has the key-set bit.
    public var broadcastKey: DLMSKey?
    /// The dedicated key of the association (from the InitiateRequest), for ded- APDUs.
    public var dedicatedKey: DLMSKey?

    public init(systemTitle: [UInt8], ek: DLMSKey, ak: DLMSKey, broadcastKey: DLMSKey? = nil, dedicatedKey: DLMSKey? = nil) {
        self.systemTitle = systemTitle
        self.encryptionKey = ek
        self.authenticationKey = ak
        self.broadcastKey = broadcastKey
        self.dedicatedKey = dedicatedKey
    }

    /// The message of the error a failed tag check gives.
    public static let tagMismatch = "authentication tag mismatch (wrong key or system title?)"

    private static func failure(_ kind: DecodeError.Kind, _ message: String) -> DecodeError {
        DecodeError(.dlmsSecurity, at: 0, kind, message)
    }

    // MARK: - Ciphered content

    /// Protects `plaintext` (an encoded APDU) as this side sends it: the security header and the
    /// ciphered bytes, with this side's system title in the IV.
    public func protect(_ plaintext: [UInt8], control: SecurityControl = .authenticatedEncryption,
                        invocationCounter: UInt32, dedicated: Bool = false) throws(DecodeError) -> CipheredContent {
        let key = try self.key(control, dedicated: dedicated)
        let iv = try Self.iv(systemTitle, invocationCounter)
        let sc = [control.rawValue]
        let payload: [UInt8]
        switch (control.isAuthenticated, control.isEncrypted) {
        case (true, true):
            let sealed = try Self.seal(key, iv, aad: sc + authenticationKey.bytes, plaintext)
            payload = sealed.ciphertext + sealed.tag
        case (true, false):
            payload = plaintext + (try Self.seal(key, iv, aad: sc + authenticationKey.bytes + plaintext, [])).tag
        case (false, true):
            payload = try Self.seal(key, iv, aad: [], plaintext).ciphertext
        case (false, false):
            payload = plaintext
        }
        return CipheredContent(securityControl: control, invocationCounter: invocationCounter, payload: payload)
    }

    /// The plaintext of `content` sent by the holder of `senderSystemTitle`, after checking its tag.
    public func unprotect(_ content: CipheredContent, senderSystemTitle: [UInt8], dedicated: Bool = false) throws(DecodeError) -> [UInt8] {
        let control = content.securityControl
        let key = try self.key(control, dedicated: dedicated)
        let iv = try Self.iv(senderSystemTitle, content.invocationCounter)
        let sc = [control.rawValue]
        let p = content.payload
        if control.isAuthenticated {
            guard p.count >= AESGCM.tagLength else {
                throw Self.failure(.malformed, "ciphered content of \(p.count) bytes, shorter than the 12-byte tag")
            }
            let body = Array(p[0..<(p.count - AESGCM.tagLength)])
            let tag = Array(p[(p.count - AESGCM.tagLength)...])
            let opened = control.isEncrypted
                ? AESGCM.open(key: key.bytes, iv: iv, aad: sc + authenticationKey.bytes, ciphertext: body, tag: tag)
                : AESGCM.open(key: key.bytes, iv: iv, aad: sc + authenticationKey.bytes + body, ciphertext: [], tag: tag).map { _ in body }
            guard let plaintext = opened else { throw Self.failure(.checksum, Self.tagMismatch) }
            return plaintext
        }
        if control.isEncrypted {
            // GCM without a tag is counter mode: encrypting again gives the plaintext back.
            return try Self.seal(key, iv, aad: [], p).ciphertext
        }
        return p
    }

    // MARK: - APDUs

    /// `apdu` ciphered as this side sends it, in a service-specific APDU: `tag`, or the glo- tag for
    /// the APDU's kind (ded- with `dedicated`). Initiate requests and responses can be ciphered this
    /// way for an AARQ's or AARE's user-information.
    public func encrypt(apdu: APDU, tag: CipheredServiceTag? = nil, invocationCounter: UInt32,
                        control: SecurityControl = .authenticatedEncryption, dedicated: Bool = false) throws(DecodeError) -> CipheredAPDU {
        guard let t = tag ?? CipheredServiceTag(protecting: apdu.tag, dedicated: dedicated) else {
            throw Self.failure(.unsupported, "no service-specific ciphered APDU carries a \(apdu.kindName)")
        }
        let content = try protect(apdu.encoded(), control: control, invocationCounter: invocationCounter,
                                  dedicated: t.isDedicated)
        return CipheredAPDU(tag: t, content: content)
    }

    /// `apdu` ciphered as this side sends it, in general-glo-ciphering (general-ded-ciphering with
    /// `dedicated`) with this side's system title.
    public func encryptGeneral(apdu: APDU, invocationCounter: UInt32, control: SecurityControl = .authenticatedEncryption,
                               dedicated: Bool = false) throws(DecodeError) -> GeneralCipheredAPDU {
        let content = try protect(apdu.encoded(), control: control, invocationCounter: invocationCounter, dedicated: dedicated)
        return GeneralCipheredAPDU(isDedicated: dedicated, systemTitle: systemTitle, content: content)
    }

    /// The plaintext bytes inside a ciphered APDU, or inside the ciphered user-information of an
    /// AARQ, AARE, RLRQ or RLRE. The sender's system title comes from the APDU when it carries one
    /// (general ciphering; the AP title of an AARQ or AARE), else from `senderSystemTitle`.
    public func plaintext(of apdu: APDU, senderSystemTitle: [UInt8]? = nil) throws(DecodeError) -> [UInt8] {
        func title(_ t: [UInt8]?) throws(DecodeError) -> [UInt8] {
            guard let t else { throw Self.failure(.unsupported, "the sender's system title is not known") }
            return t
        }
        func user(_ u: UserInformation?, _ t: [UInt8]?) throws(DecodeError) -> [UInt8] {
            guard case .ciphered(let x)? = u else { throw Self.failure(.unsupported, "user-information is not ciphered") }
            return try unprotect(x.content, senderSystemTitle: try title(t), dedicated: x.tag.isDedicated)
        }
        switch apdu {
        case .ciphered(let x):
            return try unprotect(x.content, senderSystemTitle: try title(senderSystemTitle), dedicated: x.tag.isDedicated)
        case .generalCiphered(let g):
            return try unprotect(g.content, senderSystemTitle: g.systemTitle, dedicated: g.isDedicated)
        case .aarq(let a): return try user(a.userInformation, a.calling.apTitle ?? senderSystemTitle)
        case .aare(let a): return try user(a.userInformation, a.responding.apTitle ?? senderSystemTitle)
        case .releaseRequest(let r), .releaseResponse(let r): return try user(r.userInformation, senderSystemTitle)
        default: throw Self.failure(.unsupported, "a \(apdu.kindName) is not ciphered")
        }
    }

    /// `apdu` with its protection removed: a ciphered APDU becomes the APDU inside (which must be of
    /// the kind its tag names); an AARQ, AARE, RLRQ or RLRE gets its user-information deciphered; any
    /// other APDU is returned as it is. Sender system titles as for `plaintext(of:senderSystemTitle:)`.
    public func decrypt(_ apdu: APDU, senderSystemTitle: [UInt8]? = nil) throws(DecodeError) -> APDU {
        func inner(_ expectedTag: UInt8?) throws(DecodeError) -> APDU {
            let bytes = try plaintext(of: apdu, senderSystemTitle: senderSystemTitle)
            let plain = try APDU.parse(bytes)
            if let expectedTag, plain.tag != expectedTag {
                throw Self.failure(.malformed, "\(apdu.kindName) holds a \(plain.kindName)")
            }
            return plain
        }
        func user(_ u: UserInformation?) throws(DecodeError) -> UserInformation? {
            guard case .ciphered(let x)? = u else { return u }
            switch try inner(x.tag.plaintextTag) {
            case .initiateRequest(let r): return .initiateRequest(r)
            case .initiateResponse(let r): return .initiateResponse(r)
            case .confirmedServiceError(let e): return .confirmedServiceError(e)
            default: throw Self.failure(.malformed, "ciphered user-information holds another APDU")
            }
        }
        switch apdu {
        case .ciphered(let x): return try inner(x.tag.plaintextTag)
        case .generalCiphered: return try inner(nil)
        case .aarq(var a):
            a.userInformation = try user(a.userInformation)
            return .aarq(a)
        case .aare(var a):
            a.userInformation = try user(a.userInformation)
            return .aare(a)
        case .releaseRequest(var r):
            r.userInformation = try user(r.userInformation)
            return .releaseRequest(r)
        case .releaseResponse(var r):
            r.userInformation = try user(r.userInformation)
            return .releaseResponse(r)
        default: return apdu
        }
    }

    // MARK: - HLS mechanism 5 (GMAC)

    /// This side's answer to the peer's challenge in HLS mechanism 5 (DLMS UA 1000-2 Ed. 10,
    /// "HLS authentication mechanisms"): SC (0x10) ‖ IC ‖ GMAC(SC ‖ AK ‖ challenge), the GMAC keyed
    /// with EK, IV = this side's system title ‖ IC. The client sends f(StoC) this way.
    public func hlsGMAC(challenge: [UInt8], invocationCounter: UInt32) throws(DecodeError) -> [UInt8] {
        let sc = SecurityControl.authenticationOnly
        let iv = try Self.iv(systemTitle, invocationCounter)
        let tag = try Self.seal(encryptionKey, iv, aad: [sc.rawValue] + authenticationKey.bytes + challenge, []).tag
        var out = [sc.rawValue]
        out.appendBigEndian(invocationCounter)
        return out + tag
    }

    /// Checks the peer's answer to this side's `challenge` (e.g. the server's f(CtoS), returned by
    /// the reply_to_HLS_authentication method), computed with the peer's system title. Throws a
    /// `.checksum` error when it does not match.
    public func verifyHLSGMAC(_ response: [UInt8], challenge: [UInt8], peerSystemTitle: [UInt8]) throws(DecodeError) {
        guard response.count == 5 + AESGCM.tagLength else {
            throw Self.failure(.malformed, "HLS response of \(response.count) bytes, 17 expected")
        }
        let sc = SecurityControl(rawValue: response[0])
        guard sc.isAuthenticated, !sc.isEncrypted, sc.suite == 0 else {
            throw Self.failure(.unsupported, "HLS response with security control \(sc)")
        }
        let ic = UInt32(response[1]) << 24 | UInt32(response[2]) << 16 | UInt32(response[3]) << 8 | UInt32(response[4])
        let iv = try Self.iv(peerSystemTitle, ic)
        guard AESGCM.open(key: encryptionKey.bytes, iv: iv, aad: [sc.rawValue] + authenticationKey.bytes + challenge,
                          ciphertext: [], tag: Array(response[5...])) != nil else {
            throw Self.failure(.checksum, Self.tagMismatch)
        }
    }

    // MARK: - Helpers

    /// The key an SC selects: suite 0 only; no compression.
    private func key(_ control: SecurityControl, dedicated: Bool) throws(DecodeError) -> DLMSKey {
        guard control.suite == 0 else { throw Self.failure(.unsupported, "security suite \(control.suite)") }
        guard !control.isCompressed else { throw Self.failure(.unsupported, "compressed APDU") }
        if dedicated {
            guard let dedicatedKey else { throw Self.failure(.unsupported, "ded- ciphering without a dedicated key") }
            return dedicatedKey
        }
        if control.usesBroadcastKey {
            guard let broadcastKey else { throw Self.failure(.unsupported, "broadcast key set without a broadcast key") }
            return broadcastKey
        }
        return encryptionKey
    }

    private static func iv(_ systemTitle: [UInt8], _ invocationCounter: UInt32) throws(DecodeError) -> [UInt8] {
        guard systemTitle.count == 8 else {
            throw failure(.malformed, "system title of \(systemTitle.count) bytes, 8 expected")
        }
        var iv = systemTitle
        iv.appendBigEndian(invocationCounter)
        return iv
    }

    private static func seal(_ key: DLMSKey, _ iv: [UInt8], aad: [UInt8], _ plaintext: [UInt8]) throws(DecodeError)
        -> (ciphertext: [UInt8], tag: [UInt8]) {
        guard let sealed = AESGCM.seal(key: key.bytes, iv: iv, aad: aad, plaintext: plaintext) else {
            throw failure(.unsupported, "libcrypto AES-GCM failed")
        }
        return sealed
    }
}
