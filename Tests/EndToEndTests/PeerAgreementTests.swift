import Foundation
import Testing

/// The built `ami-decode` and decoders nobody on this project wrote (the pinned PyPI peers of
/// `scripts/requirements-peers.txt`, run through the harnesses in `peers/`) decode the same shipped
/// sample files, and their values are compared: wired M-Bus with pyMeterBus, DSMR P1 with
/// dsmr_parser, IEC 62056-21 with pwitab's iec62056_21, SML with smllib.
///
/// Nothing is compared loosely. Where a peer reports a value in its own units the test converts
/// with an explicit table; where a peer fails on a frame, or disagrees with ami and ami follows the
/// standard, the frame or record is listed below with the reason, and ami's own value for it is
/// still checked against what the list says.
///
/// The suite needs `.venv/bin/python` with the peers installed (`scripts/python-env` makes it;
/// `scripts/test` runs that first). On a fresh clone without the venv it is skipped, so a plain
/// `swift test` still passes.
@Suite(.enabled(if: PeerVenv.exists,
                "no .venv/bin/python: run scripts/python-env (scripts/test does) to compare with the Python peers"))
struct PeerAgreementTests {
    /// Runs a harness in `peers/` with the venv's python; one parsed JSON object per output line.
    static func peer(_ script: String, _ args: [String]) throws -> [JSON] {
        let command = ([".venv/bin/python", "peers/" + script] + args).map(shellQuoted).joined(separator: " ")
        let r = try Binaries.shell(command)
        #expect(r.status == 0, "\(command) failed: \(r.stderr)")
        return try r.stdoutLines.map(JSON.parse)
    }

    /// Runs `ami-decode args…` (in the package root); its reading and event records.
    static func ami(_ args: [String]) throws -> [JSON] {
        let r = try Binaries.run("ami-decode", args)
        #expect(r.status == 0, "ami-decode \(args) exited \(r.status): \(r.stderr)")
        #expect(r.stderr.isEmpty)
        return try r.stdoutLines.map(JSON.parse)
    }

    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    // MARK: - wired M-Bus: pyMeterBus 0.8.5

    static let mbusSample = "samples/mbus/libmbus-test-frames.hex"

    /// pyMeterBus's unit names (its `MeasureUnit` values) → ours, with the factor from its unit to
    /// ours. pyMeterBus already scales time units to seconds itself (its VIF table multiplies by 60,
    /// 3600, 86400). `nil` means no unit (ami writes none for counts, identifiers and H.C.A. units).
    /// A unit not in this table is a mismatch, never skipped. Plain-text VIFs (pyMeterBus type
    /// `VIFUnit.VARIABLE_VIF`, unit = the meter's own text) are compared with ami's `note` instead.
    static let mbusUnits: [String: (ours: String?, factor: Decimal)] = [
        "Wh": ("Wh", 1), "J": ("J", 1), "m^3": ("m3", 1), "kg": ("kg", 1), "W": ("W", 1), "J/h": ("J/h", 1),
        "m^3/h": ("m3/h", 1), "m^3/min": ("m3/h", 60), "m^3/s": ("m3/h", 3600), "kg/h": ("kg/h", 1),
        "C": ("degC", 1), "K": ("K", 1), "bar": ("bar", 1), "seconds": ("s", 1), "V": ("V", 1), "A": ("A", 1),
        "%": ("%", 1), "none": (nil, 1), "H.C.A": (nil, 1),
    ]

    static let mbusFunctions: [String: String] = [
        "FunctionType.INSTANTANEOUS_VALUE": "instantaneous", "FunctionType.MAXIMUM_VALUE": "maximum",
        "FunctionType.MINIMUM_VALUE": "minimum", "FunctionType.ERROR_STATE_VALUE": "error",
    ]

    /// Frames pyMeterBus cannot decode (by the name in the sample's `#` comment), with the error
    /// the harness must report for each. ami decodes all three; they are left out of the comparison.
    static let mbusPeerFailures: [String: (error: String, reason: String)] = [
        "manual_frame2.hex": ("MBusFrameDecodeError: Not a variable data long frame",
                              "CI 0x73, the fixed data structure of EN 13757-3, which pyMeterBus does not decode"),
        "sen_pollusonic_2.hex": ("MBusFrameDecodeError: Not a variable data long frame",
                                 "CI 0x73, the fixed data structure of EN 13757-3, which pyMeterBus does not decode"),
        "sen_pollutherm.hex": ("KeyError: 123",
                               "record 2 (0C 7B 02 03 00 00) has VIF 0x7B, the VIF-extension code without its extension bit "
                               + "and so without the VIFE it announces; pyMeterBus's VIF table has no key 0x7B and the whole frame fails"),
    ]

    /// A record on which ami and pyMeterBus disagree, where ami follows EN 13757-3: what ami must
    /// write for it (a number with its unit, or the text), and why pyMeterBus differs.
    struct ListedRecord {
        var ami: String
        var unit: String?
        var reason: String
    }

    static let invalidBCD = "value during error state (DIF function field 11) filled with non-decimal nibbles "
        + "(0xB, 0xD, 0xE), so not a BCD number (EN 13757-3 data type A: digits 0-9, F only as a leading minus "
        + "sign); ami writes the digits as text with note \"invalid BCD\", as libmbus's XML output does "
        + "(ELS_Elster-F96-Plus.xml, abb_f95.xml in ../shared/corpus/mbus/libmbus/test-frames); pyMeterBus's "
        + "decodeBCD skips high nibbles >= 0xA and adds low ones as 11, 13, 14 into a number (13131113)"
    static func limitExceed(_ vife: String) -> String {
        "VIFE \(vife) is 'E101 ufnn: duration of limit exceed' in the combinable (orthogonal) VIFE table of "
            + "EN 13757-3 (nn = 00: seconds), so the value is a duration in s; pyMeterBus (like libmbus) ignores "
            + "the VIFE and reports the primary VIF's volume flow in m^3/h. The numbers agree"
    }

    /// Keyed by "frame name#record index".
    static let mbusListed: [String: ListedRecord] = [
        "ELS_Elster-F96-Plus.hex#4": .init(ami: "DDDDEBBD", unit: "W", reason: invalidBCD),
        "ELS_Elster-F96-Plus.hex#5": .init(ami: "DDEBBD", unit: "m3/h", reason: invalidBCD),
        "abb_f95.hex#2": .init(ami: "DDEBB4DD", unit: "W", reason: invalidBCD),
        "abb_f95.hex#3": .init(ami: "EBB4DD", unit: "m3/h", reason: invalidBCD),
        "SEN_Pollustat.hex#12": .init(ami: "11582321", unit: "s", reason: limitExceed("0x50 (lower limit, first)")),
        "SEN_Pollustat.hex#13": .init(ami: "756", unit: "s", reason: limitExceed("0x58 (upper limit, first)")),
    ]

    /// The frame lines of the hex sample: (1-based line number, name from the `#` comment above it).
    /// ami numbers the frames of a file from 0 in this order.
    static func frameLines(_ path: String) throws -> [(line: Int, name: String)] {
        let text = try String(contentsOf: Binaries.packageRoot.appendingPathComponent(path), encoding: .utf8)
        var out: [(Int, String)] = []
        var name = "?"
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.hasPrefix("#") {
                name = line.dropFirst().trimmingCharacters(in: .whitespaces)
                continue
            }
            let data = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if !data.trimmingCharacters(in: .whitespaces).isEmpty { out.append((i + 1, name)) }
        }
        return out
    }

    @Test func mbusValuesAgreeWithPyMeterBus() throws {
        let frames = try Self.frameLines(Self.mbusSample)
        let peerFrames = try Self.peer("mbus_pymeterbus.py", [Self.mbusSample])
        let records = try Self.ami([Self.mbusSample])
        #expect(frames.count == 47)
        #expect(peerFrames.count == frames.count)

        // ami's readings by (frame, record).
        var readings: [Int: [Int: JSON]] = [:]
        for r in records where r["type"]?.string == "reading" {
            guard let f = r["frame"]?.int, let i = r["record"]?.int else {
                Issue.record("ami reading without frame or record: \(r)")
                continue
            }
            #expect(readings[f, default: [:]][i] == nil, "frame \(f) record \(i) written twice")
            readings[f, default: [:]][i] = r
        }

        var mismatches: [String] = []
        var failed: [String: String] = [:]
        var compared = 0, viaShortest = 0, viaPeerFloats = 0, listedSeen = 0, framesCompared = 0
        for peerFrame in peerFrames {
            guard let line = peerFrame["line"]?.int, let f = frames.firstIndex(where: { $0.line == line }) else {
                Issue.record("pyMeterBus reported a frame on no frame line: \(peerFrame)")
                continue
            }
            let name = frames[f].name
            if let error = peerFrame["error"]?.string {
                failed[name] = error
                #expect(!(readings[f] ?? [:]).isEmpty, "\(name): ami decodes no records of a frame pyMeterBus rejects")
                continue
            }
            framesCompared += 1
            let mine = readings[f] ?? [:]
            let theirs = peerFrame["records"]?.array ?? []
            // Record indices: ami counts every data record from 0, the manufacturer-specific block
            // (DIF 0x0F/0x1F) included, and pyMeterBus keeps that block as a SPECIAL_FUNCTION record
            // too, so on these frames the indices line up one to one. Checked, not assumed:
            if mine.count != theirs.count || Set(mine.keys) != Set(0..<theirs.count) {
                mismatches.append("\(name): ami has records \(mine.keys.sorted()), pyMeterBus \(theirs.count)")
                continue
            }
            for (i, p) in theirs.enumerated() {
                guard let a = mine[i] else { continue }
                let key = "\(name)#\(i)"
                // Where in the record the value came from, for the failure text.
                let ctx = "\(key) (\(p["type"]?.string ?? "?"), pyMeterBus \(p["value"]?.text ?? "null") \(p["unit"]?.string ?? "-"))"

                // Storage, tariff, subunit and function, wherever pyMeterBus reports them.
                if let s = p["storage"]?.int, s != a["storage"]?.int { mismatches.append("\(ctx): storage \(a["storage"]?.int ?? -1) vs \(s)") }
                if let t = p["tariff"]?.int, t != a["tariff"]?.int { mismatches.append("\(ctx): tariff \(a["tariff"]?.int ?? -1) vs \(t)") }
                if let d = p["device"]?.int, d != a["subunit"]?.int { mismatches.append("\(ctx): subunit \(a["subunit"]?.int ?? -1) vs \(d)") }
                if let fn = p["function"]?.string, let want = Self.mbusFunctions[fn], a["function"]?.string != want {
                    mismatches.append("\(ctx): function \(a["function"]?.string ?? "-") vs \(fn)")
                }

                // Numeric values only: pyMeterBus gives a Decimal (value_shortest) or an int.
                let isNumber = p["value_shortest"] != nil || p["value"]?.number != nil
                if let listed = Self.mbusListed[key] {
                    listedSeen += 1
                    let got = a["value"]?.number ?? a["text"]?.string ?? "-"
                    if got != listed.ami || a["unit"]?.string != listed.unit {
                        mismatches.append("\(key): listed as \(listed.ami) \(listed.unit ?? "-") (\(listed.reason)), "
                                          + "ami now writes \(got) \(a["unit"]?.string ?? "-")")
                    }
                    continue
                }
                guard isNumber else { continue }
                compared += 1

                // The unit.
                let unitText = p["unit"]?.string ?? "none"
                var factor: Decimal = 1
                if p["type"]?.string == "VIFUnit.VARIABLE_VIF" {
                    if a["unit"] != nil || a["note"]?.string != unitText {
                        mismatches.append("\(ctx): plain-text unit, ami unit \(a["unit"]?.string ?? "-") note \(a["note"]?.string ?? "-")")
                    }
                } else if let (ours, f) = Self.mbusUnits[unitText] {
                    factor = f
                    if a["unit"]?.string != ours { mismatches.append("\(ctx): unit \(a["unit"]?.string ?? "-"), expected \(ours ?? "-")") }
                } else {
                    mismatches.append("\(ctx): pyMeterBus unit \(unitText) is not in the test's table")
                    continue
                }

                // The value.
                guard let mineText = a["value"]?.number, let mineValue = Dec.parse(mineText) else {
                    mismatches.append("\(ctx): ami writes no number (\(a["text"]?.string ?? "-"))")
                    continue
                }
                // 1. ami's exact decimal equals pyMeterBus's value as the shortest decimal of its double
                //    (or its int), in our units.
                let shortest = p["value_shortest"]?.string ?? p["value"]?.number ?? ""
                if let theirs = Dec.parse(shortest), theirs * factor == mineValue {
                    viaShortest += 1
                    continue
                }
                // 2. pyMeterBus computed in binary floating point (raw x multiplier in double, a 32-bit
                //    real widened to double first), so its result can differ from the exact decimal in
                //    the last bits (227 x 0.1 = 22.700000000000003) and always does for reals (ami
                //    writes a float's shortest decimal, 21.536703, pyMeterBus the double product,
                //    21.536703109741211). Take the raw value that ami's number implies, redo
                //    pyMeterBus's own arithmetic on it, and require its exact result, bit for bit.
                if Self.peerArithmeticAgrees(mineValue, unitFactor: factor, peer: p) {
                    viaPeerFloats += 1
                    continue
                }
                mismatches.append("\(ctx): ami \(mineText) \(a["unit"]?.string ?? "-")")
            }
        }

        // The peer's failures are exactly the listed ones.
        for (name, error) in failed.sorted(by: { $0.key < $1.key }) {
            if let listed = Self.mbusPeerFailures[name] {
                #expect(error == listed.error, "\(name): pyMeterBus now fails with \(error)")
            } else {
                mismatches.append("\(name): pyMeterBus fails (\(error)) and the frame is not listed")
            }
        }
        for name in Self.mbusPeerFailures.keys where failed[name] == nil {
            mismatches.append("\(name): listed as failing in pyMeterBus, but it decodes now: compare it")
        }

        print("PeerAgreement M-Bus: \(framesCompared) frames, \(compared) numeric values compared "
              + "(\(viaShortest) equal to value_shortest, \(viaPeerFloats) through pyMeterBus's float arithmetic); "
              + "\(listedSeen) listed records; excluded frames: "
              + failed.keys.sorted().map { "\($0) (\(Self.mbusPeerFailures[$0]?.reason ?? "?"))" }.joined(separator: ", "))
        #expect(listedSeen == Self.mbusListed.count, "some listed records were not met")
        #expect(framesCompared >= 44)
        #expect(compared > 400, "only \(compared) values compared")
        #expect(mismatches.isEmpty, "ami and pyMeterBus disagree:\n\(mismatches.joined(separator: "\n"))")
    }

    /// Whether redoing pyMeterBus's float arithmetic on the raw value implied by ami's `mine` gives
    /// exactly pyMeterBus's value. pyMeterBus (telegram_variable_data_record.py, `parsed_value`)
    /// computes `Decimal(raw * multiplier)` with a float multiplier (an int, not a Decimal, when the
    /// data is an integer and the multiplier > 1), where a 32-bit real `raw` is widened to double.
    /// The harness reports that multiplier (`repr`) and the data encoding.
    static func peerArithmeticAgrees(_ mine: Decimal, unitFactor: Decimal, peer p: JSON) -> Bool {
        guard let encoding = p["encoding"]?.string, let multiplierText = p["multiplier"]?.string,
              let multiplier = Double(multiplierText), let multiplierDec = Dec.parse(multiplierText),
              multiplierDec != 0 else { return false }
        let scale = multiplierDec * unitFactor
        let raw = mine / scale
        guard raw * scale == mine else { return false }                // ami's number is exactly raw x scale
        let rawText = Dec.plain(raw)
        let base: Double
        switch encoding {
        case "ENCODING_REAL":
            guard let f = Float(rawText) else { return false }
            base = Double(f)
        case "ENCODING_INTEGER", "ENCODING_BCD":
            guard raw == Dec.rounded(raw), let i = Int64(rawText) else { return false }
            base = Double(i)
        default:
            return false
        }
        let product = base * multiplier
        if let int = p["value"]?.number {                             // int(raw * multiplier)
            guard product.isFinite, abs(product) < 9e18 else { return false }
            return Int64(product.rounded(.towardZero)) == Int64(int)
        }
        // str() of Decimal(double) is the double's exact binary value, so this parse is exact.
        guard let exact = p["value"]?.string, let theirs = Double(exact) else { return false }
        return product == theirs
    }

    // MARK: - DSMR P1: dsmr_parser 1.11.2

    /// dsmr_parser's units (as the telegram writes them) → ours and the factor.
    static let dsmrUnits: [String: (ours: String, factor: Decimal)] = [
        "kWh": ("Wh", 1000), "kW": ("W", 1000), "kvarh": ("varh", 1000), "kvar": ("var", 1000),
        "V": ("V", 1), "A": ("A", 1), "m3": ("m3", 1), "GJ": ("J", 1_000_000_000), "s": ("s", 1),
    ]

    /// Telegram by telegram: (file, dsmr_parser specification, which telegram of the file, ami's
    /// frame index). The Fluvius sample holds a DSMR 5 telegram and then a Belgian e-MUCS one;
    /// each goes through the specification written for it.
    static let dsmrTelegrams: [(file: String, spec: String, telegram: Int, frame: Int)] = [
        ("samples/dsmr/p1-capture-am550.txt", "V5", 1, 0),
        ("samples/dsmr/p1-capture-am550.txt", "V5", 2, 1),
        ("samples/dsmr/p1-capture-am550.txt", "V5", 3, 2),
        ("samples/dsmr/p1-capture-am550.txt", "V5", 4, 3),
        ("samples/dsmr/p1-dsmr5-fluvius.txt", "V5", 1, 0),
        ("samples/dsmr/p1-dsmr5-fluvius.txt", "BELGIUM_FLUVIUS", 2, 1),
    ]

    /// Timestamps on which ami and dsmr_parser disagree, with ami's instant and the reason. Keyed
    /// by "file frame#obis[item].field".
    static let dsmrListed: [String: (ami: String, reason: String)] = {
        let reason = "the timestamp ends in S (DST active), so by the TST format of the DSMR 5.0.2 P1 companion standard "
            + "('X=S: DST active') it is CEST, UTC+2; dsmr_parser's value_types.timestamp reads the local time in Europe/Amsterdam by "
            + "the calendar and uses the S/W mark only for the ambiguous autumn hour (fold), so it gives UTC+1 for "
            + "these winter dates. ami honours the mark (ami-jsonl(5))"
        return [
            "samples/dsmr/p1-dsmr5-fluvius.txt 1#0-0:98.1.0[1].occurred": ("2020-03-05T10:21:39Z", "200305122139S: " + reason),
            "samples/dsmr/p1-dsmr5-fluvius.txt 1#0-0:98.1.0[2].datetime": ("2020-02-29T22:00:00Z", "200301000000S: " + reason),
        ]
    }()

    @Test func dsmrValuesAgreeWithDsmrParser() throws {
        var mismatches: [String] = []
        var numbers = 0, texts = 0, times = 0, listedSeen = 0
        var peerOutput: [String: [JSON]] = [:]
        var amiOutput: [String: [JSON]] = [:]
        for t in Self.dsmrTelegrams {
            let peerKey = t.file + " " + t.spec
            if peerOutput[peerKey] == nil { peerOutput[peerKey] = try Self.peer("dsmr_decode.py", ["--spec", t.spec, t.file]) }
            if amiOutput[t.file] == nil { amiOutput[t.file] = try Self.ami(["--protocol", "dsmr", t.file]) }
            guard let telegram = peerOutput[peerKey]?.first(where: { $0["telegram"]?.int == t.telegram }) else {
                mismatches.append("\(t.file): dsmr_parser found no telegram \(t.telegram)")
                continue
            }
            let tag = "\(t.file) \(t.frame)"
            if let error = telegram["error"]?.string { mismatches.append("\(tag): dsmr_parser: \(error)") }
            let records = (amiOutput[t.file] ?? []).filter { $0["frame"]?.int == t.frame }
            let readings = records.filter { $0["type"]?.string == "reading" }
            let objects = telegram["objects"]?.array ?? []

            func listedOrEqual(_ key: String, ami: String?, peer: String?) {
                times += 1
                if let listed = Self.dsmrListed[key] {
                    listedSeen += 1
                    if ami != listed.ami { mismatches.append("\(key): listed as \(listed.ami) (\(listed.reason)), ami now \(ami ?? "-")") }
                    return
                }
                if !Self.sameInstant(ami, peer) { mismatches.append("\(key): time \(ami ?? "-") vs dsmr_parser \(peer ?? "-")") }
            }
            func number(_ key: String, _ a: JSON, _ v: JSON?, unit: String?) {
                numbers += 1
                let theirs = v?.number ?? v?.string
                guard let mineText = a["value"]?.number, let mine = Dec.parse(mineText),
                      let theirsText = theirs, let theirsValue = Dec.parse(theirsText) else {
                    mismatches.append("\(key): ami \(a["value"]?.number ?? a["text"]?.string ?? "-") vs dsmr_parser \(theirs ?? "null")")
                    return
                }
                var ours: String?, factor: Decimal = 1
                if let unit {
                    guard let u = Self.dsmrUnits[unit] else {
                        mismatches.append("\(key): dsmr_parser unit \(unit) is not in the test's table")
                        return
                    }
                    (ours, factor) = (u.ours, u.factor)
                }
                if a["unit"]?.string != ours { mismatches.append("\(key): unit \(a["unit"]?.string ?? "-") vs \(unit ?? "-")") }
                if theirsValue * factor != mine { mismatches.append("\(key): ami \(mineText) \(a["unit"]?.string ?? "-") vs dsmr_parser \(theirsText) \(unit ?? "-")") }
            }

            for o in objects {
                guard let obis = o["obis"]?.string else { continue }
                let key = "\(tag)#\(obis)"
                let matching = readings.filter { $0["obis"]?.string == obis }
                let values = o["values"]?.array ?? []
                switch o["type"]?.string {
                case "ProfileGenericObject":
                    // The power failure event log: count, the log's OBIS, then (end time, duration) pairs.
                    // ami writes these as power_failure events.
                    let events = records.filter { $0["event"]?.string == "power_failure" }
                    numbers += 1
                    if values.first?["value"]?.int != events.count {
                        mismatches.append("\(key): \(events.count) power_failure events vs count \(values.first?["value"]?.text ?? "-")")
                    }
                    let pairs = stride(from: 2, to: values.count - 1, by: 2).map { (values[$0], values[$0 + 1]) }
                    for (n, (time, duration)) in pairs.enumerated() where n < events.count {
                        listedOrEqual("\(key)[\(n)].time", ami: events[n]["time"]?.string, peer: time["value"]?.string)
                        numbers += 1
                        let secs = Dec.parse(duration["value"]?.text ?? "")
                        if duration["unit"]?.string != "s" || secs == nil || secs != Dec.parse(events[n]["duration"]?.number ?? "") {
                            mismatches.append("\(key)[\(n)]: duration \(events[n]["duration"]?.number ?? "-") vs \(duration)")
                        }
                    }
                case "list":
                    // Belgian 13-month maximum demand: one ami reading per month, in order.
                    let items = o["items"]?.array ?? []
                    if matching.count != items.count { mismatches.append("\(key): \(matching.count) readings vs \(items.count) items") }
                    for (n, (a, item)) in zip(matching, items).enumerated() {
                        number("\(key)[\(n)]", a, item["value"], unit: item["unit"]?.string)
                        listedOrEqual("\(key)[\(n)].occurred", ami: a["time"]?.string, peer: item["occurred"]?.string)
                        let period = a["note"]?.string.flatMap { $0.hasPrefix("period ") ? String($0.dropFirst(7)) : nil }
                        listedOrEqual("\(key)[\(n)].datetime", ami: period, peer: item["datetime"]?.string)
                    }
                default:
                    // One reading per object (dsmr_parser's V5 matches an M-Bus channel's 96.1.1 twice,
                    // as EQUIPMENT_IDENTIFIER and MBUS_EQUIPMENT_IDENTIFIER: both are checked).
                    guard matching.count == 1, let a = matching.first else {
                        mismatches.append("\(key): \(matching.count) ami readings")
                        continue
                    }
                    var vs = values[...]
                    if o["type"]?.string == "MBusObject", let time = vs.popFirst() {
                        // (capture time)(value): the time is the reading's time.
                        listedOrEqual("\(key).time", ami: a["time"]?.string, peer: time["value"]?.string)
                    }
                    guard let v = vs.first else { continue }
                    let value = v["value"], unit = v["unit"]?.string
                    if let s = value?.string, Self.isInstant(s) {            // the telegram's clock
                        listedOrEqual(key, ami: a["text"]?.string, peer: s)
                    } else if value?.number != nil || unit != nil || a["value"] != nil {
                        number(key, a, value, unit: unit)
                    } else {
                        // Text: as written, or hex-coded ASCII (equipment identifiers) that ami decodes;
                        // an empty value is null in dsmr_parser.
                        texts += 1
                        let theirs = value?.string ?? ""
                        let mine = a["text"]?.string
                        if mine != theirs && mine != Self.hexDecoded(theirs) {
                            mismatches.append("\(key): text \(mine ?? "-") vs dsmr_parser \(theirs)")
                        }
                    }
                }
            }
            // And the other way: every OBIS ami decoded is one dsmr_parser reports.
            let peerObis = Set(objects.compactMap { $0["obis"]?.string })
            for a in readings where !peerObis.contains(a["obis"]?.string ?? "") {
                mismatches.append("\(tag): ami reading \(a["obis"]?.string ?? "-") that dsmr_parser \(t.spec) does not report")
            }
            if records.contains(where: { $0["event"]?.string == "power_failure" }) && !peerObis.contains("1-0:99.97.0") {
                mismatches.append("\(tag): ami power_failure events without a 1-0:99.97.0 in dsmr_parser")
            }
        }
        print("PeerAgreement DSMR: \(Self.dsmrTelegrams.count) telegrams, \(numbers) numeric values, \(times) timestamps, "
              + "\(texts) texts compared; listed timestamp differences: "
              + Self.dsmrListed.keys.sorted().joined(separator: ", "))
        #expect(listedSeen == Self.dsmrListed.count, "some listed timestamps were not met")
        #expect(numbers > 150, "only \(numbers) values compared")
        #expect(times > 15, "only \(times) timestamps compared")
        #expect(mismatches.isEmpty, "ami and dsmr_parser disagree:\n\(mismatches.joined(separator: "\n"))")
    }

    static func isInstant(_ s: String) -> Bool { s.count >= 20 && s.dropFirst(4).first == "-" && s.dropFirst(10).first == "T" }

    static func instant(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: s)
    }

    static func sameInstant(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b, let x = instant(a), let y = instant(b) else { return false }
        return x == y
    }

    /// "4530…" → "E0…" when the text is hex-coded printable ASCII, else nil.
    static func hexDecoded(_ s: String) -> String? {
        let chars = Array(s.utf8)
        guard !chars.isEmpty, chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16), (0x20..<0x7F).contains(b) else { return nil }
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - IEC 62056-21: pwitab iec62056-21 0.0.2

    static let iecUnits: [String: (ours: String, factor: Decimal)] = [
        "kWh": ("Wh", 1000), "Wh": ("Wh", 1), "kW": ("W", 1000), "W": ("W", 1), "kvarh": ("varh", 1000),
        "kvar": ("var", 1000), "V": ("V", 1), "A": ("A", 1), "Hz": ("Hz", 1), "m3": ("m3", 1),
    ]

    @Test func iec62056_21DataSetsAgreeWithPwitab() throws {
        let file = "samples/iec62056-21/meter-sim-1phase.bin"
        let readouts = try Self.peer("iec62056_21_decode.py", ["--all", file])
        let records = try Self.ami([file])
        #expect(readouts.count == 1)
        guard let readout = readouts.first else { return }
        #expect(readout["bcc_valid"] == .bool(true))
        #expect(readout["error"] == nil)
        let sets = readout["data_sets"]?.array ?? []
        let readings = records.filter { $0["type"]?.string == "reading" && $0["frame"]?.int == 0 }
        var mismatches: [String] = []
        var numbers = 0, texts = 0
        if readings.count != sets.count { mismatches.append("\(readings.count) ami readings vs \(sets.count) data sets") }
        for (i, (a, s)) in zip(readings, sets).enumerated() {
            let address = s["address"]?.string ?? "-"
            let key = "data set \(i) \(address)"
            if a["record"]?.int != i { mismatches.append("\(key): ami record \(a["record"]?.text ?? "-")") }
            if a["obis"]?.string != address { mismatches.append("\(key): ami obis \(a["obis"]?.string ?? "-")") }
            let value = s["value"]?.string ?? ""
            let unit = s["unit"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            if let mineText = a["value"]?.number {
                numbers += 1
                var ours: String?, factor: Decimal = 1
                if let unit {
                    guard let u = Self.iecUnits[unit] else {
                        mismatches.append("\(key): pwitab unit \(unit) is not in the test's table")
                        continue
                    }
                    (ours, factor) = (u.ours, u.factor)
                }
                if a["unit"]?.string != ours { mismatches.append("\(key): unit \(a["unit"]?.string ?? "-") vs \(unit ?? "-")") }
                guard let theirs = Dec.parse(value.trimmingCharacters(in: .whitespaces)), let mine = Dec.parse(mineText),
                      theirs * factor == mine else {
                    mismatches.append("\(key): ami \(mineText) \(a["unit"]?.string ?? "-") vs pwitab \(value) \(unit ?? "-")")
                    continue
                }
            } else {
                texts += 1
                if unit != nil || a["text"]?.string != value {
                    mismatches.append("\(key): ami text \(a["text"]?.string ?? "-") vs pwitab \(value) \(unit ?? "-")")
                }
            }
        }
        print("PeerAgreement IEC 62056-21: \(sets.count) data sets compared (\(numbers) numbers, \(texts) texts)")
        #expect(numbers >= 2 && numbers + texts == sets.count && sets.count >= 4)
        #expect(mismatches.isEmpty, "ami and pwitab disagree:\n\(mismatches.joined(separator: "\n"))")
    }

    // MARK: - SML: smllib 1.7

    /// DLMS unit codes smllib reports → ami's base units (the units the sample uses).
    static let smlUnits: [String: String] = ["30": "Wh", "27": "W"]

    /// Every value smllib reads from the shipped SML push stream, frame by frame: the same OBIS
    /// code, value × 10^scaler exactly, the unit, octet strings as the same text, the status word.
    @Test func smlAgreesWithSmllib() throws {
        let file = "samples/sml/ehz-push.bin"
        let theirs = try Self.peer("sml_smllib.py", [file])
        let ours = try Self.ami([file]).filter { $0["type"]?.string == "reading" }
        #expect(theirs.allSatisfy { $0["error"] == nil }, "\(theirs)")
        var mismatches: [String] = []
        if ours.count != theirs.count { mismatches.append("\(ours.count) ami readings vs \(theirs.count) smllib values") }
        for (a, t) in zip(ours, theirs) {
            let key = "frame \(t["frame"]?.text ?? "-") \(t["obis"]?.string ?? "-")"
            if a["frame"]?.text != t["frame"]?.text || a["obis"]?.string != t["obis"]?.string {
                mismatches.append("\(key): ami frame \(a["frame"]?.text ?? "-") \(a["obis"]?.string ?? "-")")
                continue
            }
            if let text = t["value"]?.string {
                if a["text"]?.string != text { mismatches.append("\(key): ami \(a) vs smllib \(text)") }
                continue
            }
            guard let raw = t["value"]?.number.flatMap(Dec.parse), let mine = a["value"]?.number.flatMap(Dec.parse) else {
                mismatches.append("\(key): not a number: ami \(a), smllib \(t)")
                continue
            }
            let scale = Int(t["scaler"]?.number ?? "0") ?? 0
            var expected = raw
            for _ in 0..<abs(scale) { expected = scale < 0 ? expected / 10 : expected * 10 }
            if expected != mine { mismatches.append("\(key): ami \(Dec.plain(mine)) vs smllib \(Dec.plain(expected))") }
            if a["unit"]?.string != t["unit"]?.number.flatMap({ Self.smlUnits[$0] }) {
                mismatches.append("\(key): unit \(a["unit"]?.string ?? "-") vs smllib code \(t["unit"]?.text ?? "-")")
            }
            if let status = t["status"]?.number.flatMap({ UInt64($0) }),
               a["note"]?.string?.contains("status 0x" + String(status, radix: 16, uppercase: true)) != true {
                mismatches.append("\(key): status \(status) not in ami's note")
            }
        }
        print("PeerAgreement SML: \(theirs.count) values compared")
        #expect(theirs.count == 15)
        #expect(mismatches.isEmpty, "ami and smllib disagree:\n\(mismatches.joined(separator: "\n"))")
    }
}

/// The venv `scripts/python-env` makes, with the pinned peers.
enum PeerVenv {
    static let exists = FileManager.default.isExecutableFile(
        atPath: Binaries.packageRoot.appendingPathComponent(".venv/bin/python").path)
}

// MARK: - exact decimals

/// Exact decimal text ↔ Foundation `Decimal` (38 significant digits, plenty for these values).
enum Dec {
    static let posix = Locale(identifier: "en_US_POSIX")

    /// Parses a plain or exponent decimal; nil for anything else (no prefix parsing).
    static func parse(_ s: String) -> Decimal? {
        let pattern = #"^[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$"#
        guard s.range(of: pattern, options: .regularExpression) != nil else { return nil }
        return Decimal(string: s, locale: posix)
    }

    static func plain(_ d: Decimal) -> String { NSDecimalNumber(decimal: d).description(withLocale: posix) }

    static func rounded(_ d: Decimal) -> Decimal {
        var x = d, out = Decimal()
        NSDecimalRound(&out, &x, 0, .plain)
        return out
    }
}

// MARK: - JSON with numbers kept as their text

/// A JSON value whose numbers stay the text they were written as, so exact decimals are compared
/// exactly (JSONSerialization would turn them into binary doubles).
enum JSON: Equatable, CustomStringConvertible {
    case object([String: JSON]), array([JSON]), string(String), number(String), bool(Bool), null

    subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    var string: String? { if case .string(let s) = self { return s }; return nil }
    var number: String? { if case .number(let s) = self { return s }; return nil }
    var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    var int: Int? { number.flatMap { Int($0) } }
    /// A string's or a number's text.
    var text: String? { string ?? number }

    var description: String {
        switch self {
        case .object(let o): return "{" + o.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .string(let s): return "\"\(s)\""
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> JSON {
        var p = Parser(bytes: Array(text.utf8))
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.bytes.count else { throw ParseError(description: "trailing bytes in \(text)") }
        return v
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skipSpace() {
            while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        }

        func fail(_ what: String) -> ParseError { ParseError(description: "JSON: \(what) at byte \(i)") }

        mutating func value() throws -> JSON {
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var o: [String: JSON] = [:]
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                while true {
                    skipSpace()
                    let k = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected :") }
                    i += 1
                    o[k] = try value()
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
                    throw fail("expected , or }")
                }
            case UInt8(ascii: "["):
                i += 1
                var a: [JSON] = []
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                while true {
                    a.append(try value())
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
                    throw fail("expected , or ]")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard i > start else { throw fail("unexpected byte") }
                return .number(String(decoding: bytes[start..<i], as: UTF8.self))
            }
        }

        mutating func literal(_ word: String, _ v: JSON) throws -> JSON {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("bad literal") }
            i += w.count
            return v
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= bytes.count, let u = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                throw fail("bad \\u escape")
            }
            i += 4
            return u
        }

        mutating func string() throws -> String {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected string") }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                guard b == UInt8(ascii: "\\") else { out.append(b); continue }
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    var u = try hex4()
                    if (0xD800..<0xDC00).contains(u), i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"),
                       bytes[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4()
                        u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(u) ?? "\u{FFFD}")).utf8))
                default: out.append(e)                               // \" \\ \/
                }
            }
            throw fail("unterminated string")
        }
    }
}
