import Foundation
import Testing
@testable import AMICore

/// The DLMS corpus (`../shared/corpus/dlms/frames.jsonl`, see its README.md): 842 complete APDUs from
/// 13 client–meter sessions with Gurux's decoding of each, 380 of them ciphered. Skipped when the
/// corpus is not beside the package.
@Suite(.enabled(if: DLMSTest.corpusExists, "DLMS corpus not found beside the package"))
struct DLMSCorpusTests {
    static let frames: [DLMSTest.Frame] = (try? DLMSTest.frames()) ?? []

    /// The sender's system title of each ciphered frame: the AP titles of its session's AARQ and AARE.
    static func senderTitles() throws -> [String: [UInt8]] {
        var client: [String: [UInt8]] = [:]
        var out: [String: [UInt8]] = [:]
        for f in frames {
            if case .aarq(let a) = try APDU.parse(f.pdu), let t = a.calling.apTitle { client[f.session] = t }
            out[f.name] = f.isRequest ? client[f.session] : DLMSTest.serverTitle
        }
        return out
    }

    static let context = SecurityContext(systemTitle: DLMSTest.guruxClientTitle, ek: DLMSTest.ek, ak: DLMSTest.ak)

    @Test func everyAPDUParses() throws {
        #expect(Self.frames.count == 842)
        var failures: [String] = []
        for f in Self.frames {
            do { _ = try APDU.parse(f.pdu) } catch { failures.append("\(f.name): \(error)") }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test func everyCipheredAPDUDecryptsToGuruxPlaintext() throws {
        let titles = try Self.senderTitles()
        var checked = 0
        for f in Self.frames where f.ciphered {
            let apdu = try APDU.parse(f.pdu)
            let plain = try Self.context.plaintext(of: apdu, senderSystemTitle: titles[f.name])
            #expect(DLMSTest.hex(plain) == DLMSTest.hex(try #require(f.plain)), "\(f.name)")
            checked += 1
        }
        #expect(checked == 380)
    }

    @Test func parsesAsGuruxDoes() throws {
        let titles = try Self.senderTitles()
        var compared = 0
        for f in Self.frames {
            let apdu = try APDU.parse(f.pdu)
            #expect(GuruxXML.elements(apdu) == GuruxXML.elements(f.expectedXML), "\(f.name)")
            compared += 1
            guard f.ciphered, let plainXML = f.plainXML else { continue }
            // The deciphered content, against Gurux's decoding of the plaintext.
            let opened = try Self.context.decrypt(apdu, senderSystemTitle: titles[f.name])
            let inner: APDU = switch opened {
            case .aarq(let a): a.userInformation!.apdu
            case .aare(let a): a.userInformation!.apdu
            case .releaseRequest(let r), .releaseResponse(let r): r.userInformation!.apdu
            default: opened
            }
            #expect(GuruxXML.elements(inner) == GuruxXML.elements(plainXML), "\(f.name) deciphered")
            compared += 1
        }
        #expect(compared == 842 + 380)
    }

    @Test func everyAPDUReencodesToItsBytes() throws {
        var checked = 0
        for f in Self.frames {
            for bytes in [f.pdu, f.plain].compactMap({ $0 }) {
                #expect(DLMSTest.hex(try APDU.parse(bytes).encoded()) == DLMSTest.hex(bytes), "\(f.name)")
                checked += 1
            }
        }
        #expect(checked == 842 + 380)
    }

    /// Long GET responses come in blocks of raw bytes; joined in order they must decode as one value
    /// (profile buffers of 96 entries, the association's object list).
    @Test func joinedDataBlocksDecode() throws {
        let titles = try Self.senderTitles()
        var joined: [String: [UInt8]] = [:]
        var decoded = 0
        for f in Self.frames where !f.isRequest {
            guard case .getResponse(.withDataBlock(_, let block)) = try Self.context.decrypt(try APDU.parse(f.pdu),
                                                                                            senderSystemTitle: titles[f.name]),
                  case .rawData(let raw) = block.content else { continue }
            joined[f.session, default: []] += raw
            if block.lastBlock {
                let value = try DLMSData(bytes: joined.removeValue(forKey: f.session) ?? [])
                #expect(value.elements?.isEmpty == false, "\(f.name)")
                decoded += 1
            }
        }
        #expect(decoded == 11)
    }

    /// In HLS-GMAC sessions the client answers the server's challenge (AARE responding-authentication)
    /// with f(StoC) in reply_to_HLS_authentication, and the server returns f(CtoS) for the client's
    /// challenge (AARQ calling-authentication). Both must verify with the session's system titles,
    /// and the client's must be what `hlsGMAC` computes.
    @Test func hlsMechanism5ExchangesVerify() throws {
        let titles = try Self.senderTitles()
        var ctos: [String: [UInt8]] = [:], stoc: [String: [UInt8]] = [:], client: [String: [UInt8]] = [:]
        var verified = 0
        for f in Self.frames {
            let apdu = try Self.context.decrypt(try APDU.parse(f.pdu), senderSystemTitle: titles[f.name])
            switch apdu {
            case .aarq(let a) where a.calling.mechanism == .highGMAC:
                ctos[f.session] = a.calling.authenticationValue?.bytes
                client[f.session] = a.calling.apTitle
            case .aare(let a) where a.responding.mechanism == .highGMAC:
                stoc[f.session] = a.responding.authenticationValue?.bytes
            case .actionRequest(.normal(_, let m, .octetString(let fStoC)?)) where m.classID == 15 && m.methodID == 1:
                let challenge = try #require(stoc[f.session]), title = try #require(client[f.session])
                let clientSide = SecurityContext(systemTitle: title, ek: DLMSTest.ek, ak: DLMSTest.ak)
                let ic = UInt32(fStoC[1]) << 24 | UInt32(fStoC[2]) << 16 | UInt32(fStoC[3]) << 8 | UInt32(fStoC[4])
                #expect(try clientSide.hlsGMAC(challenge: challenge, invocationCounter: ic) == fStoC, "\(f.name)")
                try Self.context.verifyHLSGMAC(fStoC, challenge: challenge, peerSystemTitle: title)
                verified += 1
            case .actionResponse(.normal(_, let outcome)):
                guard case .data(.octetString(let fCtoS))? = outcome.returnParameters, fCtoS.count == 17 else { continue }
                let challenge = try #require(ctos[f.session])
                try Self.context.verifyHLSGMAC(fCtoS, challenge: challenge, peerSystemTitle: DLMSTest.serverTitle)
                #expect(throws: DecodeError.self) {
                    try Self.context.verifyHLSGMAC(fCtoS, challenge: challenge + [0], peerSystemTitle: DLMSTest.serverTitle)
                }
                verified += 1
            default:
                break
            }
        }
        #expect(verified == 10)  // s05, s06, s07, s09, s13: one f(StoC) and one f(CtoS) each
    }
}
