/// How a DLMS client authenticates and protects an association.
public struct DLMSClientSettings: Sendable {
    /// The authentication mechanism (Green Book "Authentication mechanisms"): none (lowest level),
    /// LLS (password), or HLS mechanism 5 (GMAC).
    public enum Authentication: String, Sendable, CaseIterable {
        case none
        case low
        case hlsGMAC = "hls-gmac"
    }

    /// The protection of xDLMS APDUs with security suite 0 and global keys.
    public enum Protection: String, Sendable, CaseIterable {
        case none
        /// Authenticated (security control 0x10).
        case auth
        /// Authenticated and encrypted (0x30).
        case authEnc = "auth-enc"

        var control: SecurityControl? {
            switch self {
            case .none: nil
            case .auth: .authenticationOnly
            case .authEnc: .authenticatedEncryption
            }
        }
    }

    public var authentication: Authentication = .none
    public var protection: Protection = .none
    /// The LLS password.
    public var password: Secret?
    /// The client's system title (8 bytes): the IV of what it ciphers, its calling AP title.
    public var systemTitle: [UInt8] = Array("AMI".utf8) + [0, 0, 0, 0, 1]
    /// The global unicast encryption key and the authentication key.
    public var encryptionKey: DLMSKey?
    public var authenticationKey: DLMSKey?
    /// The largest APDU the client accepts (proposed in the InitiateRequest).
    public var maxReceivePDUSize: UInt16 = 0xFFFF
    /// How long to wait for the answer to each request (its segments and blocks included).
    public var timeout: Duration = .seconds(5)

    public init() {}

    /// The conformance block the client proposes: LN referencing services with block transfer,
    /// selective access and multiple references; general protection when it ciphers.
    var conformance: Conformance {
        var c: Conformance = [.get, .set, .action, .selectiveAccess, .blockTransferWithGetOrRead,
                              .blockTransferWithSetOrWrite, .blockTransferWithAction, .multipleReferences]
        if protection != .none { c.insert(.generalProtection) }
        return c
    }
}

/// Why a DLMS request failed. `description` is the message of a `prog: where: message` diagnostic.
public enum DLMSClientError: Error, Sendable, CustomStringConvertible {
    case link(DLMSLinkError)
    /// The meter refused the association (AARE result and diagnostic).
    case associationRejected(AssociationResult, AssociationDiagnostic)
    /// HLS: the meter's answer to the client's challenge did not verify, or it refused the client's.
    case authenticationFailed(String)
    /// A ciphered APDU did not decipher (wrong key or system title), or could not be built.
    case security(DecodeError)
    /// The meter's answer is not a valid APDU.
    case malformed(DecodeError)
    /// A valid APDU that does not answer the request (wrong invoke id, other service, exception).
    case unexpected(String)
    /// The meter answered a GET or SET with an error for the object.
    case dataAccess(String, DataAccessResult)
    /// The meter answered an ACTION with an error.
    case actionFailed(String, ActionResult)
    /// Keys or settings missing for what was asked.
    case configuration(String)

    public var description: String {
        switch self {
        case .link(let e): return e.description
        case .associationRejected(let r, let d): return "association \(r): \(d)"
        case .authenticationFailed(let m): return "authentication failed: \(m)"
        case .security(let e): return e.description
        case .malformed(let e): return e.description
        case .unexpected(let m): return m
        case .dataAccess(let what, let r): return "\(what): \(r)"
        case .actionFailed(let what, let r): return "\(what): \(r)"
        case .configuration(let m): return m
        }
    }
}

/// One APDU the client exchanged: the link frames that carried it and, when it was ciphered, its
/// plaintext. Reported in order, so a caller can log each frame with the deciphered APDU beside it.
public struct DLMSExchange: Sendable {
    public var frames: [LinkFrameEvent]
    /// The deciphered APDU, when the APDU on the wire was ciphered.
    public var plaintext: [UInt8]?

    public init(frames: [LinkFrameEvent], plaintext: [UInt8]? = nil) {
        self.frames = frames
        self.plaintext = plaintext
    }
}

/// A DLMS/COSEM client with logical-name referencing over a `DLMSLink` (DLMS UA 1000-2 Ed. 10 /
/// IEC 62056-5-3): the association (AARQ/AARE, LLS, HLS mechanism 5 with its pass 3 and 4), GET
/// (normal, with list, block transfer), SET, ACTION and release, each optionally protected with
/// security suite 0 and global keys. Not thread-safe: one task drives a client.
///
/// The client has one request outstanding at a time, so it takes the answer that comes as the
/// answer to it even when its invoke id differs (some servers, Gurux's among them, answer errors
/// with invoke id 1).
public final class DLMSClient {
    public let link: any DLMSLink
    public let settings: DLMSClientSettings
    /// Called for every APDU exchanged, after it was sent or received and deciphered.
    public var observer: ((DLMSExchange) -> Void)?
    /// The meter's system title, from the AARE.
    public private(set) var serverSystemTitle: [UInt8]?
    /// The meter's InitiateResponse: negotiated conformance and maximum PDU size.
    public private(set) var negotiated: InitiateResponse?

    private let counters: InvocationCounterLease?
    private let security: SecurityContext?
    private var invokeID: UInt8 = 0
    private var frames: [LinkFrameEvent] = []

    /// A client over `link` (already connected at the link level: call `link.connect` first).
    /// `counters` hands out invocation counters; it is required when the settings cipher.
    public init(link: any DLMSLink, settings: DLMSClientSettings, counters: InvocationCounterLease? = nil)
        throws(DLMSClientError) {
        self.link = link
        self.settings = settings
        self.counters = counters
        if settings.protection != .none || settings.authentication == .hlsGMAC {
            guard let ek = settings.encryptionKey, let ak = settings.authenticationKey else {
                throw .configuration("\(settings.authentication == .hlsGMAC ? "HLS-GMAC" : "ciphering") needs the encryption key (ek) and authentication key (ak)")
            }
            guard settings.systemTitle.count == 8 else { throw .configuration("the client system title must be 8 bytes") }
            guard counters != nil else { throw .configuration("ciphering needs an invocation counter store") }
            security = SecurityContext(systemTitle: settings.systemTitle, ek: ek, ak: ak)
        } else {
            security = nil
        }
        if settings.authentication == .low, settings.password == nil {
            throw .configuration("LLS needs a password")
        }
        link.observer = { [unowned self] in self.frames.append($0) }
    }

    // MARK: - Association

    /// Opens the association: AARQ/AARE, then for HLS the exchange of challenges (pass 3 and 4).
    public func associate() throws(DLMSClientError) {
        let initiate = InitiateRequest(conformance: settings.conformance, maxReceivePDUSize: settings.maxReceivePDUSize)
        var userInformation = UserInformation.initiateRequest(initiate)
        var plainInitiate: [UInt8]? = nil
        if let security, let control = settings.protection.control ?? (settings.authentication == .hlsGMAC ? .authenticatedEncryption : nil) {
            let ic = try nextCounter()
            do {
                let x = try security.encrypt(apdu: .initiateRequest(initiate), invocationCounter: ic, control: control)
                userInformation = .ciphered(x)
                plainInitiate = APDU.initiateRequest(initiate).encoded()
            } catch {
                throw .security(error)
            }
        }
        var challenge: [UInt8]? = nil
        let mechanism: MechanismName
        let authentication: AuthenticationValue?
        switch settings.authentication {
        case .none:
            mechanism = .lowest
            authentication = nil
        case .low:
            mechanism = .low
            authentication = settings.password.map { AuthenticationValue($0.bytes) }
        case .hlsGMAC:
            mechanism = .highGMAC
            let c = DLMSClient.randomChallenge()
            challenge = c
            authentication = AuthenticationValue(c)
        }
        let ciphered = security != nil && settings.protection != .none
        let aarq = AARQ.request(mechanism: mechanism, authentication: authentication,
                                systemTitle: security != nil ? settings.systemTitle : nil, ciphered: ciphered,
                                userInformation: userInformation)
        // The LLS password goes to the meter in the clear; its frame record shows asterisks.
        let observer = link.observer
        if settings.authentication == .low, let secret = settings.password?.bytes, let report = observer {
            link.observer = { event in
                var e = event
                if e.direction == .tx { e.bytes = LinkFrameEvent.masking(secret, in: e.bytes) }
                report(e)
            }
        }
        defer { link.observer = observer }
        let answer = try exchange(.aarq(aarq), plaintext: plainInitiate, cipher: false)
        guard case .aare(let aare) = answer.apdu else {
            throw .unexpected("the meter answered the AARQ with a \(answer.apdu.kindName)")
        }
        serverSystemTitle = aare.responding.apTitle
        guard aare.result == .accepted else { throw .associationRejected(aare.result, aare.diagnostic) }
        switch aare.userInformation {
        case .initiateResponse(let r)?: negotiated = r
        case .confirmedServiceError(let e)?: throw .unexpected("association refused: \(e)")
        case .ciphered?, .initiateRequest?:
            throw .unexpected("the AARE's user-information holds no InitiateResponse")
        case nil: throw .unexpected("the AARE carries no InitiateResponse")
        }
        if settings.authentication == .hlsGMAC {
            try hlsPasses(challenge: challenge ?? [], serverChallenge: aare.responding.authenticationValue?.bytes)
        }
    }

    /// HLS pass 3 and 4: answer the meter's challenge with f(StoC) through
    /// `reply_to_HLS_authentication` (Association LN, IC 15, method 1) and check its f(CtoS).
    private func hlsPasses(challenge: [UInt8], serverChallenge: [UInt8]?) throws(DLMSClientError) {
        guard let security, let serverChallenge, let title = serverSystemTitle else {
            throw .authenticationFailed("the AARE carries no challenge or system title")
        }
        let ic = try nextCounter()
        let reply: [UInt8]
        do {
            reply = try security.hlsGMAC(challenge: serverChallenge, invocationCounter: ic)
        } catch {
            throw .security(error)
        }
        let method = MethodDescriptor(classID: 15, instance: OBISCode(0, 0, 40, 0, 0, 255), methodID: 1)
        let result: DLMSData?
        do {
            result = try action(method, parameters: .octetString(reply))
        } catch .actionFailed(_, let r) {
            throw .authenticationFailed("the meter refused the client's answer to its challenge (\(r))")
        }
        guard let answer = result?.bytesValue else {
            throw .authenticationFailed("the meter sent no answer to the client's challenge")
        }
        do {
            try security.verifyHLSGMAC(answer, challenge: challenge, peerSystemTitle: title)
        } catch {
            throw .authenticationFailed("the meter's answer to the client's challenge does not verify (wrong key?)")
        }
    }

    /// Ends the association (RLRQ/RLRE). The link is left to the caller.
    public func release() throws(DLMSClientError) {
        let answer = try exchange(.releaseRequest(Release(reason: 0)), plaintext: nil, cipher: false)
        guard case .releaseResponse = answer.apdu else {
            throw .unexpected("the meter answered the RLRQ with a \(answer.apdu.kindName)")
        }
    }

    // MARK: - Services

    /// Reads one attribute, following a long answer through its blocks.
    public func get(_ attribute: AttributeDescriptor, access: SelectiveAccess? = nil) throws(DLMSClientError) -> DLMSData {
        let id = nextInvokeID()
        var answer = try exchange(.getRequest(.normal(invokeID: id, attribute: attribute, access: access)))
        var joined: [UInt8] = []
        while true {
            guard case .getResponse(let response) = answer.apdu else {
                throw unexpected(answer.apdu, "get \(attribute)")
            }
            switch response {
            case .normal(_, .data(let value)):
                return value
            case .normal(_, .error(let e)):
                throw .dataAccess("get \(attribute)", e)
            case .withDataBlock(_, let block):
                switch block.content {
                case .error(let e): throw .dataAccess("get \(attribute) block \(block.blockNumber)", e)
                case .rawData(let raw): joined += raw
                }
                if block.lastBlock {
                    var c = ByteCursor(joined, layer: .dlmsApplication)
                    do {
                        return try DLMSData.decode(&c)
                    } catch {
                        throw .malformed(error)
                    }
                }
                answer = try exchange(.getRequest(.next(invokeID: id, blockNumber: block.blockNumber)))
            case .withList:
                throw .unexpected("get \(attribute): the meter answered with a list")
            }
        }
    }

    /// Reads several attributes in one request (GET with list); one result per attribute.
    public func get(list: [AttributeSelection]) throws(DLMSClientError) -> [GetDataResult] {
        let id = nextInvokeID()
        var answer = try exchange(.getRequest(.withList(invokeID: id, attributes: list)))
        var joined: [UInt8] = []
        while true {
            guard case .getResponse(let response) = answer.apdu else {
                throw unexpected(answer.apdu, "get with list")
            }
            switch response {
            case .withList(_, let results):
                return results
            case .withDataBlock(_, let block):
                switch block.content {
                case .error(let e): throw .dataAccess("get with list block \(block.blockNumber)", e)
                case .rawData(let raw): joined += raw
                }
                if block.lastBlock {
                    var c = ByteCursor(joined, layer: .dlmsApplication)
                    do {
                        return try c.sequence("result list", GetDataResult.decode)
                    } catch {
                        throw .malformed(error)
                    }
                }
                answer = try exchange(.getRequest(.next(invokeID: id, blockNumber: block.blockNumber)))
            case .normal:
                throw .unexpected("get with list: the meter answered a single result")
            }
        }
    }

    /// Writes one attribute.
    public func set(_ attribute: AttributeDescriptor, value: DLMSData) throws(DLMSClientError) {
        let id = nextInvokeID()
        let answer = try exchange(.setRequest(.normal(invokeID: id, attribute: attribute, value: value)))
        guard case .setResponse(.normal(_, let result)) = answer.apdu else {
            throw unexpected(answer.apdu, "set \(attribute)")
        }
        guard result == .success else { throw .dataAccess("set \(attribute)", result) }
    }

    /// Invokes one method; returns its return parameters, if any.
    @discardableResult
    public func action(_ method: MethodDescriptor, parameters: DLMSData? = nil) throws(DLMSClientError) -> DLMSData? {
        let id = nextInvokeID()
        let answer = try exchange(.actionRequest(.normal(invokeID: id, method: method, parameters: parameters)))
        guard case .actionResponse(.normal(_, let outcome)) = answer.apdu else {
            throw unexpected(answer.apdu, "action \(method)")
        }
        guard outcome.result == .success else { throw .actionFailed("action \(method)", outcome.result) }
        switch outcome.returnParameters {
        case .data(let d)?: return d
        case .error(let e)?: throw .dataAccess("action \(method) return parameters", e)
        case nil: return nil
        }
    }

    // MARK: - Exchange

    private struct Answer {
        var apdu: APDU
    }

    /// Sends `apdu` (ciphered when the settings say so and `cipher`), receives the answer and
    /// deciphers it, reporting both to the observer.
    private func exchange(_ apdu: APDU, plaintext: [UInt8]? = nil, cipher: Bool = true) throws(DLMSClientError) -> Answer {
        let deadline = Deadline.after(settings.timeout)
        var wire = apdu
        var plain = plaintext
        if cipher, let security, let control = settings.protection.control {
            let ic = try nextCounter()
            do {
                if negotiated?.conformance.contains(.generalProtection) == true {
                    wire = .generalCiphered(try security.encryptGeneral(apdu: apdu, invocationCounter: ic, control: control))
                } else {
                    wire = .ciphered(try security.encrypt(apdu: apdu, invocationCounter: ic, control: control))
                }
            } catch {
                throw .security(error)
            }
            plain = apdu.encoded()
        }
        frames.removeAll()
        defer { frames.removeAll() }
        do {
            try link.send(wire.encoded(), deadline: deadline)
        } catch {
            report(plain)
            throw .link(error)
        }
        report(plain)
        let bytes: [UInt8]
        do {
            bytes = try link.receive(deadline: deadline)
        } catch {
            report(nil)
            throw .link(error)
        }
        let received: APDU
        do {
            received = try APDU.parse(bytes)
        } catch {
            report(nil)
            throw .malformed(error)
        }
        guard let security, DLMSClient.isCiphered(received) else {
            report(nil)
            return Answer(apdu: received)
        }
        do {
            let opened = try security.decrypt(received, senderSystemTitle: serverSystemTitle ?? DLMSClient.apTitle(received))
            report(DLMSClient.plaintext(of: opened, wire: received))
            return Answer(apdu: opened)
        } catch {
            report(nil)
            throw .security(error)
        }
    }

    /// Hands the frames gathered since the last report to the observer.
    private func report(_ plaintext: [UInt8]?) {
        guard !frames.isEmpty else { return }
        observer?(DLMSExchange(frames: frames, plaintext: plaintext))
        frames.removeAll()
    }

    private static func isCiphered(_ apdu: APDU) -> Bool {
        switch apdu {
        case .ciphered, .generalCiphered: true
        case .aare(let a): if case .ciphered? = a.userInformation { true } else { false }
        case .releaseResponse(let r): if case .ciphered? = r.userInformation { true } else { false }
        default: false
        }
    }

    private static func apTitle(_ apdu: APDU) -> [UInt8]? {
        if case .aare(let a) = apdu { return a.responding.apTitle }
        return nil
    }

    /// The deciphered bytes to log: the inner APDU, or the InitiateResponse of an AARE or RLRE.
    private static func plaintext(of opened: APDU, wire: APDU) -> [UInt8] {
        switch opened {
        case .aare(let a):
            if case .initiateResponse(let r)? = a.userInformation { return APDU.initiateResponse(r).encoded() }
        case .releaseResponse(let r):
            if case .initiateResponse(let i)? = r.userInformation { return APDU.initiateResponse(i).encoded() }
        default:
            break
        }
        return opened.encoded()
    }

    private func unexpected(_ apdu: APDU, _ what: String) -> DLMSClientError {
        switch apdu {
        case .exceptionResponse(let e): .unexpected("\(what): exception-response: \(e)")
        case .confirmedServiceError(let e): .unexpected("\(what): confirmed-service-error: \(e)")
        default: .unexpected("\(what): the meter answered with a \(apdu.kindName)")
        }
    }

    private func nextInvokeID() -> InvokeIDAndPriority {
        invokeID = (invokeID + 1) & 0x0F
        return InvokeIDAndPriority(invokeID: invokeID)
    }

    private func nextCounter() throws(DLMSClientError) -> UInt32 {
        guard let counters else { throw .configuration("ciphering needs an invocation counter store") }
        do {
            return try counters.next()
        } catch {
            throw .configuration(error.description)
        }
    }

    /// A random challenge of 16 bytes for HLS (the standard allows 8 to 64).
    static func randomChallenge() -> [UInt8] {
        var g = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
    }
}
