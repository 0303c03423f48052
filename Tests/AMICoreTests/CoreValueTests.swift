import Testing
@testable import AMICore

@Suite struct ExactDecimalTests {
    @Test(arguments: [
        ("0", "0"), ("1581.123", "1581.123"), ("-000073.69", "-73.69"), ("002.30", "2.30"),
        ("00000000.7801269", "0.7801269"), ("1e-05", "0.00001"), ("1.5e3", "1500"), ("+7", "7"),
        // Zeros past the 18th digit fold into the exponent (what `description` writes reads back).
        ("1234567890123456780000", "1234567890123456780000"), ("1.234567890123456780000", "1.23456789012345678"),
    ])
    func parsesAndPrintsExactly(input: String, printed: String) {
        #expect(ExactDecimal(input)?.description == printed)
    }

    @Test(arguments: ["", "-", ".", "1.2.3", "12a", "1e", " 1", "1234567890123456789", "1234567890123456780001"])
    func rejectsWhatIsNotADecimal(input: String) {
        #expect(ExactDecimal(input) == nil)
    }

    @Test func scalesByMovingTheExponentOnly() {
        let kwh = ExactDecimal("1581.123")!
        #expect(kwh.scaled(byPowerOfTen: 3).description == "1581123")
        #expect(ExactDecimal(54321, exponent: -3).description == "54.321")
        #expect(ExactDecimal(12, exponent: 2).description == "1200")
        #expect(ExactDecimal(-5, exponent: -4).description == "-0.0005")
    }

    @Test(arguments: [
        (Int64(0), 0, "0"), (0, 3, "0"), (0, -3, "0.000"), (7, 0, "7"), (10, 0, "10"), (-10, -1, "-1.0"),
        (12345, -5, "0.12345"), (12345, -4, "1.2345"), (-12345, -1, "-1234.5"), (1, -1, "0.1"),
        (Int64.max, 0, "9223372036854775807"), (Int64.min, 0, "-9223372036854775808"),
        (Int64.min, -19, "-0.9223372036854775808"), (Int64.min, -21, "-0.009223372036854775808"),
        (-3, 4, "-30000"),
    ])
    func printsEverySignificandAndExponent(significand: Int64, exponent: Int, printed: String) {
        let d = ExactDecimal(significand, exponent: exponent)
        #expect(d.description == printed)
        #expect(d.description.utf8.count <= d.maxTextLength)
    }

    @Test func equalityIsNumeric() {
        #expect(ExactDecimal("2.3") == ExactDecimal("2.30"))
        #expect(ExactDecimal("2.3")! < ExactDecimal("2.31")!)
        #expect(ExactDecimal("-2.3")! < ExactDecimal("1")!)
        #expect(ExactDecimal("1200")!.integer(atScale: 2) == 12)
        #expect(ExactDecimal("0.5")!.integer(atScale: 0) == nil)
    }

    @Test func floatsBecomeTheirShortestDecimal() {
        #expect(ExactDecimal(float: 12.5)?.description == "12.5")
        #expect(ExactDecimal(float: 0.1)?.description == "0.1")
        #expect(ExactDecimal(float: .nan) == nil)
        #expect(ExactDecimal(float: .infinity) == nil)
    }
}

@Suite struct UTCTimeTests {
    @Test func formatsAndParsesISO8601() {
        let t = UTCTime(year: 2016, month: 11, day: 13, hour: 19, minute: 57, second: 57)!
        #expect(t.description == "2016-11-13T19:57:57Z")
        #expect(UTCTime(iso8601: "2016-11-13T20:57:57+01:00") == t)
        #expect(UTCTime(iso8601: "2016-11-13T19:57:57.250Z")?.description == "2016-11-13T19:57:57.250Z")
        #expect(UTCTime(iso8601: "2016-13-13T19:57:57Z") == nil)
        #expect(UTCTime(iso8601: "2016-02-30T00:00:00Z") == nil)
        #expect(UTCTime(seconds: 0).description == "1970-01-01T00:00:00Z")
        #expect(UTCTime(seconds: -1).description == "1969-12-31T23:59:59Z")
    }

    @Test func localTimeAcrossDSTChanges() throws {
        let ams = try #require(LocalTimeZone("Europe/Amsterdam"))
        // Winter: UTC+1; summer: UTC+2.
        #expect(ams.utc(year: 2024, month: 1, day: 10, hour: 12, minute: 0, second: 0)?.description == "2024-01-10T11:00:00Z")
        #expect(ams.utc(year: 2024, month: 7, day: 10, hour: 12, minute: 0, second: 0)?.description == "2024-07-10T10:00:00Z")
        // 2024-10-27 02:30 happens twice: DST (UTC+2) first, then standard time (UTC+1).
        #expect(ams.utc(year: 2024, month: 10, day: 27, hour: 2, minute: 30, second: 0, isDST: true)?.description == "2024-10-27T00:30:00Z")
        #expect(ams.utc(year: 2024, month: 10, day: 27, hour: 2, minute: 30, second: 0, isDST: false)?.description == "2024-10-27T01:30:00Z")
    }
}

@Suite struct ByteCursorTests {
    @Test func readsLittleEndianAndSigned() throws {
        var c = ByteCursor([0x34, 0x12, 0xFF, 0xFE, 0xFF, 0xFF], layer: .mbusApplication)
        #expect(try c.uintLE(2) == 0x1234)
        #expect(try c.intLE(1) == -1)
        #expect(try c.intLE(3) == -2)
        #expect(c.isAtEnd)
    }

    @Test func runningOutSaysNeedMoreWithTheOffset() {
        var c = ByteCursor([1, 2, 3], start: 1, base: 100, layer: .mbusLink)
        #expect(throws: DecodeError(.mbusLink, at: 101, .needMore(count: 1), "need 3 bytes, 2 left")) {
            try c.take(3)
        }
        #expect(throws: DecodeError.self) { try c.skip(-1) }
    }
}

@Suite struct JSONTests {
    @Test func parsesRecordsKeepingNumberText() throws {
        let v = try JSONValue.parse(Array(#"{"type":"frame","v":1,"x":[1.50,-2e3,true,null],"s":"a\u00e9\n"}"#.utf8))
        #expect(v["type"]?.stringValue == "frame")
        #expect(v["x"] == .array([.number("1.50"), .number("-2e3"), .bool(true), .null]))
        #expect(v["s"]?.stringValue == "a\u{e9}\n")
    }

    @Test(arguments: [#"{"a":}"#, #"{"a":1"#, "[1,]", "01", #""\ud800""#, String(repeating: "[", count: 100)])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: DecodeError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func writesReadingsInTheDocumentedShape() {
        let w = JSONLineWriter()
        w.write(Reading(meter: "ACW-11490378-14-07", medium: "water", quantity: .volume,
                        value: .number(ExactDecimal(54321, exponent: -3)), unit: .cubicMetre,
                        time: UTCTime(seconds: 1_394_709_060), storage: 0, tariff: 0, subunit: 0,
                        function: .instantaneous, record: 1,
                        provenance: Provenance(protocolID: .mbus, source: "file:a \"b\".hex", frame: 0)))
        let line = String(decoding: w.buffer, as: UTF8.self)
        #expect(line == #"{"type":"reading","v":1,"meter":"ACW-11490378-14-07","medium":"water","quantity":"volume","value":54.321,"unit":"m3","time":"2014-03-13T11:11:00Z","storage":0,"tariff":0,"subunit":0,"function":"instantaneous","record":1,"protocol":"mbus","source":"file:a \"b\".hex","frame":0}"# + "\n")
        #expect((try? JSONValue.parse(w.buffer.dropLast())) != nil)
    }

    @Test(arguments: ["", "plain", "exactly8", "sixteen bytes ok", "a\"b", "0123456789\"abc", "01234567\\89",
                      "tab\there and a long tail after it", "ctl\u{01}\u{1F}", "caf\u{e9} \u{2603} 0123456789 \"q\"",
                      "\u{7F}\u{80}abcdefgh\nijk", "abc\"", "\"abcd", "ab\\cdef", "abcdef\u{1F}", "0123456789\n",
                      "\t123456789", "m3", "kWh\u{0}"])
    func escapesEveryStringSoJSONReadsItBack(text: String) throws {
        let w = JSONLineWriter()
        w.write(Reading(meter: text, quantity: .register, value: .text(text),
                        provenance: Provenance(protocolID: .dsmr, source: text, frame: 0)))
        let parsed = try JSONValue.parse(w.buffer.dropLast())
        #expect(parsed["meter"]?.stringValue == text)
        #expect(parsed["text"]?.stringValue == text)
        #expect(parsed["source"]?.stringValue == text)
    }

    @Test func fixedLiteralsMatchTheRawNames() {
        func text(_ s: StaticString) -> String { s.withUTF8Buffer { String(decoding: $0, as: UTF8.self) } }
        for p in ProtocolID.allCases { #expect(text(JSONLineWriter.literal(p)) == "\"\(p.rawValue)\"") }
        for f in [RecordFunction.instantaneous, .maximum, .minimum, .error] {
            #expect(text(JSONLineWriter.literal(f)) == "\"\(f.rawValue)\"")
        }
    }
}
