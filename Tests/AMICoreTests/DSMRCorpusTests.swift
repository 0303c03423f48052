import Foundation
import Testing
@testable import AMICore

/// The 34 telegrams of `shared/corpus/dsmr` against dsmr_parser 1.11.2's objects (`expected.jsonl`).
///
/// How the peer's values map to ours (and nothing else is loosened):
/// - numbers with a unit: the peer's number times the unit's power of ten (`peerUnits`) equals ours,
///   in our base unit; numbers without a unit (and the peer's integer counts) equal ours as decimals;
/// - timestamps are compared as UTC instants (the clock's text, the time of M-Bus and peak values);
/// - strings equal ours trimmed; identifiers and text messages (quantities in `hexDecoded`) after
///   decoding the peer's hex text as ASCII when it is that — the peer keeps `0-0:96.1.1` and
///   `0-0:96.13.x` as sent; it even reads the text message code `303132333435363738` as an integer;
/// - a value the peer has as null is our empty text;
/// - `MBusObject`: [time, value]; the DSMR 2.2/3 `0-n:24.3.0` one lists all seven groups
///   [time, status, period, count, OBIS, unit, value], of which time, unit and value are ours;
/// - `ProfileGenericObject` (power failure log): [count, OBIS, (end time, duration)…] are our
///   `power_failure` events;
/// - the e-MUCS peak history `list`: each item is a reading of `0-0:98.1.0`, at the time of the peak
///   (`occurred`), or at the period (`datetime`) when the peer has no valid time of peak; the note
///   names the period.
/// One deliberate difference, listed in `differences`: a timestamp flagged `S` (summer time) on a
/// winter date is UTC+2 for us, as the flag says (DSMR P1 5.0.2 §6.4: S = DST active), where the
/// peer uses the offset Europe/Amsterdam has on that date (UTC+1).
@Suite(.enabled(if: TextTelegramTesting.corpus("dsmr") != nil, "../shared/corpus/dsmr is absent"))
struct DSMRCorpusTests {
    static let folder = TextTelegramTesting.corpus("dsmr")
    static let entries = TextTelegramTesting.expected(folder)
    static var ids: [String] { entries.compactMap { $0["id"]?.stringValue } }

    /// The peer's units, as (our base unit, power of ten).
    static let peerUnits: [String: (AMICore.Unit, Int)] = [
        "kWh": (.wattHour, 3), "Wh": (.wattHour, 0), "kW": (.watt, 3), "W": (.watt, 0),
        "kvarh": (.varHour, 3), "varh": (.varHour, 0), "kvar": (.varUnit, 3), "var": (.varUnit, 0),
        "GJ": (.joule, 9), "m3": (.cubicMetre, 0), "V": (.volt, 0), "A": (.ampere, 0), "Hz": (.hertz, 0),
        "s": (.second, 0),
    ]
    /// Quantities whose text the meter sends hex-encoded.
    static let hexDecoded: Set<Quantity> = [.equipmentId, .textMessage, .textMessageCode, .logicalDeviceName]

    /// dsmr_parser's `Q3D` telegrams (EasyMeter) carry no DSMR-only object: auto-detection takes them as
    /// the IEC 62056-21 mode D push telegrams they are; everything else is DSMR.
    static let classifiedAsIEC: Set<String> = ["dsmr_parser_esy5q3da1004_v304", "dsmr_parser_esy5q3db1024_v304"]

    /// Peer timestamps we deliberately read otherwise, by telegram: the peer's value → ours.
    static let differences: [String: [String: String]] = [
        // 0-0:98.1.0(3)…(200301000000S)(200210035421W)(04.318*kW) and (200401000000S)(200305122139S)(05.980*kW):
        // 1 and 5 March 2020 flagged S; we take the meter's UTC+2, the peer Amsterdam's UTC+1.
        "dsmr_parser_fluvius_v171": [
            "2020-02-29T23:00:00+00:00": "2020-02-29T22:00:00Z",
            "2020-03-05T11:21:39+00:00": "2020-03-05T10:21:39Z",
        ],
    ]

    @Test func holdsThe34Telegrams() {
        #expect(Self.entries.count == 34)
    }

    @Test(arguments: ids)
    func matchesDsmrParser(id: String) throws {
        let entry = try #require(Self.entries.first { $0["id"]?.stringValue == id })
        let bytes = try TextTelegramTesting.bytes(Self.folder, try #require(entry["file"]?.stringValue))
        let badCRC = entry["error"]?.stringValue == "InvalidChecksumError"

        let plain = TextTelegramTesting.decode(bytes)
        if badCRC {
            #expect(plain.records.isEmpty)
            #expect(plain.skips.count == 1)
            #expect(plain.skips.first?.error.kind == .checksum)
            #expect(plain.skips.first?.error.layer == .dsmr)
        } else {
            #expect(plain.diagnostics.isEmpty, "\(plain.diagnostics)")
        }

        let sink = badCRC ? TextTelegramTesting.decode(bytes, ignoreChecksums: true) : plain
        if badCRC {
            #expect(sink.skips.isEmpty)
            #expect(sink.warnings.map(\.error.kind) == [.checksum])
        }
        let protocolID: ProtocolID = Self.classifiedAsIEC.contains(id) ? .iec62056_21 : .dsmr
        #expect(!sink.readings.isEmpty)
        #expect(sink.readings.allSatisfy { $0.provenance.protocolID == protocolID && $0.provenance.frame == 0 })

        guard case .array(let objects)? = entry["objects"] else { Issue.record("no objects"); return }
        var differencesMet: Set<String> = []
        defer { #expect(differencesMet == Set((Self.differences[id] ?? [:]).keys), "listed differences not met") }
        for object in objects {
            let obis = try #require(object["obis"]?.stringValue)
            let ours = sink.readings.filter { $0.obis == obis }
            switch object["type"]?.stringValue {
            case "CosemObject":
                guard case .array(let values)? = object["values"], values.count == 1 else {
                    Issue.record("\(obis): not one value"); continue
                }
                try #require(ours.count == 1, "\(obis): \(ours.count) readings")
                expect(ours[0], equals: values[0]["value"], unit: values[0]["unit"]?.stringValue, obis)
            case "MBusObject":
                guard case .array(let values)? = object["values"], values.count == 2 || values.count == 7 else {
                    Issue.record("\(obis): unexpected values"); continue
                }
                try #require(ours.count == 1, "\(obis): \(ours.count) readings")
                expectTime(ours[0].time, values[0]["value"], obis)
                let value = values[values.count - 1]
                let unit = values.count == 7 ? values[5]["value"]?.stringValue : value["unit"]?.stringValue
                expect(ours[0], equals: value["value"], unit: unit, obis)
            case "ProfileGenericObject":
                guard case .array(let values)? = object["values"], values.count >= 2 else {
                    Issue.record("\(obis): no log"); continue
                }
                let entries = Array(values.dropFirst(2))
                #expect(values[0]["value"]?.numberText == String(entries.count / 2))
                #expect(sink.events.count == entries.count / 2, "\(obis)")
                for (n, event) in sink.events.enumerated() where 2 * n + 1 < entries.count {
                    #expect(event.event == "power_failure")
                    expectTime(event.time, entries[2 * n]["value"], obis)
                    #expect(entries[2 * n + 1]["unit"]?.stringValue == "s")
                    #expect(event.duration == entries[2 * n + 1]["value"]?.numberText.flatMap { ExactDecimal($0) },
                            "\(obis) entry \(n)")
                }
            case "list":
                guard case .array(let items)? = object["items"] else { Issue.record("\(obis): no items"); continue }
                try #require(ours.count == items.count, "\(obis): \(ours.count) readings for \(items.count) items")
                let ourTime = { (peer: JSONValue?) -> JSONValue? in
                    guard let s = peer?.stringValue, let mine = Self.differences[id]?[s] else { return peer }
                    differencesMet.insert(s)
                    return .string(mine)
                }
                for (item, reading) in zip(items, ours) {
                    expect(reading, equals: item["value"], unit: item["unit"]?.stringValue, obis)
                    let occurred = item["occurred"] ?? .null
                    expectTime(reading.time, ourTime(occurred == .null ? item["datetime"] : occurred), obis)
                    let period = ourTime(item["datetime"])?.stringValue.flatMap { UTCTime(iso8601: $0) }
                    #expect(period != nil && reading.note?.contains("period \(period!)") == true, "\(obis) \(reading.note ?? "")")
                }
            default:
                Issue.record("\(obis): unknown object type")
            }
        }
    }

    /// The peer's value (and unit) equals our reading's.
    func expect(_ r: Reading, equals peer: JSONValue?, unit peerUnit: String?, _ obis: String,
                sourceLocation: SourceLocation = #_sourceLocation) {
        let peer = peer ?? .null
        var peerText: String
        switch peer {
        case .null: peerText = ""
        case .number(let t): peerText = t
        case .string(let s): peerText = s
        default:
            Issue.record("\(obis): peer value \(peer)", sourceLocation: sourceLocation)
            return
        }
        if case .string(let s) = peer, let t = UTCTime(iso8601: s) {
            #expect(r.value == .text(t.description), "\(obis)", sourceLocation: sourceLocation)
            return
        }
        switch r.value {
        case .number(let ours):
            var expected = ExactDecimal(peerText)
            var expectedUnit: AMICore.Unit? = nil
            if let u = peerUnit {
                guard let (base, power) = Self.peerUnits[u] else {
                    Issue.record("\(obis): peer unit \(u) not mapped", sourceLocation: sourceLocation)
                    return
                }
                expected = expected?.scaled(byPowerOfTen: power)
                expectedUnit = base
            }
            #expect(expected == ours, "\(obis): \(peerText) \(peerUnit ?? "")", sourceLocation: sourceLocation)
            #expect(r.unit == expectedUnit, "\(obis)", sourceLocation: sourceLocation)
        case .text(let ours):
            peerText = peerText.trimmingCharacters(in: .whitespaces)
            if Self.hexDecoded.contains(r.quantity), let decoded = Self.asciiOfHex(peerText) {
                peerText = decoded.trimmingCharacters(in: .whitespaces)
            }
            #expect(ours == peerText, "\(obis)", sourceLocation: sourceLocation)
            #expect(peerUnit == nil, "\(obis)", sourceLocation: sourceLocation)
        }
    }

    /// Printable ASCII that `text` encodes in hex, if it does.
    static func asciiOfHex(_ text: String) -> String? {
        let chars = Array(text)
        guard chars.count >= 2, chars.count % 2 == 0 else { return nil }
        var out = ""
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(chars[i...i + 1]), radix: 16), byte >= 0x20, byte < 0x7F else { return nil }
            out.append(Character(Unicode.Scalar(byte)))
        }
        return out
    }

    func expectTime(_ ours: UTCTime?, _ peer: JSONValue?, _ obis: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch peer {
        case .string(let s)?:
            #expect(ours != nil && ours == UTCTime(iso8601: s), "\(obis): \(ours?.description ?? "nil") vs \(s)",
                    sourceLocation: sourceLocation)
        case .null?, nil:
            #expect(ours == nil, "\(obis)", sourceLocation: sourceLocation)
        default:
            Issue.record("\(obis): peer time \(String(describing: peer))", sourceLocation: sourceLocation)
        }
    }
}
