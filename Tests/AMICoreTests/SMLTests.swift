import Foundation
import Testing
@testable import AMICore

/// SML frames built here from their parts (SML 1.04), for the cases the corpus does not hold.
enum SMLBuild {
    static func octets(_ b: [UInt8]) -> [UInt8] {
        b.count + 1 < 16 ? [UInt8(b.count + 1)] + b : [0x80 | UInt8((b.count + 2) >> 4), UInt8((b.count + 2) & 0x0F)] + b
    }
    static func unsigned(_ v: UInt64, width: Int) -> [UInt8] {
        [0x60 | UInt8(width + 1)] + (0..<width).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(width - 1 - $0))) }
    }
    static func integer(_ v: Int64, width: Int) -> [UInt8] {
        [0x50 | UInt8(width + 1)] + (0..<width).map { UInt8(truncatingIfNeeded: v >> Int64(8 * (width - 1 - $0))) }
    }
    static func list(_ items: [[UInt8]]) -> [UInt8] { [0x70 | UInt8(items.count)] + items.joined() }
    static let absent: [UInt8] = [0x01]

    /// An SML_Message with its CRC.
    static func message(id: UInt8, tag: UInt32, body: [UInt8]) -> [UInt8] {
        var m: [UInt8] = [0x76] + octets([id]) + unsigned(0, width: 1) + unsigned(0, width: 1)
            + list([unsigned(UInt64(tag), width: 4), body])
        let crc = SMLTransport.x25.checksum(m, 0..<m.count)
        m += [0x63, UInt8(crc & 0xFF), UInt8(crc >> 8), 0x00]
        return m
    }

    static func entry(_ obis: [UInt8], status: [UInt8] = absent, time: [UInt8] = absent, unit: UInt8?,
                      scaler: Int8?, value: [UInt8]) -> [UInt8] {
        list([octets(obis), status, time, unit.map { unsigned(UInt64($0), width: 1) } ?? absent,
              scaler.map { integer(Int64($0), width: 1) } ?? absent, value, absent])
    }

    static let server: [UInt8] = [0x0A, 0x01, 0x45, 0x4D, 0x48, 0x00, 0x00, 0x00, 0x30, 0x39]   // 1EMH0000012345

    static func getList(_ entries: [[UInt8]], sensorTime: [UInt8] = absent) -> [UInt8] {
        message(id: 2, tag: 0x0701, body: list([absent, octets(server), absent, sensorTime, list(entries), absent, absent]))
    }

    /// A transport frame around `messages`: escapes, padding and the X-25 CRC (or `crc`).
    static func frame(_ messages: [UInt8], crc: UInt16? = nil) -> [UInt8] {
        var body = messages
        let padding = (4 - body.count % 4) % 4
        body += [UInt8](repeating: 0, count: padding)
        var f: [UInt8] = [0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x01, 0x01, 0x01]
        for i in stride(from: 0, to: body.count, by: 4) {
            let block = Array(body[i..<i + 4])
            f += block
            if block == [0x1B, 0x1B, 0x1B, 0x1B] { f += block }
        }
        f += [0x1B, 0x1B, 0x1B, 0x1B, 0x1A, UInt8(padding)]
        let sum = crc ?? SMLTransport.x25.checksum(f, 0..<f.count)
        return f + [UInt8(sum & 0xFF), UInt8(sum >> 8)]
    }

    static let energy: [UInt8] = [1, 0, 1, 8, 0, 255]
    static let power: [UInt8] = [1, 0, 16, 7, 0, 255]
    static let standard = frame(getList([
        entry(energy, status: unsigned(0x1C0104, width: 3), unit: 30, scaler: -1, value: unsigned(123_456_789, width: 4)),
        entry(power, unit: 27, scaler: 0, value: integer(-250, width: 2)),
    ]))
}

struct SMLTests {
    /// TL encodings (SML 1.04 §6.3) and what they read as.
    @Test(arguments: [
        ("01", SMLValue.absent),
        ("00", .endOfMessage),
        ("0449534B", .octets([0x49, 0x53, 0x4B])),
        ("6201", .unsigned(1, width: 1)),
        ("52FF", .integer(-1, width: 1)),
        ("538B28", .integer(-29912, width: 2)),
        ("55000000A8", .integer(168, width: 4)),
        ("59FFFFFFFFFFFFFFFE", .integer(-2, width: 8)),
        ("690102030405060708", .unsigned(0x0102030405060708, width: 8)),
        ("4201", .boolean(true)),
        ("72620162FF", .list([.unsigned(1, width: 1), .unsigned(255, width: 1)])),
        ("8103" + String(repeating: "41", count: 17), .octets([UInt8](repeating: 0x41, count: 17))),
    ])
    func typeLengthFields(hex: String, expected: SMLValue) throws {
        var c = ByteCursor(try Hex.decode(Array(hex.utf8)), layer: .sml)
        #expect(try SMLValue.read(&c) == expected)
        #expect(c.isAtEnd)
    }

    /// Encodings that are not SML: an error with its offset, never a trap.
    @Test(arguments: [
        ("21", "reserved type"),
        ("5A0102030405060708090A", "integer of 9 bytes"),
        ("4301", "boolean of 2 bytes"),
        ("82", "need 1 byte"),
        ("8212", "continues a length but has a type"),
        ("7F01", "list of 15 elements"),
        ("0501", "need 4 bytes"),
        (String(repeating: "71", count: 40) + "01", "nested more than"),
    ])
    func badTypeLengthFields(hex: String, message: String) throws {
        var c = ByteCursor(try Hex.decode(Array(hex.utf8)), layer: .sml)
        do {
            _ = try SMLValue.read(&c)
            Issue.record("read \(hex)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.layer == .sml)
        }
    }

    @Test(arguments: [
        ("0A01445A47000282225E", "1DZG0042082910"),
        ("090149534B000403DF63", "1ISK0067362659"),
        ("0A01445A47FF0282225E", "0a01445a47ff0282225e"),      // fabrication block over 99
        ("06454D4801027156CD45", "06454d4801027156cd45"),      // not DIN 43863-5
        ("0102", "0102"),
    ])
    func serverIDs(hex: String, name: String) throws {
        #expect(SMLServerID(bytes: try Hex.decode(Array(hex.utf8))).name == name)
    }

    @Test func readingsFromAGetListResponse() throws {
        let sink = TextTelegramTesting.decode(SMLBuild.standard, protocols: [.sml])
        #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
        let r = sink.readings
        try #require(r.count == 2)
        #expect(r[0].meter == "1EMH0000012345")
        #expect(r[0].quantity == .energy && r[0].obis == "1-0:1.8.0*255")
        #expect(r[0].value == .number(ExactDecimal(123_456_789, exponent: -1)) && r[0].unit == .wattHour)
        #expect(r[0].note == "status 0x1C0104")
        #expect(r[1].quantity == .powerNet && r[1].value == .number(ExactDecimal(-250)) && r[1].unit == .watt)
        #expect(r.allSatisfy { $0.provenance.protocolID == .sml && $0.time == nil })
    }

    /// An entry's own timestamp is its time; a second index (time since power-up) is not a time.
    @Test func entryTimes() throws {
        let stamp = SMLBuild.list([SMLBuild.unsigned(2, width: 1), SMLBuild.unsigned(1_700_000_000, width: 4)])
        let index = SMLBuild.list([SMLBuild.unsigned(1, width: 1), SMLBuild.unsigned(99, width: 4)])
        let f = SMLBuild.frame(SMLBuild.getList([
            SMLBuild.entry(SMLBuild.energy, time: stamp, unit: 30, scaler: 0, value: SMLBuild.unsigned(1, width: 1)),
            SMLBuild.entry(SMLBuild.energy, time: index, unit: 30, scaler: 0, value: SMLBuild.unsigned(2, width: 1)),
        ]))
        let r = TextTelegramTesting.decode(f, protocols: [.sml]).readings
        #expect(r.map(\.time) == [UTCTime(seconds: 1_700_000_000), nil])
    }

    /// Data that reads 1B1B1B1B on a block boundary is sent twice and read once.
    @Test func escapedData() throws {
        // Pad so that the octet string's 1B1B1B1B falls on a 4-byte block of the payload.
        var found = false
        for pad in 0..<4 {
            let name = [UInt8](repeating: 0x41, count: pad + 1)
            let text = SMLBuild.entry([1, 0, 96, 1, 0, 255], unit: nil, scaler: nil,
                                      value: SMLBuild.octets([0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B, 0x1B]))
            let msg = SMLBuild.message(id: 1, tag: 0x0101, body: SMLBuild.list([SMLBuild.absent, SMLBuild.absent,
                                       SMLBuild.octets(name), SMLBuild.octets(SMLBuild.server), SMLBuild.absent, SMLBuild.absent]))
                + SMLBuild.getList([text])
            let f = SMLBuild.frame(msg)
            guard f.count > msg.count + 16 else { continue }    // no block was escaped with this padding
            found = true
            let sink = TextTelegramTesting.decode(f, protocols: [.sml])
            #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
            #expect(sink.readings.first?.value == .text("1b1b1b1b1b1b1b1b"))
        }
        #expect(found)
    }

    @Test func wrongCRC() throws {
        var f = SMLBuild.standard
        f[f.count - 1] ^= 0xFF
        let plain = TextTelegramTesting.decode(f, protocols: [.sml])
        #expect(plain.readings.isEmpty)
        #expect(plain.skips.map(\.error.kind) == [.checksum])
        #expect(plain.skips.first?.error.offset == f.count - 2)
        let lenient = TextTelegramTesting.decode(f, protocols: [.sml], ignoreChecksums: true)
        #expect(lenient.readings.count == 2)
        #expect(lenient.warnings.map(\.error.kind) == [.checksum])
    }

    /// A message whose own CRC is wrong is read, with a warning (meters get it wrong while the frame's CRC holds).
    @Test func wrongMessageCRC() throws {
        var msg = SMLBuild.getList([SMLBuild.entry(SMLBuild.energy, unit: 30, scaler: 0, value: SMLBuild.unsigned(7, width: 1))])
        msg[msg.count - 3] ^= 0x55
        let sink = TextTelegramTesting.decode(SMLBuild.frame(msg), protocols: [.sml])
        #expect(sink.readings.count == 1)
        #expect(sink.skips.isEmpty)
        #expect(sink.warnings.count == 1 && sink.warnings[0].error.message.contains("message 0 CRC"))
    }

    /// A raw dump: garbage, a frame cut off by the next start, whole frames; fed in every chunk size.
    @Test(arguments: [1, 3, 7, 64, 4096])
    func streamResynchronises(chunk: Int) throws {
        let good = SMLBuild.standard
        let stream = [0x00, 0x1B, 0x42, 0x99] + good + Array(good.prefix(40)) + good + [0x1B, 0x1B]
        let sink = TextTelegramTesting.decode(stream, protocols: [.sml], cuts: Array(stride(from: chunk, to: stream.count, by: chunk)))
        #expect(sink.readings.count == 4)
        #expect(Set(sink.readings.map(\.provenance.frame)).count == 2)
        #expect(sink.skips.count == 3, "\(sink.skips)")      // 4 garbage bytes, the cut-off frame, 2 bytes at the end
        #expect(sink.skips.contains { $0.error.message.contains("cut off by a new start") && $0.error.offset == 4 + good.count })
    }

    /// A start with no end within 64 KiB is given up, not buffered for ever.
    @Test func noEndSequence() {
        let stream = [0x1B, 0x1B, 0x1B, 0x1B, 0x01, 0x01, 0x01, 0x01] + [UInt8](repeating: 0x42, count: 70_000) + SMLBuild.standard
        let sink = TextTelegramTesting.decode(stream, protocols: [.sml])
        #expect(sink.readings.count == 2)
        #expect(sink.skips.first?.error.message.contains("no end sequence") == true)
    }

    /// DZG DVS74: negative power while the status word says +A is read unsigned; a genuine negative
    /// (status: −A) stays negative.
    static let dzgCases: [(UInt64, ExactDecimal)] = [
        (0x1C0104, ExactDecimal(35624, exponent: -2)), (0x1C6904, ExactDecimal(-29912, exponent: -2)),
    ]

    @Test(arguments: dzgCases)
    func dzgPower(status: UInt64, expected: ExactDecimal) throws {
        var server = SMLBuild.server
        server.replaceSubrange(2...4, with: Array("DZG".utf8))
        let entries = [
            SMLBuild.entry(SMLBuild.energy, status: SMLBuild.unsigned(status, width: 3), unit: 30, scaler: -1,
                           value: SMLBuild.unsigned(1, width: 4)),
            SMLBuild.entry(SMLBuild.power, unit: 27, scaler: -2, value: SMLBuild.integer(-29912, width: 2)),
        ]
        let body = SMLBuild.list([SMLBuild.absent, SMLBuild.octets(server), SMLBuild.absent, SMLBuild.absent,
                                  SMLBuild.list(entries), SMLBuild.absent, SMLBuild.absent])
        let sink = TextTelegramTesting.decode(SMLBuild.frame(SMLBuild.message(id: 1, tag: 0x0701, body: body)), protocols: [.sml])
        #expect(sink.readings.last?.value == .number(expected))
    }

    @Test func attentionResponseIsAnEvent() throws {
        let body = SMLBuild.list([SMLBuild.octets(SMLBuild.server), SMLBuild.octets([0x81, 0x81, 0xC7, 0xC7, 0xFE, 0x03]),
                                  SMLBuild.octets(Array("busy".utf8)), SMLBuild.absent])
        let sink = TextTelegramTesting.decode(SMLBuild.frame(SMLBuild.message(id: 9, tag: 0xFF01, body: body)), protocols: [.sml])
        #expect(sink.events.count == 1)
        #expect(sink.events.first?.event == "sml_attention")
        #expect(sink.events.first?.code == "8181c7c7fe03")
        #expect(sink.events.first?.text == "busy")
    }

    /// Random changes to a good frame: decoded or refused, never a trap.
    @Test func hostileFrames() {
        var rng = SplitMix64(state: 0x5EED_0001)
        for _ in 0..<3000 {
            var f = SMLBuild.standard
            for _ in 0..<Int(rng.next() % 4 + 1) {
                f[Int(rng.next() % UInt64(f.count))] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = TextTelegramTesting.decode(f, protocols: [.sml], ignoreChecksums: true)
        }
    }
}
