import Foundation
import Testing
@testable import AMICore

/// Every session of the DLMS corpus run through `DLMSInterpreter`, its readings checked against the
/// simulator's expected readings (`sessions.json`, which the Gurux and dlms-cosem clients also
/// checked). Skipped when the corpus is not beside the package.
@Suite(.enabled(if: DLMSTest.corpusExists, "DLMS corpus not found beside the package"))
struct DLMSInterpreterCorpusTests {
    struct Session {
        var name: String
        var expectFailure: Bool
        var expected: [String: Any]
    }

    static func sessions() throws -> [Session] {
        let data = try Data(contentsOf: DLMSTest.corpus.appendingPathComponent("sessions.json"))
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (root?["sessions"] as? [[String: Any]] ?? []).map {
            Session(name: $0["name"] as? String ?? "", expectFailure: $0["expect_failure"] as? Bool ?? false,
                    expected: $0["expected_readings"] as? [String: Any] ?? [:])
        }
    }

    /// The session's frames as captured (wrapper or HDLC, both directions, ciphered as sent), one
    /// hex line each, through a decode session with the corpus keys: framing, joining of HDLC
    /// segments, deciphering and interpretation together.
    static func interpret(_ session: String) throws -> DecodeOutput {
        let text = try String(contentsOf: DLMSTest.framesFile, encoding: .utf8)
        var hex = ""
        for line in text.split(separator: "\n") {
            guard let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  r["session"] as? String == session, let h = r["hex"] as? String else { continue }
            hex += h + "\n"
        }
        var options = DecodeOptions()
        options.protocols = [.dlms]
        options.dlmsSecurity = SecurityContext(systemTitle: [UInt8](repeating: 0, count: 8), ek: DLMSTest.ek, ak: DLMSTest.ak)
        let sink = CollectingSink()
        let decoder = DecodeSession(inputName: session, sourceName: session, format: .hex, options: options, sink: sink)
        decoder.feed(Array(hex.utf8))
        decoder.finish()
        var out = DecodeOutput()
        out.records = sink.records
        out.warnings = sink.diagnostics.map(\.error)
        #expect(sink.skips.isEmpty, "\(session): \(sink.skips.map(\.description))")
        return out
    }

    static func readings(_ out: DecodeOutput) -> [Reading] {
        out.records.compactMap { if case .reading(let r) = $0 { r } else { nil } }
    }

    static func obis(_ dotted: String) -> String { OBISCode(dotted)!.description }

    @Test(arguments: try! sessions().filter { !$0.expectFailure }.map(\.name))
    func readingsEqualTheSimulatorsExpectedValues(session: String) throws {
        let expected = try #require(try Self.sessions().first { $0.name == session }?.expected)
        let out = try Self.interpret(session)
        let readings = Self.readings(out)
        let objects = try #require(expected["objects"] as? [String: [String: Any]])
        #expect(readings.allSatisfy { $0.meter == "SIM0000010007919" }, "meter identity from the logical device name")
        for (dotted, object) in objects {
            let code = Self.obis(dotted)
            let found = readings.filter { $0.obis == code && $0.record == nil }
            guard !found.isEmpty else { continue }  // not read in this session
            switch object["class_id"] as? Int {
            case 3:
                guard let raw = object["raw"] as? Int, let scaler = object["scaler"] as? Int else { continue }
                let want = ExactDecimal(Int64(raw)).scaled(byPowerOfTen: scaler)
                #expect(found.first?.value == .number(want), "\(session) \(code)")
                #expect(found.first?.unit == Unit(rawValue: object["unit_name"] as? String ?? ""), "\(session) \(code) unit")
            case 8:
                #expect(found.first?.value == .text(object["time"] as? String ?? ""), "\(session) clock")
                #expect(found.first?.quantity == .clock)
            case 70:
                // control_state as it stands before the actions and after each of them, named in the note.
                func state(_ o: Any?) -> Int? { (o as? [String: Any])?["control_state"] as? Int }
                let names = ["disconnected", "connected", "ready_for_reconnection"]
                var want = state(object)
                for record in out.records {
                    switch record {
                    case .event(let e) where e.event == "remote_disconnect": want = state(object["after_remote_disconnect"])
                    case .event(let e) where e.event == "remote_reconnect": want = state(object["after_remote_reconnect"])
                    case .reading(let r) where r.obis == code && r.quantity == .breakerState:
                        #expect(r.value == want.map { .number(ExactDecimal(Int64($0))) }, "\(session) control_state")
                        #expect(r.note == want.map { names[$0] }, "\(session) control_state named in the note")
                    default: break
                    }
                }
            case 1 where dotted == "0.0.42.0.0.255":
                #expect(found.first?.value == .text(object["value_ascii"] as? String ?? ""))
            case 1 where dotted == "0.0.96.1.0.255":
                #expect(found.first?.value == .text(object["value"] as? String ?? ""))
            default:
                break
            }
        }
        // Every load-profile row the session read equals the simulator's row at that time.
        let profile = try #require(expected["load_profile"] as? [String: Any])
        var rows: [String: Int] = [:]
        for e in profile["entries"] as? [[Any]] ?? [] {
            if let t = e[0] as? String, let v = e[1] as? Int { rows[t] = v }
        }
        // dlms-cosem reads the buffer without its capture_objects: its values come without OBIS code.
        let profileReadings = readings.filter {
            $0.record != nil && ($0.obis == Self.obis("1.0.1.8.0.255") || $0.note?.hasPrefix("profile 1-0:99.1.0*255 column 2") == true)
        }
        #expect(profileReadings.count >= 9, "\(session): profile rows read")
        for r in profileReadings {
            let t = try #require(r.time?.description)
            #expect(r.value == .number(ExactDecimal(Int64(rows[t] ?? -1))), "\(session) profile row at \(t)")
            if r.obis != nil { #expect(r.unit == .wattHour) }
        }
        // The event log's entries, as events with their codes and times.
        let log = try #require(expected["event_log"] as? [String: Any])
        let events = out.records.compactMap { if case .event(let e) = $0 { e } else { nil } }
        if events.contains(where: { $0.event == "meter_event" }) {
            for e in log["entries"] as? [[Any]] ?? [] {
                let t = e[0] as? String, code = e[1] as? Int
                #expect(events.contains { $0.time?.description == t && $0.code == code.map(String.init) },
                        "\(session) event \(code ?? -1) at \(t ?? "?")")
            }
        }
    }

    @Test func actionsAndClockSetBecomeEvents() throws {
        let out = try Self.interpret("s01-wrapper-none-gurux")
        let names = out.records.compactMap { if case .event(let e) = $0 { e.event } else { nil } }
        #expect(names.contains("remote_disconnect"))
        #expect(names.contains("remote_reconnect"))
        #expect(names.contains("clock_set"))
        // The unknown object of the extra steps is reported, not turned into a reading.
        #expect(out.warnings.contains { $0.message.contains("object-undefined") })
    }

    @Test(arguments: ["s10-wrapper-lls-wrongpassword-gurux", "s11-wrapper-plaintext-vs-authenc-gurux"])
    func rejectedAssociationsAreReported(session: String) throws {
        let out = try Self.interpret(session)
        #expect(Self.readings(out).isEmpty)
        #expect(out.warnings.contains { $0.message.hasPrefix("association rejected") })
    }
}
