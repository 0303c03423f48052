import Foundation
import Testing
@testable import AMICore

/// The 9 readouts of `shared/corpus/iec62056-21` against pwitab iec62056-21 0.0.2 (`expected.jsonl`).
///
/// The peer keeps values as strings with their padding: a value we read as a number equals the peer's
/// number times its unit's power of ten (`peerUnits`); a text value equals the peer's trimmed. The peer's
/// unit `""` (ACE3000 `1.8.0(013925.5*)`) and null both mean no unit. Its quirks, not ours: it drops the
/// character after the baud-rate character of the identification line (checked below), and a second
/// value group would be a data set with address null (none in these files). Only the first readout of
/// a file is covered by the peer; the rest are checked where the tests say so.
@Suite(.enabled(if: TextTelegramTesting.corpus("iec62056-21") != nil, "../shared/corpus/iec62056-21 is absent"))
struct IEC62056CorpusTests {
    static let folder = TextTelegramTesting.corpus("iec62056-21")
    static let entries = TextTelegramTesting.expected(folder)
    static var ids: [String] { entries.compactMap { $0["id"]?.stringValue } }

    /// The peer's units, as (our base unit, power of ten, factor).
    static let peerUnits: [String: (AMICore.Unit, Int, Int64)] = [
        "kWh": (.wattHour, 3, 1), "kW": (.watt, 3, 1), "W": (.watt, 0, 1), "V": (.volt, 0, 1), "A": (.ampere, 0, 1),
        "GJ": (.joule, 9, 1), "m3": (.cubicMetre, 0, 1), "h": (.second, 0, 3600),
    ]

    @Test func holdsTheNineReadouts() {
        #expect(Self.entries.count == 9)
    }

    @Test(arguments: ids)
    func matchesPwitab(id: String) throws {
        let entry = try #require(Self.entries.first { $0["id"]?.stringValue == id })
        let peer = try #require(entry["pwitab_iec62056_21"])
        let bytes = try TextTelegramTesting.bytes(Self.folder, try #require(entry["file"]?.stringValue))
        let badBCC = peer["bcc_valid"] == .bool(false)

        let plain = TextTelegramTesting.decode(bytes)
        let sink: CollectingSink
        if badBCC {
            let checksum = plain.skips.filter { $0.error.kind == .checksum }
            #expect(checksum.count == 1)
            #expect(checksum.first?.error.layer == .iec62056_21)
            #expect(plain.readings.isEmpty)
            sink = TextTelegramTesting.decode(bytes, ignoreChecksums: true)
            #expect(sink.warnings.map(\.error.kind).contains(.checksum))
        } else {
            sink = plain
        }
        let first = try #require(sink.readings.map(\.provenance.frame).min())
        let readout = sink.readings.filter { $0.provenance.frame == first }
        #expect(readout.allSatisfy { $0.provenance.protocolID == .iec62056_21 })

        guard case .array(let sets)? = peer["data_sets"] else { Issue.record("no data sets"); return }
        #expect(readout.count == sets.count)
        for set in sets {
            guard let address = set["address"]?.stringValue else { continue }  // the peer's extra value group
            let ours = readout.filter { $0.obis == address }
            try #require(ours.count == 1, "\(address): \(ours.count) readings")
            let value = try #require(set["value"]?.stringValue)
            let unit = set["unit"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            switch ours[0].value {
            case .number(let n):
                var expected = ExactDecimal(value.trimmingCharacters(in: .whitespaces))
                var expectedUnit: AMICore.Unit? = nil
                if let unit {
                    let (base, power, factor) = try #require(Self.peerUnits[unit], "unit \(unit)")
                    expected = expected?.scaled(byPowerOfTen: power).multiplied(by: factor)
                    expectedUnit = base
                }
                #expect(expected == n, "\(address): \(value) \(unit ?? "")")
                #expect(ours[0].unit == expectedUnit, "\(address)")
            case .text(let t):
                #expect(t == value.trimmingCharacters(in: .whitespaces), "\(address)")
                #expect(unit == nil, "\(address)")
            }
        }

        // Identification: manufacturer and baud-rate character as the peer's; the peer drops the
        // character after the baud-rate character, we drop only a `\W` enhanced-capability sequence.
        if let line = entry["identification_line"]?.stringValue, let ident = peer["identification"] {
            let text = Array(line.utf8).filter { $0 != 0x0D && $0 != 0x0A }
            let ours = try #require(IdentificationLine(text, 0..<text.count))
            #expect(ours.manufacturer == ident["manufacturer"]?.stringValue)
            #expect(String(ours.baudRate) == ident["switchover_baudrate_char"]?.stringValue)
            let afterBaud = String(decoding: text.dropFirst(5), as: UTF8.self)
            #expect(ident["identification"]?.stringValue == String(afterBaud.dropFirst()))
            #expect(ours.identification == (afterBaud.hasPrefix("\\") ? String(afterBaud.dropFirst(2)) : afterBaud))
        }
    }

    /// `vzlogger_hagerehz_waitsync`: the capture starts inside a telegram. Those bytes are reported
    /// once, from offset 0, and the good telegram after them is decoded.
    @Test func aCaptureStartingMidTelegramReportsTheFragment() throws {
        let bytes = try TextTelegramTesting.bytes(Self.folder, "vzlogger_hagerehz_waitsync.bin")
        let sink = TextTelegramTesting.decode(bytes)
        #expect(sink.skips.count == 1)
        #expect(sink.skips.first?.error.offset == 0)
        let good = try #require(bytes.firstIndex(of: UInt8(ascii: "/")))
        #expect(sink.skips.first?.error.message == "skipped \(good - 1) bytes that are not a frame")
        #expect(sink.readings.map(\.obis) == ["2-1:2.3.4*255"])
        #expect(sink.readings.first?.meter == "HAG:eHZ010C_EHZ1vA02")
    }

    /// `vzlogger_hagerehz_basic`: two push telegrams in a row are two frames.
    @Test func twoReadoutsInARowAreTwoFrames() throws {
        let sink = TextTelegramTesting.decode(try TextTelegramTesting.bytes(Self.folder, "vzlogger_hagerehz_basic.bin"))
        #expect(sink.diagnostics.isEmpty)
        #expect(sink.readings.map(\.provenance.frame) == [0, 1, 1])
        #expect(sink.readings.map(\.value) == ["1.2963", "1.2964", "1.2965"].map { .number(ExactDecimal($0)!) })
    }

    /// The HHU's echoed sign-on request `/?!` is a frame of its own that yields nothing; the 0x7F
    /// noise before it is reported as skipped.
    @Test func echoedRequestsYieldNothing() throws {
        let landis = TextTelegramTesting.decode(try TextTelegramTesting.bytes(Self.folder, "vzlogger_landisgyr_basic.bin"))
        #expect(landis.diagnostics.isEmpty)
        #expect(landis.readings.count == 8)
        #expect(landis.readings.allSatisfy { $0.provenance.frame == 1 && $0.meter == "20000" })

        let ace = TextTelegramTesting.decode(try TextTelegramTesting.bytes(Self.folder, "vzlogger_ace3000_basic.bin"),
                                             ignoreChecksums: true)
        #expect(ace.skips.map(\.error.offset) == [0, 99])
        #expect(ace.skips.first?.error.message == "skipped 5 bytes that are not a frame")
        // The stray "Y STX STX SOH NUL" before "!" is not a data set: a warning, the rest decoded.
        #expect(ace.warnings.contains { $0.error.offset == 89 && $0.error.kind == .malformed })
        #expect(ace.readings.first?.meter == "1126120053322353")
    }

    /// `vzlogger_lug_e350`: STX but no ETX (LF LF line ends): decoded, with a warning that the BCC was
    /// not there to check.
    @Test func aBlockWithoutETXIsDecodedWithAWarning() throws {
        let sink = TextTelegramTesting.decode(try TextTelegramTesting.bytes(Self.folder, "vzlogger_lug_e350.bin"))
        #expect(sink.skips.isEmpty)
        #expect(sink.warnings.map(\.error.message) == ["data block without ETX and BCC: not checked"])
        #expect(sink.readings.count == 23)
        #expect(sink.readings.first?.meter == "18438636")
    }
}
