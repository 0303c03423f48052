import Foundation
import Testing
@testable import AMICore

/// A-XDR data (IEC 62056-6-2 §4.1.5 types, A-XDR rules of IEC 61334-6): every type both ways.
@Suite struct DLMSDataTests {
    static func b(_ hex: String) -> [UInt8] { DLMSTest.bytes(hex) }

    static let vectors: [(String, DLMSData)] = [
        ("00", .null),
        ("0300", .boolean(false)),
        ("0301", .boolean(true)),
        ("040BE040", .bitString(BitString(count: 11, bytes: [0xE0, 0x40])!)),
        ("05FFFFFFFE", .doubleLong(-2)),
        ("060048EF50", .doubleLongUnsigned(4_779_856)),
        ("09060100010800FF", .octetString([1, 0, 1, 8, 0, 255])),
        ("0A083130303037393139", .visibleString(Array("10007919".utf8))),
        ("0C03E282AC", .utf8String(Array("€".utf8))),
        ("0D12", .bcd(0x12)),
        ("0FFE", .integer(-2)),
        ("10FF38", .long(-200)),
        ("11FF", .unsigned(255)),
        ("1208FB", .longUnsigned(2299)),
        ("148000000000000000", .long64(Int64.min)),
        ("15FFFFFFFFFFFFFFFF", .long64Unsigned(UInt64.max)),
        ("161B", .enumerated(27)),
        ("1741480000", .float32(bits: 0x4148_0000)),
        ("183FB999999999999A", .float64(bits: 0x3FB9_9999_9999_999A)),
        ("1907E80301050C1E0000FFC400", .dateTime(COSEMDateTime(bytes: b("07E80301050C1E0000FFC400"))!)),
        ("1A07E8030105", .date(COSEMDate(year: 2024, month: 3, dayOfMonth: 1, dayOfWeek: 5))),
        ("1B0C1E00FF", .time(COSEMTime(hour: 12, minute: 30, second: 0, hundredths: 0xFF))),
        ("FF", .dontCare),
        ("0102110111 02", .array([.unsigned(1), .unsigned(2)])),
        ("02020FFD161E", .structure([.integer(-3), .enumerated(30)])),
        ("0100", .array([])),
        // Compact arrays: the type, then the untagged contents as an octet-string.
        ("1312 06 000100020003", .compactArray(.simple(.longUnsigned), [.longUnsigned(1), .longUnsigned(2), .longUnsigned(3)])),
        ("13020211 12 06 010001 020002",
         .compactArray(.structure([.simple(.unsigned), .simple(.longUnsigned)]),
                       [.structure([.unsigned(1), .longUnsigned(1)]), .structure([.unsigned(2), .longUnsigned(2)])])),
        ("13 09 05 02AABB 01CC", .compactArray(.simple(.octetString), [.octetString([0xAA, 0xBB]), .octetString([0xCC])])),
        ("13 01000211 04 01020304",
         .compactArray(.array(count: 2, element: .simple(.unsigned)),
                       [.array([.unsigned(1), .unsigned(2)]), .array([.unsigned(3), .unsigned(4)])])),
    ]

    @Test(arguments: vectors)
    func decodesAndEncodes(hex: String, value: DLMSData) throws {
        #expect(try DLMSData(bytes: Self.b(hex)) == value)
        #expect(value.encoded() == Self.b(hex))
    }

    @Test func longLengthsUseTheMultiByteForm() throws {
        for (count, prefix) in [(127, "097F"), (128, "098180"), (200, "0981C8"), (300, "0982012C"), (70_000, "0983011170")] {
            let value = DLMSData.octetString([UInt8](repeating: 0xA5, count: count))
            let encoded = value.encoded()
            #expect(Hex.string(encoded.prefix(prefix.count / 2)).uppercased() == prefix)
            #expect(try DLMSData(bytes: encoded) == value)
        }
        // A non-minimal length is read, and written back minimal.
        #expect(try DLMSData(bytes: Self.b("098102AABB")) == .octetString([0xAA, 0xBB]))
    }

    @Test func numbersConvertExactly() {
        #expect(DLMSData.doubleLongUnsigned(4_779_856).decimalValue == ExactDecimal(4_779_856))
        #expect(DLMSData.long64(Int64.min).integerValue == Int64.min)
        #expect(DLMSData.long64Unsigned(UInt64.max).decimalValue == nil)
        #expect(DLMSData.float32(bits: 0x4148_0000).decimalValue?.description == "12.5")
        #expect(DLMSData.float32(bits: 0x3DCC_CCCD).decimalValue?.description == "0.1")  // 0.1f
        #expect(DLMSData.float64(bits: 0x3FB9_9999_9999_999A).decimalValue?.description == "0.1")
        #expect(DLMSData.float32(bits: 0x7FC0_0000).decimalValue == nil)  // NaN
        #expect(DLMSData.float64(bits: 0x7FF0_0000_0000_0000).decimalValue == nil)  // +inf
        #expect(DLMSData.octetString([1]).decimalValue == nil)
        #expect(DLMSData.enumerated(3).integerValue == nil)
    }

    @Test func descriptionsAreCompact() {
        let v: DLMSData = .structure([.octetString([1, 0, 1, 8, 0, 255]), .doubleLongUnsigned(7), .visibleString(Array("ab".utf8)),
                                      .array([.boolean(true)]), .float32(bits: 0x4148_0000)])
        #expect(v.description == "{0x0100010800ff, 7, \"ab\", [true], 12.5}")
    }

    static let malformed: [(String, DecodeError.Kind, Int)] = [
        ("07", .malformed, 0),                      // floating-point (7) is not a type here
        ("0105 00", .needMore(count: 4), 2),        // 5 elements claimed, 1 byte left
        ("0980", .malformed, 1),                    // indefinite length
        ("0989 0102030405060708 09", .malformed, 1),
        ("0988 FFFFFFFFFFFFFFFF", .outOfRange, 1),
        ("0488 7FFFFFFFFFFFFFFF", .outOfRange, 1),  // bit count + 7 overflows
        ("0905 0102", .needMore(count: 3), 2),
        ("1300 00", .unsupported, 0),                // compact array of null-data
        ("13020211 00 00", .unsupported, 0),         // compact array of a structure holding null-data
        ("1313 00", .malformed, 1),                  // compact array of compact arrays
        ("1311 03 0102", .needMore(count: 1), 3),
        ("0101", .needMore(count: 1), 2),
    ]

    @Test(arguments: malformed)
    func refusesMalformedData(hex: String, kind: DecodeError.Kind, offset: Int) throws {
        let e = try #require(Self.failure(Self.b(hex)))
        #expect(e.layer == .dlmsApplication && e.kind == kind && e.offset == offset, "\(e)")
    }

    static func failure(_ bytes: [UInt8]) -> DecodeError? {
        do {
            _ = try DLMSData(bytes: bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func deepNestingIsMalformedNotAStackOverflow() {
        for depth in [DLMSData.maxDepth + 1, 100_000] {
            let bytes = Array([[UInt8]](repeating: [0x01, 0x01], count: depth).joined()) + [0x00]
            #expect(throws: DecodeError.self) { try DLMSData(bytes: bytes) }
        }
        let ok = Array([[UInt8]](repeating: [0x02, 0x01], count: DLMSData.maxDepth).joined()) + [0x00]
        #expect((try? DLMSData(bytes: ok)) != nil)
        // Type descriptions nest no deeper either: array of array of … unsigned.
        let deepType = [0x13] + Array([[UInt8]](repeating: [0x01, 0x00, 0x01], count: 10_000).joined()) + [0x11, 0x01, 0x05]
        #expect(throws: DecodeError.self) { try DLMSData(bytes: deepType) }
    }

    @Test func randomBytesNeverTrapAndReencodeStably() throws {
        var rng = SplitMix64(state: 0xD1_5E_A5E)
        var parsed = 0
        for _ in 0..<30_000 {
            let n = Int(rng.next() % 24)
            var bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Bias towards known tags so that structures are explored.
            if !bytes.isEmpty { bytes[0] = [0x01, 0x02, 0x13, 0x09, 0x04][Int(rng.next() % 5)] }
            guard let v = try? DLMSData(bytes: bytes) else { continue }
            parsed += 1
            #expect(try DLMSData(bytes: v.encoded()) == v)
        }
        #expect(parsed > 100)
    }
}

@Suite struct COSEMValueTests {
    @Test(arguments: [
        ("1-0:1.8.0*255", OBISCode(1, 0, 1, 8, 0, 255)),
        ("1.0.1.8.0.255", OBISCode(1, 0, 1, 8, 0, 255)),
        ("1-0:1.8.0.255", OBISCode(1, 0, 1, 8, 0, 255)),
        ("1-0:99.1.0", OBISCode(1, 0, 99, 1, 0, 255)),
        ("0-0:C.1.0*255", OBISCode(0, 0, 96, 1, 0, 255)),
        ("0.0.96.3.10.255", OBISCode(0, 0, 96, 3, 10, 255)),
    ])
    func obisCodesParse(text: String, code: OBISCode) {
        #expect(OBISCode(text) == code)
    }

    @Test(arguments: ["1-0:1.8", "1.8.0", "1.0.1.8.0.256", "1.0.1.8.0.255.1", "1-0:1.8.0*255x", ""])
    func obisCodesRefuse(text: String) {
        #expect(OBISCode(text) == nil)
    }

    @Test func obisCodesPrint() {
        let c = OBISCode(bytes: [1, 0, 1, 8, 0, 255])!
        #expect(c.description == "1-0:1.8.0*255")
        #expect(c.dotted == "1.0.1.8.0.255")
        #expect(OBISCode(bytes: [1, 2, 3]) == nil)
    }

    @Test func dateTimeToUTC() throws {
        let local = try #require(COSEMDateTime(bytes: DLMSTest.bytes("07E80301FF0C1E0000000000")))
        #expect(local.date.year == 2024 && local.time.hour == 12 && local.deviation == 0 && local.clockStatus == [])
        #expect(local.utcTime()?.description == "2024-03-01T12:30:00Z")
        // Central Europe in winter: deviation −60 by the Blue Book (UTC = local + deviation).
        let cet = try #require(COSEMDateTime(bytes: DLMSTest.bytes("07E80301050C1E0032FFC400")))
        #expect(cet.utcTime()?.description == "2024-03-01T11:30:00.500Z")
        #expect(cet.utcTime(convention: .utcOffset)?.description == "2024-03-01T13:30:00.500Z")
        // Deviation not specified: no instant unless one is assumed.
        let unspecified = try #require(COSEMDateTime(bytes: DLMSTest.bytes("07E80301FF0C1EFFFF800000")))
        #expect(unspecified.utcTime() == nil)
        #expect(unspecified.utcTime(unspecifiedDeviation: 0)?.description == "2024-03-01T12:30:00Z")
        #expect(unspecified.description == "2024-03-01 12:30:*.* status 0x00")
        // Unspecified hour, special days: no instant.
        #expect(COSEMDateTime(bytes: DLMSTest.bytes("07E80301FFFF1E0000000000"))?.utcTime() == nil)
        #expect(COSEMDateTime(bytes: DLMSTest.bytes("07E803FEFF0C1E0000000000"))?.utcTime() == nil)
        #expect(COSEMDateTime(bytes: [0x07]) == nil)
    }

    @Test func dateTimeFromUTC() throws {
        let t = try #require(UTCTime(iso8601: "2024-03-01T11:30:00.250Z"))
        let cet = try #require(COSEMDateTime(utc: t, deviation: -60, clockStatus: []))
        #expect(Hex.string(cet.bytes).uppercased() == "07E80301050C1E0019FFC400")  // Friday = 5
        #expect(cet.utcTime() == t)
        let utc = try #require(COSEMDateTime(utc: UTCTime(iso8601: "2023-01-01T00:00:00Z")!))
        #expect(Hex.string(utc.bytes).uppercased() == "07E701010700000000000000")  // Sunday = 7
        #expect(cet.description == "2024-03-01 12:30:00.25 deviation -60 status 0x00")
    }

    @Test func unitsMapToTheVocabulary() {
        #expect(DLMSUnit.wattHour.symbol == "Wh" && DLMSUnit(rawValue: 9).symbol == "°C" && DLMSUnit(rawValue: 72).symbol == "dB")
        #expect(DLMSUnit(rawValue: 0).symbol == nil && DLMSUnit(rawValue: 58).symbol == nil && DLMSUnit.count.symbol == "count")
        func check(_ code: UInt8, _ value: String, _ converted: String, _ unit: AMICore.Unit) {
            let r = DLMSUnit(rawValue: code).convert(ExactDecimal(value)!)
            #expect(r?.value.description == converted && r?.unit == unit, "unit \(code)")
        }
        check(27, "1.5", "1.5", .watt)
        check(28, "2", "2", .voltAmpere)
        check(29, "3", "3", .varUnit)
        check(30, "4", "4", .wattHour)
        check(31, "5", "5", .voltAmpereHour)
        check(32, "6", "6", .varHour)
        check(33, "7", "7", .ampere)
        check(35, "230.1", "230.1", .volt)
        check(44, "50", "50", .hertz)
        check(9, "21.5", "21.5", .degreeCelsius)
        check(13, "1", "1", .cubicMetre)
        check(14, "1", "1", .cubicMetre)
        check(15, "2", "2", .cubicMetrePerHour)
        check(19, "1500", "1.500", .cubicMetre)
        check(5, "2", "7200", .second)
        check(6, "3", "180", .second)
        check(4, "1", "86400", .second)
        check(23, "100000", "1.00000", .bar)
        check(50, "2", "7200", .kilogramPerHour)
        check(8, "120", "120", .degree)
        check(56, "99", "99", .percent)
        check(52, "3", "3", .kelvin)
        #expect(DLMSUnit(rawValue: 255).convert(ExactDecimal(1)) == nil)
        #expect(DLMSUnit(rawValue: 10).convert(ExactDecimal(1)) == nil)  // currency
        #expect(DLMSUnit(rawValue: 5).convert(ExactDecimal(Int64.max)) == nil)
    }

    @Test func scalerUnitScalesExactly() throws {
        // Register 1-0:1.8.0 attribute 3 as the corpus meter sends it: {0, Wh}; then {-3, kWh-style} cases.
        let su = try #require(ScalerUnit(try DLMSData(bytes: DLMSTest.bytes("02020F00161E"))))
        #expect(su == ScalerUnit(scaler: 0, unit: .wattHour))
        #expect(su.reading(.doubleLongUnsigned(4_779_856))?.value == ExactDecimal(4_779_856))
        let milli = ScalerUnit(scaler: -3, unit: .volt)
        #expect(milli.scaled(.doubleLongUnsigned(230_125))?.description == "230.125")
        let kilo = ScalerUnit(scaler: 3, unit: .wattHour)
        #expect(kilo.reading(.doubleLongUnsigned(12))?.value.description == "12000")
        #expect(ScalerUnit(scaler: -1, unit: .degreeCelsius).scaled(.float32(bits: 0x4148_0000))?.description == "1.25")
        #expect(ScalerUnit(.structure([.integer(-1)])) == nil)
        #expect(ScalerUnit(.structure([.long(300), .enumerated(30)])) == nil)
        #expect(su.data.encoded() == DLMSTest.bytes("02020F00161E"))
    }

    @Test func selectiveAccessDescriptors() throws {
        let from = COSEMDateTime(date: COSEMDate(year: 2024, month: 3, dayOfMonth: 1), time: COSEMTime(hour: 10, minute: 0),
                                 deviation: 0, clockStatus: [])
        let to = COSEMDateTime(date: COSEMDate(year: 2024, month: 3, dayOfMonth: 1), time: COSEMTime(hour: 12, minute: 0),
                               deviation: 0, clockStatus: [])
        let range = SelectiveAccess.range(RangeDescriptor(from: from, to: to))
        #expect(range.rangeDescriptor?.restrictingObject == .clock)
        #expect(range.rangeDescriptor?.from.dateTimeValue == from)
        #expect(range.entryDescriptor == nil)
        let entry = SelectiveAccess.entry(EntryDescriptor(fromEntry: 1, toEntry: 4))
        #expect(entry.parameters.encoded() == DLMSTest.bytes("020406000000010600000004120001120000"))
        #expect(entry.entryDescriptor == EntryDescriptor(fromEntry: 1, toEntry: 4, fromSelectedValue: 1, toSelectedValue: 0))
    }
}
