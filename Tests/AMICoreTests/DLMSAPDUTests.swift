import Foundation
import Testing
@testable import AMICore

/// xDLMS and ACSE APDUs, built and parsed. The byte strings are Gurux's encodings of the same
/// requests (from the DLMS corpus sessions), so the builders are checked against a peer.
@Suite struct DLMSAPDUTests {
    static func b(_ hex: String) -> [UInt8] { DLMSTest.bytes(hex) }
    static func hex(_ apdu: APDU) -> String { DLMSTest.hex(apdu.encoded()) }

    static let c1 = InvokeIDAndPriority(invokeID: 1)
    static let conformance: Conformance = [.generalProtection, .blockTransferWithGetOrRead, .blockTransferWithSetOrWrite,
                                           .blockTransferWithAction, .multipleReferences, .access, .get, .set,
                                           .selectiveAccess, .action]

    @Test func buildsAARQs() throws {
        let initiate = InitiateRequest(conformance: Self.conformance, maxReceivePDUSize: 0xFFFF)
        let none = APDU.aarq(.request(userInformation: .initiateRequest(initiate)))
        #expect(Self.hex(none) == "601DA109060760857405080101BE10040E01000000065F1F0400401E5DFFFF")
        let lls = APDU.aarq(.request(mechanism: .low, authentication: AuthenticationValue(Array("12345678".utf8)),
                                     userInformation: .initiateRequest(initiate)))
        #expect(Self.hex(lls) == "6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10040E01000000065F1F0400401E5DFFFF")
        #expect(try APDU.parse(lls.encoded()) == lls)
        #expect(Self.conformance.rawValue == 0x00_401E5D)
        #expect(Self.conformance.names.first == "general-protection")
    }

    @Test func readsAAREs() throws {
        guard case .aare(let ok) = try APDU.parse(Self.b("6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040040121D04000007")) else {
            Issue.record("not an AARE")
            return
        }
        #expect(ok.result == .accepted && ok.diagnostic == .serviceUser(0) && ok.applicationContext == .logicalName)
        guard case .initiateResponse(let r)? = ok.userInformation else { Issue.record("no InitiateResponse"); return }
        #expect(r.maxReceivePDUSize == 0x400 && r.vaaName == 7 && r.dlmsVersion == 6 && r.conformance.contains(.get))

        guard case .aare(let refused) = try APDU.parse(Self.b("6129A109060760857405080101A203020101A305A10302010DBE10040E0800065F1F040040121D04000007")) else {
            Issue.record("not an AARE")
            return
        }
        #expect(refused.result == .rejectedPermanent)
        #expect(refused.diagnostic == .authenticationFailure && refused.diagnostic.description == "authentication-failure")
        #expect(AssociationDiagnostic.serviceUser(2).description == "application-context-name-not-supported")
        #expect(AssociationDiagnostic.serviceUser(11).description == "authentication-mechanism-name-not-recognised")
        #expect(AssociationDiagnostic.serviceProvider(2).description == "acse-service-provider: no-common-acse-version")

        // An AARE carrying a ConfirmedServiceError, built and read back.
        let error = APDU.aare(AARE(result: .rejectedPermanent, diagnostic: .serviceUser(1),
                                   userInformation: .confirmedServiceError(ConfirmedServiceError(service: 1, errorClass: 6, value: 1))))
        #expect(Self.hex(error) == "611FA109060760857405080101A203020101A305A103020101BE0604040E010601")
        guard case .aare(let back) = try APDU.parse(error.encoded()), case .confirmedServiceError(let e)? = back.userInformation else {
            Issue.record("no ConfirmedServiceError")
            return
        }
        #expect(e.description == "initiateError: initiate: dlms-version-too-low")
    }

    @Test func buildsGetRequests() {
        let register = AttributeDescriptor(classID: 3, instance: OBISCode(1, 0, 1, 8, 0, 255), attributeID: 2)
        let profile = AttributeDescriptor(classID: 7, instance: OBISCode("1.0.99.1.0.255")!, attributeID: 2)
        func at(_ hour: UInt8) -> COSEMDateTime {
            COSEMDateTime(date: COSEMDate(year: 2024, month: 3, dayOfMonth: 1), time: COSEMTime(hour: hour, minute: 0),
                          deviation: 0, clockStatus: [])
        }
        let cases: [(APDU, String)] = [
            (.getRequest(.normal(invokeID: Self.c1, attribute: register)), "C001C100030100010800FF0200"),
            (.getRequest(.normal(invokeID: Self.c1, attribute: profile, access: .range(RangeDescriptor(from: at(10), to: at(12))))),
             "C001C100070100630100FF0201010204020412000809060000010000FF0F02120000090C07E80301FF0A000000000000090C07E80301FF0C0000000000000100"),
            (.getRequest(.normal(invokeID: Self.c1, attribute: profile, access: .entry(EntryDescriptor(fromEntry: 1, toEntry: 4)))),
             "C001C100070100630100FF020102020406000000010600000004120001120000"),
            (.getRequest(.next(invokeID: Self.c1, blockNumber: 1)), "C002C100000001"),
            (.getRequest(.withList(invokeID: Self.c1, attributes: [
                AttributeSelection(attribute: register),
                AttributeSelection(attribute: AttributeDescriptor(classID: 3, instance: OBISCode(1, 0, 32, 7, 0, 255), attributeID: 2)),
                AttributeSelection(attribute: AttributeDescriptor(classID: 3, instance: OBISCode(1, 0, 1, 7, 0, 255), attributeID: 2)),
            ])), "C003C10300030100010800FF020000030100200700FF020000030100010700FF0200"),
            (.setRequest(.normal(invokeID: Self.c1, attribute: AttributeDescriptor(classID: 8, instance: OBISCode(0, 0, 1, 0, 0, 255), attributeID: 2),
                                 value: .octetString(COSEMDateTime(date: COSEMDate(year: 2024, month: 3, dayOfMonth: 1),
                                                                   time: COSEMTime(hour: 12, minute: 30), deviation: 0, clockStatus: []).bytes))),
             "C101C100080000010000FF0200090C07E80301FF0C1E0000000000"),
            (.actionRequest(.normal(invokeID: Self.c1, method: MethodDescriptor(classID: 70, instance: OBISCode(0, 0, 96, 3, 10, 255), methodID: 1),
                                    parameters: .integer(0))),
             "C301C10046000060030AFF01010F00"),
            (.releaseRequest(Release()), "6203800100"),
        ]
        for (apdu, expected) in cases {
            #expect(Self.hex(apdu) == expected)
            #expect((try? APDU.parse(Self.b(expected))) == apdu, "\(expected)")
        }
    }

    @Test func readsResponses() throws {
        guard case .getResponse(.withList(let i, let results)) = try APDU.parse(Self.b("C403C10300060048EF50001208FB0005000013FD")) else {
            Issue.record("not a GET response with list")
            return
        }
        #expect(i == Self.c1 && i.invokeID == 1 && i.isConfirmed && i.isHighPriority)
        #expect(results == [.data(.doubleLongUnsigned(4_779_856)), .data(.longUnsigned(2299)), .data(.doubleLong(5117))])

        #expect(try APDU.parse(Self.b("C401C10104")) == .getResponse(.normal(invokeID: Self.c1, result: .error(.objectUndefined))))
        #expect(DataAccessResult.objectUndefined.description == "object-undefined")
        #expect(DataAccessResult(rawValue: 200).description == "data-access-result 200")
        #expect(ActionResult.longActionAborted.description == "long-action-aborted" && ActionResult(rawValue: 17).name == nil)
        #expect(try APDU.parse(Self.b("C501C100")) == .setResponse(.normal(invokeID: Self.c1, result: .success)))
        #expect(try APDU.parse(Self.b("C701C10000")) == .actionResponse(.normal(invokeID: Self.c1, outcome: ActionOutcome(result: .success))))
        #expect(try APDU.parse(Self.b("C701C1000100091110000003E8AD0C7A0912F6330108A9FE91"))
                == .actionResponse(.normal(invokeID: Self.c1, outcome: ActionOutcome(
                    result: .success, returnParameters: .data(.octetString(Self.b("10000003E8AD0C7A0912F6330108A9FE91")))))))
        guard case .getResponse(.withDataBlock(_, let block)) = try APDU.parse(Self.b("C402C1010000000200 05 0102110111")) else {
            Issue.record("not a block")
            return
        }
        #expect(block.lastBlock && block.blockNumber == 2 && block.content == .rawData(Self.b("0102110111")))
    }

    @Test func blockTransferAndListKindsRoundTrip() throws {
        let d = AttributeDescriptor(classID: 1, instance: OBISCode(0, 0, 96, 1, 0, 255), attributeID: 2)
        let m = MethodDescriptor(classID: 70, instance: OBISCode(0, 0, 96, 3, 10, 255), methodID: 2)
        let block = DataBlockSA(lastBlock: false, blockNumber: 1, rawData: [0x09, 0x02])
        let apdus: [APDU] = [
            .setRequest(.withFirstDataBlock(invokeID: Self.c1, attribute: d, block: block)),
            .setRequest(.withDataBlock(invokeID: Self.c1, block: block)),
            .setRequest(.withList(invokeID: Self.c1, attributes: [AttributeSelection(attribute: d)], values: [.unsigned(1)])),
            .setRequest(.withListAndFirstDataBlock(invokeID: Self.c1, attributes: [AttributeSelection(attribute: d)], block: block)),
            .setResponse(.dataBlock(invokeID: Self.c1, blockNumber: 1)),
            .setResponse(.lastDataBlock(invokeID: Self.c1, result: .success, blockNumber: 2)),
            .setResponse(.lastDataBlockWithList(invokeID: Self.c1, results: [.success, .readWriteDenied], blockNumber: 2)),
            .setResponse(.withList(invokeID: Self.c1, results: [.success, .typeUnmatched])),
            .actionRequest(.nextPBlock(invokeID: Self.c1, blockNumber: 3)),
            .actionRequest(.withList(invokeID: Self.c1, methods: [m, m], parameters: [.integer(0), .null])),
            .actionRequest(.withFirstPBlock(invokeID: Self.c1, method: m, block: block)),
            .actionRequest(.withListAndFirstPBlock(invokeID: Self.c1, methods: [m], block: block)),
            .actionRequest(.withPBlock(invokeID: Self.c1, block: block)),
            .actionResponse(.withPBlock(invokeID: Self.c1, block: block)),
            .actionResponse(.withList(invokeID: Self.c1, outcomes: [ActionOutcome(result: .success), ActionOutcome(result: .otherReason)])),
            .actionResponse(.nextPBlock(invokeID: Self.c1, blockNumber: 4)),
            .getResponse(.withDataBlock(invokeID: Self.c1, block: DataBlockG(lastBlock: true, blockNumber: 5, content: .error(.longGetAborted)))),
            .exceptionResponse(ExceptionResponse(stateError: 1, serviceError: .operationNotPossible)),
            .exceptionResponse(ExceptionResponse(stateError: 2, serviceError: .invocationCounterError(0x1234))),
            .eventNotification(EventNotification(time: nil, attribute: d, value: .boolean(true))),
            .confirmedServiceError(ConfirmedServiceError(service: 5, errorClass: 5, value: 1)),
            .releaseResponse(Release(reason: 0, userInformation: .initiateResponse(
                InitiateResponse(conformance: [.get], maxReceivePDUSize: 1024)))),
            .aarq(AARQ(userInformation: nil, protocolVersion: [0x07, 0x80], otherFields: [ACSEField(tag: 0xA2, content: [0x06, 0x00])])),
        ]
        for apdu in apdus {
            #expect(try APDU.parse(apdu.encoded()) == apdu, "\(apdu.kindName)")
        }
        #expect(Self.hex(.exceptionResponse(ExceptionResponse(stateError: 2, serviceError: .invocationCounterError(0x1234)))) == "D80206" + "00001234")
        #expect(ExceptionResponse(stateError: 1, serviceError: .operationNotPossible).description == "service-not-allowed, operation-not-possible")
    }

    @Test func dataNotifications() throws {
        let time = COSEMDateTime(date: COSEMDate(year: 2024, month: 3, dayOfMonth: 1, dayOfWeek: 5), time: COSEMTime(hour: 12, minute: 0),
                                 deviation: -60, clockStatus: [])
        let body: DLMSData = .structure([.octetString([1, 0, 1, 8, 0, 255]), .doubleLongUnsigned(4_779_856)])
        let push = APDU.dataNotification(DataNotification(invokeID: LongInvokeIDAndPriority(rawValue: 0x4000_0001), dateTime: time, body: body))
        #expect(Self.hex(push) == "0F400000010C07E80301050C000000FFC4000202090601000108" + "00FF060048EF50")
        #expect(try APDU.parse(push.encoded()) == push)
        guard case .dataNotification(let n) = try APDU.parse(Self.b("0F0000000100020209060100010800FF060048EF50")) else {
            Issue.record("not a data-notification")
            return
        }
        #expect(n.dateTime == nil && n.invokeID.invokeID == 1 && !n.invokeID.isConfirmed && n.body == body)
        #expect(throws: DecodeError.self) { try APDU.parse(Self.b("0F00000001030102030000")) }  // a 3-byte date-time
    }

    @Test func errorsNameTheirPlace() {
        func failure(_ hex: String) -> DecodeError? {
            do {
                _ = try APDU.parse(Self.b(hex), base: 100)
                return nil
            } catch {
                return error
            }
        }
        let unknownType = failure("C401C10007")
        #expect(unknownType?.offset == 104 && unknownType?.kind == .malformed && unknownType?.layer == .dlmsApplication)
        #expect(failure("07")?.kind == .unsupported)
        #expect(failure("C401C100110100")?.description == "dlms-app: 1 byte after the APDU")
        #expect(failure("C401C1")?.kind == .needMore(count: 1))
        #expect(failure("C409C100")?.kind == .unsupported)
        #expect(failure("6003A10100")?.kind == .malformed)  // application-context-name without its OID
        #expect(failure("6009A1070605608574050801")?.kind == .unsupported)  // an OID of another arc
        #expect(failure("6003A10806")?.kind == .needMore(count: 7))  // a field longer than the AARQ
        #expect(failure("6007BE050403600100")?.kind == .malformed)  // an AARQ inside an AARQ's user-information
        #expect(failure("C81E30")?.layer == .dlmsApplication)
        #expect(failure("C8023001")?.layer == .dlmsSecurity)  // the security header is cut short
    }

    /// Every prefix of real APDUs fails cleanly, and random bytes never trap.
    @Test func truncatedAndRandomInputNeverTraps() throws {
        let samples = [
            "6169A109060760857405080103A203020100A305A10302010EA40A04084D4D4D0000BC614E88020780890760857405080205AA12801056F326A4D6AACA4A4EF78685A028CEF9BE230421281F30000003E858FBD5B4A5B5B72531D1E3861ED656033EC99E1D110877AC6221",
            "C001C100070100630100FF0201010204020412000809060000010000FF0F02120000090C07E80301FF0A000000000000090C07E80301FF0C0000000000000100",
            "DB084D4D4D00000000011E3000000004C0376965A4E5B7B5F38D5538F2A5F8C3C6E8A59A537C7EB8F6",
        ].map(Self.b)
        for s in samples {
            #expect((try? APDU.parse(s)) != nil)
            for n in 0..<s.count { #expect(throws: DecodeError.self) { try APDU.parse(Array(s[0..<n])) } }
        }
        var rng = SplitMix64(state: 0xA9D0)
        let tags: [UInt8] = [0x60, 0x61, 0x62, 0x63, 0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0xC8, 0xDB, 0x0F, 0xD8, 0x01, 0x08, 0x0E]
        for _ in 0..<30_000 {
            var bytes = (0..<Int(rng.next() % 40)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if !bytes.isEmpty { bytes[0] = tags[Int(rng.next() % UInt64(tags.count))] }
            guard let apdu = try? APDU.parse(bytes) else { continue }
            #expect(try APDU.parse(apdu.encoded()).encoded() == apdu.encoded())
        }
    }
}
