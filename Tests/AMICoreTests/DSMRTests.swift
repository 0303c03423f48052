import Foundation
import Testing
@testable import AMICore

private typealias T = TextTelegramTesting

/// A DSMR 5 telegram (Iskra AM550 with a gas meter on channel 1), its CRC computed.
private let dsmr5 = T.telegram([
    "1-3:0.2.8(50)",
    "0-0:1.0.0(200426223325S)",
    "0-0:96.1.1(4530303434303037333832323436303139)",
    "1-0:1.8.1(002130.115*kWh)",
    "1-0:2.8.2(000000.000*kWh)",
    "0-0:96.14.0(0001)",
    "1-0:1.7.0(00.111*kW)",
    "1-0:99.97.0(1)(0-0:96.7.19)(190326095015W)(0000002014*s)",
    "1-0:32.7.0(229.9*V)",
    "0-1:24.1.0(003)",
    "0-1:96.1.0(4730303339303031393336393930363139)",
    "0-1:24.2.1(200426223001S)(00246.138*m3)",
])

/// A DSMR 2.2 telegram: no CRC, gas value on the line after its header.
private let dsmr22 = T.telegram([
    "0-0:96.1.1(5A424556303035313036383434393132)",
    "1-0:1.8.1(16719.940*kWh)",
    "0-0:96.14.0(0002)",
    "0-2:24.1.0(3)",
    "0-2:96.1.0(3238303131303038333036343239303133)",
    "0-2:24.3.0(211122210000)(00)(60)(1)(0-2:24.2.1)(m3)\r\n(13368.864)",
    "0-2:24.4.0(1)",
], header: "/ISk5\\2MT382-1003", crc: .some(nil))

/// The telegram with an unpadded three-digit CRC (NWA heat link, from dsmr_parser's tests).
private let unpadded = Array(("/NWA-WARMTELINK\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(260215200523W)\r\n"
    + "0-0:96.1.1(ADC3100000158491)\r\n0-0:96.13.1()\r\n0-0:96.13.0()\r\n0-1:24.1.0(004)\r\n"
    + "0-1:96.1.0(621848012D2C0B0C)\r\n0-1:24.2.1(260215200523W)(240.860*GJ)\r\n!B9F\r\n").utf8)

@Suite struct DSMRCRCTests {
    /// CRC-16/ARC check values, and two telegrams whose CRC dsmr_parser computes alike.
    @Test(arguments: [
        ("123456789", 0xBB3D), ("", 0x0000), ("A", 0x30C0),
        ("/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(190324151445W)\r\n"
            + "0-0:96.1.1(4530303434303037313331363530363138)\r\n!", 0xFC67),
        (String(decoding: unpadded.prefix(through: unpadded.firstIndex(of: UInt8(ascii: "!"))!), as: UTF8.self), 0x0B9F),
    ] as [(String, UInt16)])
    func knownValues(text: String, crc: UInt16) {
        #expect(DSMRCRC.checksum(Array(text.utf8)) == crc)
    }

    @Test func aThreeDigitCRCIsTheUnpaddedValue() throws {
        let sink = T.decode(unpadded)
        #expect(sink.diagnostics.isEmpty)
        let heat = try #require(sink.readings.first { $0.obis == "0-1:24.2.1" })
        #expect(heat.quantity == .energy && heat.medium == "heat_outlet" && heat.meter == "621848012D2C0B0C")
        #expect(heat.value == .number(ExactDecimal(240_860_000_000)) && heat.unit == .joule)

        var wrong = unpadded
        wrong[wrong.count - 3] = UInt8(ascii: "E")
        let bad = T.decode(wrong)
        #expect(bad.readings.isEmpty)
        #expect(bad.skips.map(\.error) == [DecodeError(.dsmr, at: wrong.count - 5, .checksum, "CRC 0x0B9E, computed 0x0B9F")])
    }

    @Test func aWrongCRCSkipsTheTelegramUnlessChecksumsAreIgnored() {
        var wrong = dsmr5
        wrong[wrong.count - 3] = wrong[wrong.count - 3] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        let bad = T.decode(wrong)
        #expect(bad.records.isEmpty)
        #expect(bad.skips.count == 1 && bad.skips.first?.error.kind == .checksum)
        #expect(bad.skips.first?.error.offset == wrong.count - 6)

        let ignored = T.decode(wrong, ignoreChecksums: true)
        #expect(ignored.skips.isEmpty)
        #expect(ignored.warnings.map(\.error.kind) == [.checksum])
        #expect(ignored.records == T.decode(dsmr5).records)
    }
}

@Suite struct DSMRTimestampTests {
    /// W is UTC+1 and S UTC+2 whatever the date; without a flag the zone decides (Europe/Amsterdam:
    /// the repeated hour of 2023-10-29 is taken as the earlier, DST one). Two-digit years pivot at 69.
    @Test(arguments: [
        ("230326015959W", "2023-03-26T00:59:59Z"), ("230326030000S", "2023-03-26T01:00:00Z"),
        ("231029025959S", "2023-10-29T00:59:59Z"), ("231029020000W", "2023-10-29T01:00:00Z"),
        ("231029023000S", "2023-10-29T00:30:00Z"), ("231029023000W", "2023-10-29T01:30:00Z"),
        ("231029023000", "2023-10-29T00:30:00Z"), ("090212160000", "2009-02-12T15:00:00Z"),
        ("230701120000", "2023-07-01T10:00:00Z"), ("700101010000W", "1970-01-01T00:00:00Z"),
        ("681231230000W", "2068-12-31T22:00:00Z"), ("2403011215", "2024-03-01T11:15:00Z"),
    ])
    func convertsToUTC(text: String, utc: String) throws {
        let ams = try #require(LocalTimeZone("Europe/Amsterdam"))
        #expect(TextTimestamp.parse(text, zone: ams)?.description == utc)
    }

    @Test(arguments: ["632525252525S", "000000000000W", "2302301200", "23010112000", "23010112000X", "", "abcdefghijkl"])
    func rejectsWhatIsNoTime(text: String) {
        #expect(TextTimestamp.parse(text, zone: .utc) == nil)
    }

    @Test func theClockTimesTheTelegramAndUnflaggedTimesUseTheDSMRZone() throws {
        let sink = T.decode(dsmr5)
        let clock = try #require(sink.readings.first { $0.quantity == .clock })
        #expect(clock.value == .text("2020-04-26T20:33:25Z"))
        let t = UTCTime(iso8601: "2020-04-26T20:33:25Z")
        #expect(sink.readings.filter { $0.obis != "0-1:24.2.1" }.allSatisfy { $0.time == t })
        #expect(sink.readings.first { $0.obis == "0-1:24.2.1" }?.time == UTCTime(iso8601: "2020-04-26T20:30:01Z"))

        let utc = T.decode(dsmr22) { $0.dsmrTimeZone = .utc }
        #expect(utc.readings.first { $0.obis == "0-2:24.3.0" }?.time == UTCTime(iso8601: "2021-11-22T21:00:00Z"))
        let ams = T.decode(dsmr22)
        let gas = try #require(ams.readings.first { $0.obis == "0-2:24.3.0" })
        #expect(gas.time == UTCTime(iso8601: "2021-11-22T20:00:00Z"))
        #expect(gas.quantity == .volume && gas.unit == .cubicMetre && gas.value == .number(ExactDecimal("13368.864")!))
        #expect(gas.meter == "28011008306429013" && gas.medium == "gas")
        // No clock in a DSMR 2.2 telegram: the receive time (none for raw input).
        #expect(ams.readings.first { $0.obis == "1-0:1.8.1" }?.time == nil)
    }
}

@Suite struct DSMRValueTests {
    @Test(arguments: [
        ("4530303034303031353934373534343134", "E0004001594754414"),
        ("5f5f5f5f4f4e455f5f5f5f", "____ONE____"),
        ("3031203631203831", "01 61 81"),
        ("3960221976967177082151037881335713", nil),
        ("1234567890", nil), ("0000", nil), ("303", nil), ("", nil), ("1ESY1313002565", nil),
    ] as [(String, String?)])
    func hexASCIIIdentifiers(hex: String, text: String?) {
        #expect(TextValue.hexASCII(hex) == text)
    }

    @Test(arguments: [
        ("1581.123", "kWh", "1581123", "Wh"), ("0.5", "MWh", "500000", "Wh"), ("006545766", "Wh", "6545766", "Wh"),
        ("02.027", "kW", "2027", "W"), ("000000.123", "kvarh", "123", "varh"), ("00.504", "kvar", "504", "var"),
        ("240.860", "GJ", "240860000000", "J"), ("1.5", "MJ", "1500000", "J"), ("00246.138", "m3", "246.138", "m3"),
        ("0109868", "h", "395524800", "s"), ("2", "min", "120", "s"), ("0000002014", "s", "2014", "s"),
        ("229.9", "V", "229.9", "V"), ("002.30", "A", "2.30", "A"), ("50.00", "Hz", "50", "Hz"),
    ])
    func unitsMoveToBaseUnitsExactly(value: String, unit: String, base: String, baseUnit: String) throws {
        let number = try #require(ExactDecimal(value))
        let (v, u) = try #require(TextUnit.convert(number, unit))
        #expect(v == ExactDecimal(base))
        #expect(u.rawValue == baseUnit)
    }

    @Test(arguments: [
        ("1-0:1.8.1", OBISAddress(a: 1, b: 0, c: 1, d: 8, e: 1)),
        ("1-0:31.7.0.255", OBISAddress(a: 1, b: 0, c: 31, d: 7, e: 0, f: 255)),
        ("0-0:96.1.255*255", OBISAddress(a: 0, b: 0, c: 96, d: 1, e: 255, f: 255)),
        ("1-0:1.8.0&02", OBISAddress(a: 1, b: 0, c: 1, d: 8, e: 0, f: 2)),
        ("F.F", OBISAddress(c: 97, d: 97)), ("C.1.0", OBISAddress(c: 96, d: 1, e: 0)), ("0.0", OBISAddress(c: 0, d: 0)),
        (" 32.7 ", OBISAddress(c: 32, d: 7)),
        ("1-0:72:32.0", nil), ("A-0:96.1.1", nil), ("3:14", nil), ("1.8.0*255*3", nil), ("1.8.0.255*3", nil),
        ("256.1.0", nil), ("1.8.", nil), ("1", nil), ("", nil), ("1-0:1.8.0 x", nil), ("1.8.0000", nil),
    ] as [(String, OBISAddress?)])
    func obisCodes(text: String, code: OBISAddress?) {
        #expect(OBISAddress(text) == code)
    }

    /// The e-MUCS peak of the month and the 13-month peak history.
    @Test func peakDemandHistory() throws {
        let sink = T.decode(T.telegram([
            "0-0:96.1.1(3153414733313031303231363035)", "0-0:1.0.0(231102121548W)",
            "1-0:1.6.0(231102114500W)(03.064*kW)",
            "0-0:98.1.0(2)(1-0:1.6.0)(1-0:1.6.0)(230801000000S)(632525252525W)(00.000*kW)(230901000000S)(230831181500S)(01.862*kW)",
        ], header: "/FLU5\\253769484_A"))
        #expect(sink.diagnostics.isEmpty)
        let month = try #require(sink.readings.first { $0.obis == "1-0:1.6.0" })
        #expect(month.quantity == .power && month.function == .maximum && month.value == .number(ExactDecimal(3064)))
        #expect(month.time == UTCTime(iso8601: "2023-11-02T10:45:00Z"))
        let history = sink.readings.filter { $0.obis == "0-0:98.1.0" }
        #expect(history.map(\.value) == [.number(.zero), .number(ExactDecimal(1862))])
        #expect(history.map(\.time) == [UTCTime(iso8601: "2023-07-31T22:00:00Z"), UTCTime(iso8601: "2023-08-31T16:15:00Z")])
        #expect(history.map(\.note) == ["period 2023-07-31T22:00:00Z; invalid timestamp 632525252525W",
                                         "period 2023-08-31T22:00:00Z"])
        #expect(history.allSatisfy { $0.quantity == .power && $0.function == .maximum && $0.meter == "1SAG3101021605" })
    }

    @Test func unknownUnitsKeepTheNumberAndSayTheUnit() throws {
        let sink = T.decode(T.telegram(["1-0:1.8.1(000123.4*kwh)", "1-0:99.1.0(12*foo)", "0-0:96.13.0(414243)", "0-0:96.5.5(A2)"]))
        #expect(sink.diagnostics.isEmpty)
        let odd = try #require(sink.readings.first { $0.obis == "1-0:1.8.1" })
        // A unit an energy register cannot have: the number as sent, quantity register.
        #expect(odd.value == .number(ExactDecimal("123.4")!) && odd.unit == nil && odd.note == "unit kwh")
        #expect(odd.quantity == .register && odd.tariff == nil)
        let foo = try #require(sink.readings.first { $0.obis == "1-0:99.1.0" })
        #expect(foo.value == .number(ExactDecimal(12)) && foo.unit == nil && foo.note == "unit foo")
        #expect(sink.readings.first { $0.obis == "0-0:96.13.0" }?.value == .text("ABC"))
        #expect(sink.readings.first { $0.obis == "0-0:96.5.5" }?.value == .text("A2"))
    }

    @Test func meterIdentityAndMBusChannels() throws {
        let sink = T.decode(dsmr5)
        #expect(sink.diagnostics.isEmpty)
        let electricity = sink.readings.filter { $0.medium == "electricity" }
        #expect(electricity.allSatisfy { $0.meter == "E0044007382246019" })
        let gas = sink.readings.filter { $0.obis?.hasPrefix("0-1:") == true }
        #expect(gas.count == 3 && gas.allSatisfy { $0.meter == "G0039001936990619" && $0.medium == "gas" })
        let import1 = try #require(sink.readings.first { $0.obis == "1-0:1.8.1" })
        #expect(import1.quantity == .energy && import1.tariff == 1 && import1.unit == .wattHour)
        #expect(import1.value == .number(ExactDecimal(2_130_115)))

        // A channel without an identifier is named after the electricity meter.
        let anonymous = T.decode(T.telegram(["0-0:96.1.1(4530303434303037333832323436303139)", "0-1:24.1.0(007)",
                                             "0-1:96.1.0()", "0-1:24.2.1(200426223001S)(00012.5*m3)"]))
        let water = try #require(anonymous.readings.first { $0.obis == "0-1:24.2.1" })
        #expect(water.meter == "E0044007382246019/mbus1" && water.medium == "water" && water.quantity == .volume)

        // No identifier at all: the header line's MAN:identification.
        #expect(T.decode(T.telegram(["1-0:1.8.1(1*kWh)"])).readings.first?.meter == "ISK:M550T-1012")
    }

    @Test func thePowerFailureLogIsEvents() throws {
        let sink = T.decode(dsmr5)
        #expect(sink.events == [Event(meter: "E0044007382246019", event: "power_failure",
                                      time: UTCTime(iso8601: "2019-03-26T08:50:15Z"), duration: ExactDecimal(2014),
                                      provenance: Provenance(protocolID: .dsmr, source: "test", frame: 0))])
        #expect(!sink.readings.contains { $0.obis == "1-0:99.97.0" })

        let short = T.decode(T.telegram(["1-0:99.97.0(2)(0-0:96.7.19)(190326095015W)(0000002014*s)"]))
        #expect(short.events.count == 1)
        #expect(short.warnings.map(\.error.message) == ["1-0:99.97.0 states 2 entries and holds 1"])
    }

    /// One bad line in a telegram whose CRC is right is a warning at its offset; the rest is decoded.
    @Test func aMalformedLineIsAWarningAndTheRestIsDecoded() throws {
        let lines = ["1-0:1.8.1(002130.115*kWh)", "1-0:1.8.2(000245", "garbage", "1-0:2.7.0(00.000*kW)"]
        let bytes = T.telegram(lines)
        let sink = T.decode(bytes)
        #expect(sink.skips.isEmpty)
        let text = String(decoding: bytes, as: UTF8.self)
        let second = try #require(text.range(of: "1-0:1.8.2")).lowerBound.utf16Offset(in: text)
        let third = try #require(text.range(of: "garbage")).lowerBound.utf16Offset(in: text)
        #expect(sink.warnings.map(\.error.offset) == [second, third])
        #expect(sink.warnings.allSatisfy { $0.error.kind == .malformed && $0.error.layer == .dsmr })
        #expect(sink.readings.map(\.obis) == ["1-0:1.8.1", "1-0:2.7.0"])
    }
}

@Suite struct DSMRFramingTests {
    static let dsmr: Set<ProtocolID> = [.dsmr], iec: Set<ProtocolID> = [.iec62056_21]
    static let both: Set<ProtocolID> = [.dsmr, .iec62056_21]
    static let stxReadout: [UInt8] = {
        let block = Array("1.8.0(1*kWh)\r\n!\r\n\u{03}".utf8)
        return Array("/ABC5meter\r\n\u{02}".utf8) + block + [block.reduce(0, ^)]
    }()

    /// STX → IEC 62056-21; CRC → DSMR; DSMR-only objects → DSMR; else IEC 62056-21; one protocol
    /// enabled → that one.
    @Test(arguments: [
        (dsmr5, both, ProtocolID.dsmr), (stxReadout, both, .iec62056_21), (dsmr22, both, .dsmr),
        (T.telegram(["1-0:1.8.0*255(00032549.5061662*kWh)"], header: "/ESY5Q3DA1004 V3.04", crc: .some(nil)), both, .iec62056_21),
        (T.telegram(["0-1:24.2.1(101209112500W)(12785.123*m3)"], header: "/ABC5x", crc: .some(nil)), both, .dsmr),
        (T.telegram(["0-0:1.0.0(101209112500W)"], header: "/ABC5x", crc: .some(nil)), both, .dsmr),
        (T.telegram(["1-0:1.8.0(1*kWh)"], header: "/ABC5x"), both, .dsmr),
        (stxReadout, dsmr, .dsmr), (dsmr5, iec, .iec62056_21),
        (Array("/?!\r\n".utf8), both, .iec62056_21), (Array("/?12345678!\r\n".utf8), iec, .iec62056_21),
    ] as [([UInt8], Set<ProtocolID>, ProtocolID)])
    func classification(bytes: [UInt8], protocols: Set<ProtocolID>, expected: ProtocolID) {
        #expect(TextTelegramFraming.scan(bytes, at: 0, end: bytes.count, atEnd: true, protocols: protocols)
                == .frame(expected, length: bytes.count))
    }

    @Test func aRequestIsSkippedWhenOnlyDSMRIsEnabled() {
        let sink = T.decode(Array("/?!\r\n".utf8) + dsmr5, protocols: Self.dsmr)
        #expect(sink.skips.map(\.error.offset) == [0])
        #expect(sink.readings.count == T.decode(dsmr5).readings.count)
    }

    @Test func waitsForTheEndOfATelegramButNotForever() {
        let half = Array(dsmr5.prefix(200))
        #expect(TextTelegramFraming.scan(half, at: 0, end: half.count, atEnd: false, protocols: Self.both) == .needMore)
        // Past 16 KiB without "!" it is not a telegram, even while more may come.
        let long = Array("/ABC5x\r\n".utf8) + Array(repeating: Array("1-0:1.8.0(1*kWh)\r\n".utf8), count: 1000).joined()
        guard case .invalid(_, skip: 1) = TextTelegramFraming.scan(long, at: 0, end: long.count, atEnd: false,
                                                                    protocols: Self.both) else {
            Issue.record("a 16 KiB telegram without end is waited for")
            return
        }
        let sink = T.decode(long + dsmr5)
        #expect(sink.skips.count == 1 && sink.skips.first?.error.offset == 0)
        #expect(sink.readings.count == T.decode(dsmr5).readings.count)
    }

    @Test func aTelegramCutShortByTheEndOfTheInputIsReported() {
        let bang = dsmr5.lastIndex(of: UInt8(ascii: "!"))!
        for length in [1, 30, 200, bang] {
            let sink = T.decode(Array(dsmr5.prefix(length)))
            #expect(sink.records.isEmpty)
            #expect(sink.skips.count == 1, "\(length)")
            #expect(sink.skips.first?.error.offset == 0)
        }
        // Cut inside the CRC: what is there is taken as the CRC, and does not match.
        let partial = T.decode(Array(dsmr5.prefix(bang + 3)))
        #expect(partial.records.isEmpty)
        #expect(partial.skips.map(\.error.kind) == [.checksum])
        // Cut short by the next telegram: the fragment is one diagnostic, the next telegram decodes.
        let sink = T.decode(Array(dsmr5.prefix(300)) + dsmr5)
        #expect(sink.skips.map(\.error.offset) == [0])
        #expect(sink.readings.count == T.decode(dsmr5).readings.count)
    }

    /// Garbage between two telegrams: one diagnostic at its offset, both telegrams decoded.
    @Test(arguments: [(dsmr5, "\u{00}\u{FF}noise"), (dsmr5, "\r\nnoise (line)\r\n"), (dsmr22, "noise (line)\r\n")])
    func garbageBetweenTelegrams(telegram: [UInt8], garbage: String) {
        let bytes = telegram + Array(garbage.utf8) + telegram
        let sink = T.decode(bytes)
        #expect(sink.skips.count == 1)
        #expect(sink.skips.first?.error.offset == telegram.count)
        let one = T.decode(telegram).readings
        #expect(sink.readings.count == 2 * one.count)
        #expect(sink.readings.map(\.value) == (one + one).map(\.value))
    }

    /// Idle line ends before, between and after telegrams, and the EasyMeter trailer, are no garbage.
    @Test func idleBytesAndTrailersAreNotGarbage() {
        let q3d = T.telegram(["1-0:1.8.0*255(00032549.5061662*kWh)"], header: "/ESY5Q3DA1004 V3.04", crc: .some(nil))
            + Array("  25818685\r\n".utf8) + Array(repeating: 0xFF, count: 33) + [0x0D, 0x0A]
        let bytes = [0x0A] + dsmr5 + [0x0D, 0x0A] + q3d + q3d + dsmr22 + [0x0D, 0x0A, 0x0D, 0x0A]
        let sink = T.decode(bytes)
        #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
        #expect(Set(sink.readings.map(\.provenance.frame)) == [0, 1, 2, 3])
    }

    /// However the input is cut into two chunks, the records and diagnostics are the same.
    @Test(arguments: [
        dsmr5 + dsmr22, Array("\u{7F}/?!\r\n".utf8) + stxReadout + [0x7F],
        T.telegram(["1-0:1.8.0*255(00032549.5061662*kWh)"], header: "/ESY5Q3DA1004 V3.04", crc: .some(nil))
            + Array("  25818685\r\nDE0000000000000000000000000000003\r\n\r\n".utf8) + dsmr5 + [0x0D, 0x0A],
    ])
    func everyCutGivesTheSameResult(bytes: [UInt8]) {
        let whole = T.decode(bytes)
        #expect(!whole.readings.isEmpty)
        for cut in 0...bytes.count {
            let split = T.decode(bytes, cuts: [cut])
            #expect(split.records == whole.records, "cut at \(cut)")
            #expect(split.diagnostics == whole.diagnostics, "cut at \(cut)")
        }
    }
}
