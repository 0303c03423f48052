import Foundation
import Testing
@testable import AMICore

private typealias T = DLMSLinkTest

/// HDLC (IEC 62056-46) and wrapper (IEC 62056-47) frame codecs: hand-made vectors and hostile input.
@Suite struct DLMSLinkCodecTests {
    /// CRC-16/X-25 catalogue check value, and the HCS/FCS of a captured SNRM and UA.
    @Test(arguments: [
        ("313233343536373839", 0x906E as UInt16),
        ("", 0x0000),
        ("A0070321 93", 0x010F),  // SNRM 7E A007 03 21 93 0F01 7E: FCS sent LSB first
    ])
    func frameCheck(_ hex: String, _ expected: UInt16) {
        let b = T.bytes(hex)
        #expect(HDLCFrameCheck.checksum(b, 0..<b.count) == expected)
    }

    @Test(arguments: [
        // (bytes, value, size, upper, lower)
        ("03", 1 as UInt32, 1, 1 as UInt32, nil as UInt32?),
        ("21", 16, 1, 16, nil),
        ("23", 17, 1, 17, nil),
        ("FF", 127, 1, 127, nil),
        ("0223", 1 << 7 | 17, 2, 1, 17),
        ("FEFF", 0x3FFF, 2, 127, 127),
        ("00020023", 1 << 14 | 17, 4, 1, 17),
        ("00FE0021", 0x7F << 14 | 16, 4, 0x7F, 16),
        ("FEFEFEFF", 0x0FFF_FFFF, 4, 0x3FFF, 0x3FFF),
    ])
    func addresses(_ hex: String, _ value: UInt32, _ size: Int, _ upper: UInt32, _ lower: UInt32?) throws {
        var c = ByteCursor(T.bytes(hex), layer: .hdlc)
        let a = try HDLCAddress.read(&c)
        #expect(a.value == value && a.size == size && a.upper == upper && a.lower == lower)
        #expect(c.isAtEnd)
        #expect(a.bytes == T.bytes(hex))
        #expect(HDLCAddress(value: value, size: size) == a)
    }

    @Test func serverAddressForms() throws {
        #expect(HDLCAddress.server(logical: 1)?.bytes == [0x03])
        #expect(HDLCAddress.server(logical: 1, physical: 17)?.bytes == [0x02, 0x23])
        #expect(HDLCAddress.server(logical: 1, physical: 17, size: 4)?.bytes == [0x00, 0x02, 0x00, 0x23])
        #expect(HDLCAddress.server(logical: 1, physical: 0x1234)?.bytes == [0x00, 0x02, 0x48, 0x69])
        #expect(HDLCAddress.server(logical: 128) == nil)
        #expect(HDLCAddress.server(logical: 1, physical: 200, size: 2) == nil)
        #expect(HDLCAddress.server(logical: 0x4000, physical: 1) == nil)
        #expect(HDLCAddress.server(logical: 1, size: 4) == nil)
        #expect(HDLCAddress.client(16) == .publicClient)
        #expect(HDLCAddress.client(128) == nil)
        #expect(HDLCAddress(value: 5, size: 3) == nil)
        #expect(HDLCAddress(value: 128, size: 1) == nil)
    }

    @Test(arguments: ["01", "000001", "0000", "00000000", "0000000001"])
    func badAddresses(_ hex: String) {
        var c = ByteCursor(T.bytes(hex) + [0x01], layer: .hdlc)
        if hex == "01" {
            #expect((try? HDLCAddress.read(&c)) != nil)
            return
        }
        #expect(throws: DecodeError.self) { try HDLCAddress.read(&c) }
    }

    /// Every control byte either decodes and encodes back to itself, or is one DLMS does not use.
    @Test func controlBytes() {
        var known = 0
        for b in 0...255 {
            guard let c = HDLCFrame.Control(byte: UInt8(b)) else {
                // RR/RNR are xxxP0001 / xxxP0101: what is left unnamed is REJ, SREJ and unused U frames.
                #expect(b & 0x01 == 1 && b & 0x0F != 0x01 && b & 0x0F != 0x05)
                continue
            }
            known += 1
            #expect(c.byte == UInt8(b))
            #expect(c.pollFinal == (b & 0x10 != 0))
        }
        #expect(known == 128 + 16 + 16 + 6 * 2)
        #expect(HDLCFrame.Control(byte: 0x93) == .snrm(pf: true))
        #expect(HDLCFrame.Control(byte: 0x73) == .ua(pf: true))
        #expect(HDLCFrame.Control(byte: 0x53) == .disc(pf: true))
        #expect(HDLCFrame.Control(byte: 0x1F) == .dm(pf: true))
        #expect(HDLCFrame.Control(byte: 0x97) == .frmr(pf: true))
        #expect(HDLCFrame.Control(byte: 0x13) == .ui(pf: true))
        #expect(HDLCFrame.Control(byte: 0xD1) == .rr(nr: 6, pf: true))
        #expect(HDLCFrame.Control(byte: 0xB5) == .rnr(nr: 5, pf: true))
        #expect(HDLCFrame.Control(byte: 0xBA) == .i(ns: 5, nr: 5, pf: true))
    }

    @Test func encodeAndDecode() throws {
        let snrm = HDLCFrame(destination: .managementLogicalDevice, source: .publicClient, control: .snrm(pf: true))
        #expect(try snrm.encoded() == T.bytes("7EA0070321930F017E"))
        // 4-byte server address 1/17, client 1 (management), an I frame with an APDU.
        let server = try #require(HDLCAddress.server(logical: 1, physical: 17, size: 4))
        let client = try #require(HDLCAddress.client(1))
        let i = HDLCFrame(destination: server, source: client, control: .i(ns: 3, nr: 2, pf: true), segmented: true,
                          information: HDLCFrame.llcCommand + [0xC0, 0x01, 0xC1])
        let encoded = try i.encoded()
        #expect(encoded.count == 1 + 2 + 4 + 1 + 1 + 2 + 6 + 2 + 1)
        #expect(encoded[1] == 0xA8 && Int(encoded[2]) == encoded.count - 2)
        #expect(HDLCFrame.scan(encoded, at: 0, end: encoded.count, atEnd: true) == .frame(length: encoded.count))
        #expect(try HDLCFrame(decoding: encoded) == i)
        // Too long for the 11-bit length.
        let big = HDLCFrame(destination: server, source: client, control: .ui(pf: false),
                            information: [UInt8](repeating: 0, count: HDLCFrame.maxInformationLength(destination: server, source: client) + 1))
        #expect(throws: DLMSLinkError.self) { try big.encoded() }
        var fits = big
        fits.information.removeLast()
        #expect(try fits.encoded().count == HDLCFrame.maxLength + 2)
    }

    @Test func parameters() throws {
        // UA of the simulator: 1-byte lengths, 4-byte windows.
        let ua = T.bytes("818012050180060180070400000001080400000001")
        #expect(try HDLCParameters(decoding: ua) == HDLCParameters())
        #expect(try HDLCParameters(decoding: []) == HDLCParameters())
        let p = HDLCParameters(maxInfoTransmit: 64, maxInfoReceive: 2030, windowTransmit: 1, windowReceive: 7)
        #expect(p.encoded == T.bytes("81 80 0D 05 01 40 06 02 07 EE 07 01 01 08 01 07"))
        #expect(try HDLCParameters(decoding: p.encoded) == p)
        // Only some parameters, one of 4 bytes, an unknown one skipped.
        #expect(try HDLCParameters(decoding: T.bytes("8180 0C 06 04 00000100 09 01 FF 08 01 03"))
                == HDLCParameters(maxInfoReceive: 256, windowReceive: 3))
        for bad in ["8280 00", "8181 00", "8180 05 0501", "8180 03 050380", "8180 03 070100", "8180 03 070108",
                    "8180 03 050100", "8180 04 05030000"] {
            #expect(throws: DecodeError.self, "\(bad)") { try HDLCParameters(decoding: T.bytes(bad)) }
        }
    }

    @Test func wrapper() throws {
        let frame = WrapperFrame(source: 16, destination: 1, payload: [0x60, 0x1D])
        let encoded = try frame.encoded()
        #expect(encoded == T.bytes("0001 0010 0001 0002 601D"))
        #expect(WrapperFrame.scan(encoded, at: 0, end: encoded.count, atEnd: true) == .frame(length: 10))
        #expect(try WrapperFrame(decoding: encoded) == frame)
        for n in 0..<encoded.count {
            #expect(WrapperFrame.scan(encoded, at: 0, end: n, atEnd: false) == .needMore)
            guard case .invalid(let e, skip: 1) = WrapperFrame.scan(encoded, at: 0, end: n, atEnd: true),
                  case .needMore = e.kind else {
                Issue.record("prefix of \(n) bytes at end of input")
                continue
            }
        }
        let http = Array("HTTP/1.1 400".utf8)
        guard case .invalid(let e, skip: 1) = WrapperFrame.scan(http, at: 0, end: http.count, atEnd: false) else {
            Issue.record("HTTP taken for a wrapper")
            return
        }
        #expect(e.layer == .dlmsWrapper && e.kind == .malformed && e.message == "wrapper version 0x4854, not 0x0001")
        #expect(throws: DLMSLinkError.self) {
            try WrapperFrame(source: 1, destination: 1, payload: [UInt8](repeating: 0, count: 0x10000)).encoded()
        }
    }

    // MARK: - hostile input

    /// Frames whose FCS holds a 0x7E byte (the README of the simulator: a reader that looks for the
    /// closing flag stops inside the FCS). Made by trying APDUs until the CRC has 0x7E in each place.
    @Test func flagInsideFrameCheck() throws {
        var found: [Int: [UInt8]] = [:]
        for n in 0..<65536 where found.count < 2 {
            let f = try HDLCFrame(destination: .publicClient, source: .managementLogicalDevice, control: .i(ns: 0, nr: 1, pf: true),
                                  information: HDLCFrame.llcResponse + [0xC4, 0x01, 0xC1, 0x00, UInt8(n >> 8), UInt8(n & 0xFF)]).encoded()
            let fcs = f.count - 3
            if f[fcs] == 0x7E && found[0] == nil { found[0] = f }
            if f[fcs + 1] == 0x7E && found[1] == nil { found[1] = f }
        }
        #expect(found.count == 2)
        for (_, f) in found {
            #expect(HDLCFrame.scan(f, at: 0, end: f.count, atEnd: true) == .frame(length: f.count))
            // Two in a row, and cut one byte short: never a frame ending at the 0x7E in the FCS.
            let stream = f + f
            #expect(HDLCFrame.scan(stream, at: 0, end: stream.count, atEnd: false) == .frame(length: f.count))
            #expect(HDLCFrame.scan(stream, at: f.count, end: stream.count, atEnd: true) == .frame(length: f.count))
            #expect(HDLCFrame.scan(f, at: 0, end: f.count - 1, atEnd: false) == .needMore)
        }
    }

    @Test func checkSequenceErrors() throws {
        let good = T.bytes("7EA02B032110FBAFE6E600601DA109060760857405080101BE10040E01000000065F1F0400401E5DFFFF91237E")
        let h = HDLCFrame.scan(good, at: 0, end: good.count, atEnd: true)
        guard case .frame(let length) = h else {
            Issue.record("\(h)")
            return
        }
        #expect(length == good.count)
        var badHCS = good
        badHCS[6] ^= 0x01
        guard case .invalid(let e1, skip: 1) = HDLCFrame.scan(badHCS, at: 0, end: 8, atEnd: false) else {
            Issue.record("HCS not checked as soon as the header is in")
            return
        }
        #expect(e1.kind == .checksum && e1.offset == 6 && e1.message == "HCS 0xAFFA, computed 0xAFFB")
        var badFCS = good
        badFCS[20] ^= 0x80
        guard case .invalid(let e2, skip: good.count) = HDLCFrame.scan(badFCS, at: 0, end: good.count, atEnd: false) else {
            Issue.record("bad FCS not skipped whole")
            return
        }
        #expect(e2.kind == .checksum && e2.offset == good.count - 3 && e2.message.hasPrefix("FCS 0x2391, computed"))
        #expect(throws: DecodeError.self) { try HDLCFrame(decoding: badFCS) }
        var noClose = good
        noClose[good.count - 1] = 0x00
        guard case .invalid(let e3, skip: 1) = HDLCFrame.scan(noClose, at: 0, end: good.count, atEnd: false) else {
            Issue.record("missing closing flag accepted")
            return
        }
        #expect(e3.kind == .malformed && e3.offset == good.count - 1)
    }

    @Test(arguments: [
        ("00A0070321930F017E", "0x00 where a frame's opening flag 0x7E belongs"),
        ("7E7EA0070321930F017E", "flag 0x7E without a frame between"),
        ("7EB0070321930F017E", "frame format 0xB0: not type 3 (0xA)"),
        ("7EA0060321930F017E", "frame length 6 is below the minimum of 7"),
        ("7EA0080321930F01007E", "frame length 8 does not fit its 5-byte header and check sequences"),
        ("7EA0090321930F0100007E", "frame length 9 does not fit its 5-byte header and check sequences"),
        ("7EA0070406072193 0F01 7E", "address field of 3 bytes (1, 2 or 4 are allowed)"),
        ("7EA00702040608 0A 21 93 0F01 7E", "address field longer than 4 bytes"),
    ])
    func malformed(_ hex: String, _ message: String) {
        let b = T.bytes(hex)
        guard case .invalid(let e, skip: 1) = HDLCFrame.scan(b, at: 0, end: b.count, atEnd: true) else {
            Issue.record("\(hex) not invalid")
            return
        }
        #expect(e.layer == .hdlc && e.message == message)
        #expect(e.description == "hdlc: " + message)
    }

    /// Random bytes and mutated frames: no trap, a frame is only ever reported inside the bytes at
    /// hand, and every decode of a scanned frame succeeds or throws.
    @Test func hostile() {
        var rng = SplitMix64(state: 0xD1_5EED)
        var seeds: [[UInt8]] = T.frames.map(\.bytes).filter { $0.first == 0x7E }
        if seeds.isEmpty { seeds = [T.bytes("7EA0070321930F017E")] }
        for round in 0..<1500 {
            var b: [UInt8]
            if round % 2 == 0 {
                b = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if round % 4 == 0, !b.isEmpty { b[0] = 0x7E; if b.count > 1 { b[1] = 0xA0 | (b[1] & 0x0F) } }
            } else {
                b = seeds[Int(rng.next() % UInt64(seeds.count))]
                for _ in 0...(rng.next() % 3) where !b.isEmpty {
                    b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 3 == 0 { b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1)))) }
            }
            for start in b.indices {
                for atEnd in [false, true] {
                    switch HDLCFrame.scan(b, at: start, end: b.count, atEnd: atEnd) {
                    case .frame(let length):
                        #expect(length >= 9 && start + length <= b.count)
                        _ = try? HDLCFrame(decoding: b, at: start)
                    case .invalid(let e, let skip):
                        #expect(skip >= 1 && e.offset >= start && e.offset <= b.count)
                    case .needMore:
                        #expect(!atEnd)
                    }
                    if case .frame(let length) = WrapperFrame.scan(b, at: start, end: b.count, atEnd: atEnd) {
                        #expect(start + length <= b.count)
                        #expect((try? WrapperFrame(decoding: b, at: start)) != nil)
                    }
                }
            }
            _ = try? HDLCParameters(decoding: b)
        }
    }
}
