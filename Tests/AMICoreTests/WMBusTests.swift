import Foundation
import Testing
@testable import AMICore

enum WMBusTest {
    /// The key 00 01 … 0F of the examples.
    static let key = "000102030405060708090A0B0C0D0E0F"

    /// Keys from a key file written with `lines` (mode 0600).
    static func keys(_ lines: String) throws -> WMBusKeys {
        let dir = makeTemporaryDirectory("wmbus-keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keys"
        FileManager.default.createFile(atPath: path, contents: Data(lines.utf8), attributes: [.posixPermissions: 0o600])
        return try WMBusKeys(Secrets(keyFile: path, environment: [:]))
    }

    static func options(_ keyLines: String? = nil) throws -> DecodeOptions {
        var o = DecodeOptions()
        if let k = keyLines { o.wmbusKeys = try keys(k) }
        return o
    }

    /// Decodes the frames one after the other in one stream.
    static func decode(_ frames: [[UInt8]], options: DecodeOptions = DecodeOptions()) throws(DecodeError) -> DecodeOutput {
        var state = WMBusStreamState()
        var out = DecodeOutput()
        for (i, f) in frames.enumerated() {
            try WMBusDecoder.decode(f, context: FrameContext(source: "test", frameIndex: i, options: options),
                                    state: &state, into: &out)
        }
        return out
    }

    static func readings(_ out: DecodeOutput) -> [Reading] {
        out.records.compactMap { if case .reading(let r) = $0 { r } else { nil } }
    }

    /// The CRC of EN 13757-4 bit by bit (apart from the decoder's table).
    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var c: UInt16 = 0
        for b in bytes {
            c ^= UInt16(b) << 8
            for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x3D65 : c << 1 }
        }
        return ~c
    }

    /// The frame (without CRCs) in format A: each block followed by its CRC.
    static func formatA(_ f: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var blocks = [f[0..<10]]
        var i = 10
        while i < f.count { blocks.append(f[i..<min(i + 16, f.count)]); i += 16 }
        for b in blocks { let c = crc(b); out += b + [UInt8(c >> 8), UInt8(c & 0xFF)] }
        return out
    }

    /// The frame in format B: L counts the CRCs; one CRC after 126 bytes, one at the end.
    static func formatB(_ f: [UInt8]) -> [UInt8] {
        var g = f
        let n = f.count + (f.count + 2 > 128 ? 4 : 2)
        g[0] = UInt8(n - 1)
        var out: [UInt8] = []
        let first = min(g.count, 126)
        let c1 = crc(g[0..<first])
        out += g[0..<first] + [UInt8(c1 >> 8), UInt8(c1 & 0xFF)]
        if g.count > 126 {
            let c2 = crc(g[126...])
            out += g[126...] + [UInt8(c2 >> 8), UInt8(c2 & 0xFF)]
        }
        return out
    }

    /// Link header of KAM (0x2C2D) 12345678, version 1, water, SND-NR, then `rest`; L set.
    static func frame(_ rest: String) -> [UInt8] {
        let body = MBusTest.bytes("44 2D2C 78563412 01 07") + MBusTest.bytes(rest)
        return [UInt8(body.count)] + body
    }
}

struct WMBusLinkTests {
    @Test func crcCheckValue() {
        // CRC-16/EN-13757 in the CRC catalogue: check value of "123456789".
        #expect(WMBusCRC.checksum(Array("123456789".utf8), 0..<9) == 0xC2B7)
    }

    /// A frame without CRCs, then in formats A and B, short and long (format B with block 3).
    static let plain = WMBusTest.frame("78 0C13 78563412 02FD1B 3412")
    static let long = WMBusTest.frame("78" + String(repeating: " 0C13 78563412", count: 22))

    @Test(arguments: [
        (plain, WMBusFrameFormat.noCRC), (WMBusTest.formatA(plain), .a), (WMBusTest.formatB(plain), .b),
        (long, .noCRC), (WMBusTest.formatA(long), .a), (WMBusTest.formatB(long), .b),
    ])
    func formatsAndCRCs(frame: [UInt8], format: WMBusFrameFormat) throws {
        let f = try #require(WMBusFraming.format(of: frame))
        #expect(f.format == format && f.crcOK)
        let stripped = try WMBusFraming.strip(frame, ignoreChecksums: false) { _ in Issue.record("warning") }
        let original = frame.count == Self.plain.count || stripped.frame.count == Self.plain.count ? Self.plain : Self.long
        #expect(stripped.frame == original)
        #expect(stripped.format == format)
    }

    @Test func badBlockCRC() throws {
        var a = WMBusTest.formatA(Self.plain)
        a[14] ^= 0x01          // a data byte of block 2
        #expect(WMBusFraming.format(of: a)?.crcOK == false)
        #expect(throws: DecodeError.self) { try WMBusFraming.strip(a, ignoreChecksums: false) { _ in } }
        var warnings: [DecodeError] = []
        let s = try WMBusFraming.strip(a, ignoreChecksums: true) { warnings.append($0) }
        #expect(s.format == .a && warnings.count == 1 && warnings[0].kind == .checksum)
        #expect(warnings[0].message.hasPrefix("format A block CRC"))
    }

    @Test func lengthFitsNoFormat() {
        #expect(WMBusFraming.format(of: Self.plain + [0x00]) == nil)
        #expect(throws: DecodeError.self) { try WMBusTest.decode([Self.plain + [0x00]]) }
    }

    @Test func binaryStreamOfFrames() {
        // Two frames back to back, format A then without CRCs, found by their L fields.
        let a = WMBusTest.formatA(Self.plain)
        let sink = CollectingSink()
        var o = DecodeOptions()
        o.protocols = [.wmbus]
        let s = DecodeSession(inputName: "t", sourceName: "t", format: .binary, options: o, sink: sink)
        s.feed(a + Self.long)
        s.finish()
        #expect(sink.skips.isEmpty)
        #expect(sink.readings.count == 2 + 22)
        #expect(sink.readings.allSatisfy { $0.meter == "KAM-12345678-01-07" && $0.provenance.protocolID == .wmbus })
    }

    @Test func hexLineFoundWithoutAsking() {
        // --protocol auto: a hex line that is one whole wM-Bus frame is wM-Bus.
        let sink = CollectingSink()
        let s = DecodeSession(inputName: "t", sourceName: "t", format: .auto, options: DecodeOptions(), sink: sink)
        s.feed(Array((Hex.string(Self.plain) + "\n" + Hex.string(WMBusTest.formatA(Self.plain)) + "\n").utf8))
        s.finish()
        #expect(sink.skips.isEmpty)
        #expect(sink.readings.count == 4)
    }
}

struct WMBusReceiverLineTests {
    static let hex = Hex.string(WMBusLinkTests.plain).uppercased()

    @Test(arguments: [
        ("T1;1;1;2019-04-03 19:00:42.000;97;148;12345678;0x" + hex, true),
        ("C1;1;1;2021-06-02 09:02:19.000;78;116;12345678;0x" + hex.lowercased(), true),
        ("telegram=|" + hex.prefix(20) + "_" + hex.dropFirst(20) + "|", true),
        ("telegram=|" + hex + "|+32", true),
        ("T1;0;0;2019-04-03 19:00:42.000;97;148;12345678;0x" + hex, false),
    ])
    func receiverLines(line: String, good: Bool) {
        #expect(InputSniffer.sniff(Array((line + "\n").utf8), atEnd: true) == .hex)
        let sink = CollectingSink()
        let s = DecodeSession(inputName: "t", sourceName: "t", format: .auto, options: DecodeOptions(), sink: sink)
        s.feed(Array((line + "\n").utf8))
        s.finish()
        if good {
            #expect(sink.skips.isEmpty)
            #expect(sink.readings.count == 2)
        } else {
            #expect(sink.skips.map(\.error.message) == ["the receiver reports a CRC error"])
        }
    }

    @Test func receiverLineRefusedForAnotherProtocol() {
        let sink = CollectingSink()
        var o = DecodeOptions()
        o.protocols = [.mbus]
        let s = DecodeSession(inputName: "t", sourceName: "t", format: .hex, options: o, sink: sink)
        s.feed(Array(("telegram=|" + Self.hex + "|\n").utf8))
        s.finish()
        #expect(sink.skips.count == 1 && sink.readings.isEmpty)
    }
}

struct WMBusTransportTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var frame: String
        var meter: String
        var quantities: [String]
        var events: [String] = []
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "CI 0x7A short header", frame: "7A 2A 00 0000 0C13 78563412",
             meter: "KAM-12345678-01-07", quantities: ["volume"]),
        Case(name: "CI 0x7A status power low", frame: "7A 2A 04 0000 0C13 78563412",
             meter: "KAM-12345678-01-07", quantities: ["volume"], events: ["power_low"]),
        Case(name: "CI 0x72 long header names the meter", frame: "72 21436587 7704 0E 16 2A 00 0000 0C13 78563412",
             meter: "ACW-87654321-0E-16", quantities: ["volume"]),
        Case(name: "CI 0x78 no header", frame: "78 0C13 78563412 02FD1B 3412",
             meter: "KAM-12345678-01-07", quantities: ["volume", "digital_input"]),
        Case(name: "ELL 0x8C then 0x7A", frame: "8C 20 2A 7A 2A 00 0000 0C13 78563412",
             meter: "KAM-12345678-01-07", quantities: ["volume"]),
        Case(name: "CI 0x8A short header without data", frame: "8A 2A 08 0000",
             meter: "KAM-12345678-01-07", quantities: [], events: ["permanent_error"]),
        Case(name: "CI 0x70 application error", frame: "70 02",
             meter: "KAM-12345678-01-07", quantities: [], events: ["application_error"]),
        Case(name: "CI 0x74 alarm, short header", frame: "74 2A 04 0000 01",
             meter: "KAM-12345678-01-07", quantities: [], events: ["alarm", "power_low"]),
        Case(name: "CI 0x75 alarm, long header", frame: "75 21436587 7704 0E 16 2A 00 0000 01",
             meter: "ACW-87654321-0E-16", quantities: [], events: ["alarm"]),
        Case(name: "manufacturer-specific CI 0xA2", frame: "A2 0102 0304",
             meter: "KAM-12345678-01-07", quantities: ["manufacturer_specific"]),
    ]

    @Test(arguments: cases)
    func headers(c: Case) throws {
        let out = try WMBusTest.decode([WMBusTest.frame(c.frame)])
        let readings = WMBusTest.readings(out)
        #expect(readings.map(\.quantity.rawValue).filter { $0 != "time_point" } == c.quantities)
        #expect(readings.allSatisfy { $0.meter == c.meter })
        let events = out.records.compactMap { if case .event(let e) = $0 { e } else { nil } }
        #expect(events.map(\.event) == c.events)
        #expect(events.allSatisfy { $0.meter == c.meter })
    }

    @Test func volumeValue() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([WMBusTest.frame("7A 2A 00 0000 0C13 78563412")]))
        #expect(r.first?.value == .number(ExactDecimal(12345678, exponent: -3)))
        #expect(r.first?.unit?.rawValue == "m3")
        #expect(r.first?.medium == "water")
    }

    @Test func manufacturerPayloadKeepsItsPosition() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([WMBusTest.frame("A2 0102 0304")]))
        #expect(r.first?.value == .text("01020304"))
        #expect(r.first?.note == "ci 0xA2 at byte 11")
    }

    @Test func ellPayloadCRC() throws {
        // CI 0x8D, SN without encryption; the payload CRC covers what follows it.
        let payload = MBusTest.bytes("78 0C13 78563412")
        let c = WMBusTest.crc(payload[...])
        let good = WMBusTest.frame("8D 20 2A 00000000") + [UInt8(c & 0xFF), UInt8(c >> 8)] + payload
        var f = good
        f[0] = UInt8(f.count - 1)
        #expect(WMBusTest.readings(try WMBusTest.decode([f])).count == 1)
        f[f.count - 1] ^= 1
        #expect(throws: DecodeError.self) { try WMBusTest.decode([f]) }
    }

    @Test func unknownCI() {
        #expect(throws: DecodeError(.wmbusTransport, at: 10, .unsupported, "CI 0x55 is not decoded")) {
            try WMBusTest.decode([WMBusTest.frame("55 00")])
        }
    }

    @Test func compactFrameAfterItsFullFrame() throws {
        let records = MBusTest.bytes("0C13 78563412 02FD1B 3412")
        let format = MBusTest.bytes("0C13 02FD1B")
        let data = MBusTest.bytes("11223344 5566")
        let full = MBusTest.bytes("0C13 11223344 02FD1B 5566")
        let sig = WMBusTest.crc(format[...]), crc = WMBusTest.crc(full[...])
        let compact = WMBusTest.frame("79") + [UInt8(sig & 0xFF), UInt8(sig >> 8), UInt8(crc & 0xFF), UInt8(crc >> 8)] + data
        var c = compact
        c[0] = UInt8(c.count - 1)
        let first = WMBusTest.frame("78" + Hex.string(records))
        let r = WMBusTest.readings(try WMBusTest.decode([first, c]))
        #expect(r.count == 4)
        #expect(r[2].value == .number(ExactDecimal(44332211, exponent: -3)))
        // Alone, the compact frame's format is unknown.
        #expect(throws: DecodeError.self) { try WMBusTest.decode([c]) }
        // A wrong full-frame CRC.
        c[c.count - 1] ^= 1
        #expect(throws: DecodeError.self) { try WMBusTest.decode([first, c]) }
    }
}

enum WMBusVectors {
    /// Amber Wireless AMB8426-M manual (V2.4, §10.2): AMB 12345678, key 00…0F, mode 5, one block;
    /// the plaintext is 2F 2F 00 7C 08 "TSET CNE" 2F 2F 2F.
    static let amber = MBusTest.bytes("1E44A2057856341200037A350010051E34C77CFE6C59B154B663297FE6C3F7")
    /// Made with Python's `cryptography` (AES-CBC): KAM 12345678, mode 5, IV from M, A and ACC 0x2A;
    /// plaintext 2F2F 0C13 78563412 0B3B 000000 2F2F2F.
    static let mode5 = MBusTest.bytes("1E442D2C7856341201077A2A001005FF5A51E5E9BAA8DBEAB1BA4EEA124A45")
    /// As `mode5`, plaintext 0C13 78563412 0B3B 000000 2F×5: records, but not starting 2F2F.
    static let noCheckBytes = MBusTest.bytes("1E442D2C7856341201077A2A0010055FF8DBE4A9758929976619C95592B412")
    /// Made with Python's `cryptography` (AES-CMAC, AES-CBC): AFL with MCL 0x25, MCR 1 and an 8-byte
    /// MAC, then CI 0x7A in mode 7 (CFE 0x10, KDF-A); plaintext 2F2F 0C13 78563412 2F×8.
    static let mode7 = MBusTest.bytes(
        "30442D2C785634120107900F002C2501000000004D69442BB3C8007A2A0010071064687E5792A90B33DB16087B50DDD288")

    /// Made with Python's `cryptography` (AES-CTR): CI 0x8D with CC 0x20, ACC 0x2A, SN 0x20012345
    /// (ENC 1); IV = M A CC SN 00 00 00; payload CRC, then CI 0x78 0C13 78563412 02FD1B 3412.
    static let ell = MBusTest.bytes("1E442D2C7856341201078D202A4523012013C94DD1109AD632231EFFFFD834")

    /// The security profile B (mode 7) example of OMS Vol. 2 (Annex N; also in openmuc jmbus's tests):
    /// gas meter ELS 12345678, ELL CI 0x8C, AFL with MCR 0x00000AB3 and an 8-byte MAC, CI 0x7A in
    /// mode 7; key 00…0F; 28504.27 m3 at 2008-05-31 23:50.
    static let omsMode7 = MBusTest.bytes(
        "434493157856341233038C2075900F002C25B30A000021924D4F2FB66E017A75002007109058475F4BC91DF878B80A1B0F98B629024AAC727942BFC549233C0140829B93")

    /// Made with `openssl enc -des-cbc` (legacy provider), key 0011223344556677, IV 0: KAM 87654321,
    /// security mode 2 (configuration 0x0210); plaintext 2F2F 0C13 78563412 2F×8.
    static let mode2 = MBusTest.bytes("1E442D2C2143658701077A2A001002FC69FBF4F96CC147D29EB0B2AFC6A16F")
    static let desKeyLine = "KAM-87654321 = 0011223344556677"

    /// Made with `openssl enc -aes-128-cbc`, key 00…0F, IV from M, A and ACC 0x2A: an Apator NA-1
    /// (APA 12345678, version 0x14, water), CI 0xA0, ACC 0x2A, frame status 0x01 (summer time), and the
    /// block 2F, 10241E00 (1234.56 m3), A539262D (2024-01-02 03:04:05), 23 04 FA 00 00 (291 h before,
    /// 10 m3 less), 01 (battery low), 80 (minimum flow).
    static let apatorNA1 = MBusTest.bytes("1C440106785634121407A02A01A1C059E6EB962651A43469379A3E8A4F")
    static let apatorKeyLine = "APA-12345678 = " + WMBusTest.key

    /// Made with `openssl enc -aes-128-cbc`: KAM 12345678, mode 5 with one block (2F2F 0C13 78563412
    /// 2F×8), then in the clear 02 13 34, a record whose second data byte is missing.
    static let cutAfterBlocks = MBusTest.bytes("21442D2C7856341201077A2A00100579D6C99DDC63748D24CDC4400CA76957021334")
    /// The same, two blocks announced (the second 02FD1B 3412 2F×11) but the frame ends 5 bytes into the second.
    static let cutInBlocks = MBusTest.bytes("23442D2C7856341201077A2A00200579D6C99DDC63748D24CDC4400CA76957D1DBAC116E")

    static let keyLine = "KAM-12345678 = " + WMBusTest.key

    static let wrong = "KAM-12345678 = 0F0E0D0C0B0A09080706050403020100"
}

struct WMBusSecurityTests {
    typealias V = WMBusVectors

    @Test func cmacRFC4493() {
        let k = MBusTest.bytes("2b7e151628aed2a6abf7158809cf4f3c")
        #expect(WMBusAES.cmac(key: k, []) == MBusTest.bytes("bb1d6929e95937287fa37d129b756746"))
        #expect(WMBusAES.cmac(key: k, MBusTest.bytes("6bc1bee22e409f96e93d7e117393172a"))
                == MBusTest.bytes("070a16b46b4d4144f79bdd9dd04a287c"))
        #expect(WMBusAES.cmac(key: k, MBusTest.bytes("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411"))
                == MBusTest.bytes("dfa66747de9ae63030ca32611497c827"))
    }

    @Test func mode5AmberExample() throws {
        // The data record (DIF 0x00, no data) gives no reading: the plaintext is compared.
        var frame = V.amber
        let link = WMBusLinkHeader(frame, addressAt: 2, c: frame[1])
        let header = try WMBusDecoder.tplHeader(frame, at: 10, long: false, link: link)
        var start = header.end
        var out = DecodeOutput()
        let checked = try WMBusDecoder.decipher(&frame, header: header, link: link, afl: nil, start: &start,
                                                context: FrameContext(source: "t", frameIndex: 0,
                                                                      options: WMBusTest.options("12345678 = " + WMBusTest.key)),
                                                into: &out)
        #expect(checked && out.warnings.isEmpty)
        #expect(Array(frame[start...]) == MBusTest.bytes("2F2F007C085453455420434E452F2F2F"))
        #expect(link.meter == "AMB-12345678-00-03")
    }

    @Test func mode5() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([V.mode5], options: WMBusTest.options(V.keyLine)))
        #expect(r.count == 2)
        #expect(r.first?.value == .number(ExactDecimal(12345678, exponent: -3)))
    }

    @Test func mode7() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([V.mode7], options: WMBusTest.options(V.keyLine)))
        #expect(r.count == 1)
        #expect(r.first?.value == .number(ExactDecimal(12345678, exponent: -3)))
    }

    @Test func extendedLinkLayerAESCTR() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([V.ell], options: WMBusTest.options(V.keyLine)))
        #expect(r.map(\.quantity.rawValue) == ["volume", "digital_input"])
        #expect(r.first?.value == .number(ExactDecimal(12345678, exponent: -3)))
    }

    @Test func mode7OMSExample() throws {
        let options = try WMBusTest.options("ELS-12345678 = " + WMBusTest.key)
        let r = WMBusTest.readings(try WMBusTest.decode([V.omsMode7], options: options))
        #expect(r.first?.meter == "ELS-12345678-33-03")
        #expect(r.first?.value == .number(ExactDecimal(2850427, exponent: -2)))
        #expect(r.first?.time?.description == "2008-05-31T23:50:00Z")
        // A changed ciphertext byte: the MAC no longer matches.
        var bad = V.omsMode7
        bad[40] ^= 0x01
        do {
            _ = try WMBusTest.decode([bad], options: options)
            Issue.record("decoded")
        } catch {
            #expect(error.message == "wrong key for meter ELS-12345678-33-03: the AFL MAC does not match")
        }
    }

    @Test func mode7DerivedKey() throws {
        // Kenc of OMS Vol. 2 §9.5 for the mode 7 example (computed with Python's cryptography).
        let k = WMBusAES.cmac(key: MBusTest.bytes(WMBusTest.key),
                              [0x00, 0x01, 0, 0, 0, 0x78, 0x56, 0x34, 0x12] + [UInt8](repeating: 7, count: 7))
        #expect(k == MBusTest.bytes("4a30486d9789c23387f94e92fdea7cc0"))
    }

    @Test func desKnownAnswer() {
        // FIPS 81 / the classic "Now is t" vector: one block, so CBC with IV 0 is ECB.
        let key = MBusTest.bytes("0123456789ABCDEF")
        #expect(WMBusDES.cbcEncrypt(key: key, MBusTest.bytes("4E6F772069732074")) == MBusTest.bytes("3FA40E8A984D4815"))
        #expect(WMBusDES.cbcDecrypt(key: key, MBusTest.bytes("3FA40E8A984D4815")) == MBusTest.bytes("4E6F772069732074"))
        #expect(WMBusDES.cbcDecrypt(key: key, [1, 2, 3]) == nil)
    }

    @Test func mode2DES() throws {
        let r = WMBusTest.readings(try WMBusTest.decode([V.mode2], options: WMBusTest.options(V.desKeyLine)))
        #expect(r.count == 1)
        #expect(r.first?.meter == "KAM-87654321-01-07")
        #expect(r.first?.value == .number(ExactDecimal(12345678, exponent: -3)))
    }

    @Test func apatorNA1() throws {
        let out = try WMBusTest.decode([V.apatorNA1], options: WMBusTest.options(V.apatorKeyLine))
        let r = WMBusTest.readings(out)
        let rows = r.map { [$0.quantity.rawValue, "\($0.value)", $0.unit?.rawValue ?? "-", $0.time?.description ?? "-",
                            "\($0.storage ?? -1)", $0.note ?? "-"] }
        #expect(rows == [
            ["volume", "\(ReadingValue.number(ExactDecimal(123456, exponent: -2)))", "m3", "2024-01-02T03:04:05Z", "0", "-"],
            ["clock", "\(ReadingValue.text("2024-01-02T03:04:05Z"))", "-", "2024-01-02T03:04:05Z", "0", "-"],
            ["status", "\(ReadingValue.number(ExactDecimal(1)))", "-", "2024-01-02T03:04:05Z", "0", "frame status: summer_time"],
            ["status", "\(ReadingValue.number(ExactDecimal(1)))", "-", "2024-01-02T03:04:05Z", "0", "alarms: battery_low"],
            ["volume", "\(ReadingValue.number(ExactDecimal(122456, exponent: -2)))", "m3", "2023-12-21T00:04:05Z", "1", "-"],
            ["duration", "\(ReadingValue.number(ExactDecimal(291 * 3600)))", "s", "2023-12-21T00:04:05Z", "1",
             "age of the storage 1 values"],
            ["status", "\(ReadingValue.number(ExactDecimal(0x80)))", "-", "2023-12-21T00:04:05Z", "1", "alarms: minimum_flow"],
        ])
        #expect(r.allSatisfy { $0.meter == "APA-12345678-14-07" && $0.medium == "water" })
        let events = out.records.compactMap { if case .event(let e) = $0 { e } else { nil } }
        #expect(events.map(\.event) == ["power_low"])
        // In the meter's zone: the summer-time flag is set, and 2024-01-02 is winter in Warsaw (UTC+1).
        var o = try WMBusTest.options(V.apatorKeyLine)
        o.meterTimeZone = try #require(LocalTimeZone("Europe/Warsaw"))
        let local = WMBusTest.readings(try WMBusTest.decode([V.apatorNA1], options: o))
        #expect(local.first?.time?.description == "2024-01-02T02:04:05Z")
        // Another manufacturer's CI 0xA0 stays hex.
        var other = V.apatorNA1
        other[9] = 0x06
        let hex = WMBusTest.readings(try WMBusTest.decode([other], options: WMBusTest.options(V.apatorKeyLine)))
        #expect(hex.map(\.quantity) == [.manufacturerSpecific])
    }

    /// A frame cut short: after the enciphered blocks, the last record is a warning and the records
    /// before it stand; inside the blocks, the whole blocks are deciphered. A frame in the clear cut
    /// the same way is still an error.
    @Test func cutShort() throws {
        for (frame, warning) in [(V.cutAfterBlocks, "the record at byte 31 is cut short by the end of the frame (3 bytes); the records before it are kept"),
                                 (V.cutInBlocks, "2 encrypted blocks announced, 21 bytes left: the frame is cut short; 1 whole blocks deciphered, the 5 bytes after them dropped")] {
            let out = try WMBusTest.decode([frame], options: WMBusTest.options(V.keyLine))
            let r = WMBusTest.readings(out)
            #expect(r.map(\.value) == [.number(ExactDecimal(12345678, exponent: -3))])
            #expect(out.warnings.map(\.message) == [warning])
            #expect(out.warnings.map(\.partSkipped) == [true])
        }
        let plain = WMBusTest.frame("7A 2A 00 0000 0C13 78563412 021334")
        #expect(throws: DecodeError.self) { try WMBusTest.decode([plain]) }
    }

    /// The three key errors, distinct by their message.
    @Test(arguments: [
        (V.mode5, nil, "no key for meter KAM-12345678-01-07"),
        (V.mode7, nil, "no key for meter KAM-12345678-01-07"),
        (V.mode5, V.wrong, "wrong key for meter KAM-12345678-01-07: the deciphered data is neither 2F2F nor data records"),
        (V.mode7, V.wrong, "wrong key for meter KAM-12345678-01-07: the AFL MAC does not match"),
        (V.ell, nil, "no key for meter KAM-12345678-01-07"),
        (V.ell, V.wrong, "wrong key for meter KAM-12345678-01-07: the extended link layer payload CRC does not match"),
        (V.noCheckBytes, V.keyLine, "decrypted but check bytes failed: meter KAM-12345678-01-07: deciphered data does not start with 2F2F"),
        (V.mode2, nil, "no key for meter KAM-87654321-01-07"),
        (V.mode2, "KAM-87654321 = 7766554433221100", "wrong key for meter KAM-87654321-01-07: the deciphered data is neither 2F2F nor data records"),
        (V.mode2, "KAM-87654321 = " + WMBusTest.key, "wrong key for meter KAM-87654321-01-07: security mode 2 is DES, the key file has an AES-128 key"),
        (V.mode5, "KAM-12345678 = 0011223344556677", "wrong key for meter KAM-12345678-01-07: security mode 5 is AES-128, the key file has a DES key"),
        (V.ell, "KAM-12345678 = 0011223344556677", "wrong key for meter KAM-12345678-01-07: the extended link layer is AES-128, the key file has a DES key"),
        (V.apatorNA1, nil, "no key for meter APA-12345678-14-07"),
        (V.apatorNA1, "APA-12345678 = 0F0E0D0C0B0A09080706050403020100", "wrong key for meter APA-12345678-14-07: the deciphered Apator NA-1 block does not start with the check byte 2F"),
        (V.apatorNA1, "APA-12345678 = 0011223344556677", "wrong key for meter APA-12345678-14-07: the Apator NA-1 block is AES-128, the key file has a DES key"),
    ] as [([UInt8], String?, String)])
    func keyErrors(frame: [UInt8], keys: String?, message: String) throws {
        let options = try WMBusTest.options(keys)
        do {
            _ = try WMBusTest.decode([frame], options: options)
            Issue.record("decoded")
        } catch {
            #expect(error.layer == .wmbusSecurity)
            #expect(error.message == message)
            #expect(!error.message.contains("0F0E0D") && !error.message.contains("000102")
                    && !error.message.contains("001122") && !error.message.contains("776655"))
        }
    }

    @Test func keyFileRefusedWhenOthersMayReadIt() throws {
        let dir = makeTemporaryDirectory("wmbus-keys")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/keys"
        FileManager.default.createFile(atPath: path, contents: Data(V.keyLine.utf8), attributes: [.posixPermissions: 0o640])
        #expect(throws: SecretError.self) { try WMBusKeys(Secrets(keyFile: path, environment: [:])) }
    }

    @Test(arguments: ["12345678 = 0011", "METER = " + WMBusTest.key, "KAM_12345678 = " + WMBusTest.key] as [String])
    func keyFileEntriesChecked(line: String) throws {
        do {
            _ = try WMBusTest.keys(line)
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("0011") && !"\(error)".contains(WMBusTest.key))
        }
    }

    /// Frames whose enciphered blocks a receiver already deciphered (they start with 2F2F) are read
    /// as they are, with or without the key; a mode 5 frame without a whole block has nothing to decipher.
    @Test(arguments: [nil, V.keyLine] as [String?])
    func alreadyDeciphered(keys: String?) throws {
        let plain = WMBusTest.frame("7A 2A 00 1005 2F2F 0C13 78563412 0B3B 000000 2F2F2F")
        let r = WMBusTest.readings(try WMBusTest.decode([plain], options: WMBusTest.options(keys)))
        #expect(r.count == 2)
        let short = WMBusTest.frame("7A 2A 00 0005 0C13 78563412")
        #expect(WMBusTest.readings(try WMBusTest.decode([short], options: WMBusTest.options(keys))).count == 1)
    }

    @Test func mostSpecificNameWins() throws {
        let keys = try WMBusTest.keys("12345678 = \(V.wrong.suffix(32))\nKAM-12345678-01-07 = \(WMBusTest.key)")
        var o = DecodeOptions()
        o.wmbusKeys = keys
        #expect(WMBusTest.readings(try WMBusTest.decode([V.mode5], options: o)).count >= 1)
    }
}
