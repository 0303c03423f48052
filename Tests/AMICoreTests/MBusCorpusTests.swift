import Foundation
import Testing
@testable import AMICore

/// The libmbus test frames (`../shared/corpus/mbus/libmbus`, see its README.md) decoded through a
/// whole `DecodeSession` and compared with libmbus's normalized decoding (`.norm.xml`), record by
/// record. Skipped when the corpus is not beside the package.
@Suite(.enabled(if: MBusTest.corpusExists, "libmbus corpus not found beside the package"))
struct MBusCorpusTests {
    static var dir: URL { MBusTest.corpus }

    static func files(_ folder: String, _ ext: String) -> [String] {
        let url = dir.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(ext) }.map { String($0.dropLast(ext.count)) }.sorted()
    }

    static func read(_ folder: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: dir.appendingPathComponent(folder).appendingPathComponent(name)))
    }

    // MARK: - the expected XML

    /// A `<DataRecord>` of libmbus's normalized output.
    struct Expected {
        var id: Int
        var fields: [String: String]
    }

    /// Reads the XML as UTF-8 (the README: it says ISO-8859-1 but is UTF-8) by plain scanning.
    static func parse(_ xml: String) -> (slave: [String: String], records: [Expected]) {
        func tags(_ s: Substring) -> [String: String] {
            var out: [String: String] = [:]
            var rest = s
            while let open = rest.range(of: "<"), let close = rest[open.upperBound...].range(of: ">") {
                let name = String(rest[open.upperBound..<close.lowerBound])
                rest = rest[close.upperBound...]
                if name.hasPrefix("/") || name.hasPrefix("?") || name.contains(" ") { continue }
                guard let end = rest.range(of: "</" + name + ">") else { continue }
                let body = rest[..<end.lowerBound]
                if !body.contains("<") { out[name] = unescape(String(body)) }
            }
            return out
        }
        var slave: [String: String] = [:]
        if let a = xml.range(of: "<SlaveInformation>"), let b = xml.range(of: "</SlaveInformation>") {
            slave = tags(xml[a.upperBound..<b.lowerBound])
        }
        var records: [Expected] = []
        var rest = xml[...]
        while let a = rest.range(of: "<DataRecord id=\""), let q = rest[a.upperBound...].range(of: "\""),
              let b = rest[q.upperBound...].range(of: "</DataRecord>") {
            let id = Int(rest[a.upperBound..<q.lowerBound]) ?? -1
            records.append(Expected(id: id, fields: tags(rest[q.upperBound..<b.lowerBound])))
            rest = rest[b.upperBound...]
        }
        return (slave, records)
    }

    static func unescape(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    // MARK: - mapping libmbus's terms to ours

    /// libmbus's normalized units as (our unit, power of ten from theirs to ours). The fixed data
    /// structure (CI 0x73) is printed raw, in its own units (`kWh`, `l`).
    static let units: [String: (String, Int)] = [
        "Wh": ("Wh", 0), "J": ("J", 0), "m^3": ("m3", 0), "kg": ("kg", 0), "W": ("W", 0), "J/h": ("J/h", 0),
        "m^3/h": ("m3/h", 0), "°C": ("degC", 0), "K": ("K", 0), "bar": ("bar", 0), "s": ("s", 0),
        "V": ("V", 0), "A": ("A", 0), "": ("", 0), "-": ("", 0), "Units for H.C.A.": ("", 0),
        "Reserved": ("", 0), "kWh": ("Wh", 3), "l": ("m3", -3),
    ]

    static let functions: [String: RecordFunction] = [
        "Instantaneous value": .instantaneous, "Maximum value": .maximum, "Minimum value": .minimum,
        "Value during error state": .error, "Actual value": .instantaneous,
        "Manufacturer specific": .instantaneous, "More records follow": .instantaneous,
    ]

    /// libmbus's medium wording → the medium byte.
    static let media: [String: UInt8] = [
        "Other": 0x00, "Oil": 0x01, "Electricity": 0x02, "Gas": 0x03, "Heat: Outlet": 0x04, "Steam": 0x05,
        "Warm water (30-90°C)": 0x06, "Water": 0x07, "Heat Cost Allocator": 0x08, "Heat: Inlet": 0x0C,
        "Heat / Cooling load meter": 0x0D, "Cold water": 0x16, "Breaker: Electricity": 0x20,
    ]

    /// libmbus's text for dates that are not dates, and ours. libmbus prints an all-zero type G date
    /// (the "not set" value of the meters here) as year 2000, month 0, day 0, and a type F date-time
    /// whose IV (invalid) bit is set as 1900-01-00T00:00:00Z.
    static let dateQuirks: [String: String] = ["2000-00-00": "invalid", "1900-01-00T00:00:00Z": "invalid"]

    /// Records where libmbus's normalized value is not what the meter sent, with the reason and the
    /// value we decode instead (a number's text, or the text). Everything else of these records is
    /// compared as usual.
    static let libmbusBugs: [String: (reason: String, ours: String)] = [
        "ELS_Elster-F96-Plus#4": ("value during error state filled with non-BCD digits; libmbus reads 0xD as 13", "DDDDEBBD"),
        "ELS_Elster-F96-Plus#5": ("value during error state filled with non-BCD digits; libmbus reads 0xD as 13", "DDEBBD"),
        "abb_f95#2": ("value during error state filled with non-BCD digits; libmbus reads 0xD as 13", "DDEBB4DD"),
        "abb_f95#3": ("value during error state filled with non-BCD digits; libmbus reads 0xD as 13", "EBB4DD"),
        "SEN_Pollustat#12": ("VIFE 0x50 (duration of the first lower limit exceed, seconds) ignored by libmbus, "
                             + "which prints a volume flow", "11582321"),
        "SEN_Pollustat#13": ("VIFE 0x58 (duration of the first upper limit exceed, seconds) ignored by libmbus, "
                             + "which prints a volume flow", "756"),
        "sen_pollutherm#2": ("VIF 0x7B without its extension byte: reserved; libmbus prints an empty record", "302"),
    ]

    // MARK: - comparison

    /// The differences between our readings of `name` and its `.norm.xml`, one line each.
    static func compare(_ name: String) throws -> [String] {
        let hex = try read("test-frames", name + ".hex")
        let xml = String(decoding: try read("test-frames", name + ".norm.xml"), as: UTF8.self)
        let (slave, expected) = parse(xml)
        let sink = MBusTest.session(hex, format: .hex)
        var diffs: [String] = sink.diagnostics.map { "diagnostic: \($0)" }
        let readings = sink.readings
        let isFixed = slave["Manufacturer"] == nil

        // Identity.
        if let meter = readings.first?.meter {
            let parts = meter.split(separator: "-").map(String.init)
            if parts.count == 4 {
                let id = String(parts[1].drop(while: { $0 == "0" }))
                if id != (slave["Id"] ?? "?") && !(id.isEmpty && slave["Id"] == "0") {
                    diffs.append("id \(parts[1]) vs \(slave["Id"] ?? "-")")
                }
                if !isFixed {
                    if parts[0] != slave["Manufacturer"] { diffs.append("manufacturer \(parts[0]) vs \(slave["Manufacturer"] ?? "-")") }
                    if Int(parts[2], radix: 16) != Int(slave["Version"] ?? "") {
                        diffs.append("version \(parts[2]) vs \(slave["Version"] ?? "-")")
                    }
                    if let m = slave["Medium"], let code = media[m] {
                        if Int(parts[3], radix: 16) != Int(code) { diffs.append("medium \(parts[3]) vs \(m)") }
                    } else {
                        diffs.append("medium \(slave["Medium"] ?? "-") not in the test's table")
                    }
                }
            } else {
                diffs.append("meter \(meter) is not MAN-ID-VV-MM")
            }
        }

        for e in expected {
            let rs = readings.filter { $0.record == e.id }
            let value = e.fields["Value"] ?? ""
            guard rs.count == 1, let r = rs.first else {
                if rs.isEmpty && e.fields.isEmpty { continue }    // libmbus could not normalize it either
                diffs.append("record \(e.id): \(rs.count) readings")
                continue
            }
            let key = "\(name)#\(e.id)"
            if let f = e.fields["Function"] {
                if functions[f] != r.function { diffs.append("record \(e.id): function \(String(describing: r.function)) vs \(f)") }
                if f == "More records follow" && r.note != "more_records_follow" { diffs.append("record \(e.id): note \(r.note ?? "-")") }
                if f.hasPrefix("M") && f != "Maximum value" && f != "Minimum value" && r.quantity != .manufacturerSpecific {
                    diffs.append("record \(e.id): quantity \(r.quantity.rawValue) for \(f)")
                }
            }
            if let s = e.fields["StorageNumber"], Int(s) != r.storage { diffs.append("record \(e.id): storage \(r.storage ?? -1) vs \(s)") }
            if let t = e.fields["Tariff"], Int(t) != r.tariff { diffs.append("record \(e.id): tariff \(r.tariff ?? -1) vs \(t)") }
            if let d = e.fields["Device"], Int(d) != r.subunit { diffs.append("record \(e.id): subunit \(r.subunit ?? -1) vs \(d)") }
            if let bug = libmbusBugs[key] {
                let ours: String
                switch r.value {
                case .number(let d): ours = d.normalized.description
                case .text(let t): ours = t
                }
                if ours != bug.ours { diffs.append("record \(e.id): \(ours), expected \(bug.ours) (\(bug.reason))") }
                continue
            }
            switch r.value {
            case .number(let mine):
                var unitText = e.fields["Unit"] ?? ""
                if unitText == "reserved but historic" { unitText = expected.first?.fields["Unit"] ?? "" }
                guard let (unit, power) = units[unitText] else {
                    diffs.append("record \(e.id): libmbus unit \(unitText) not in the test's table")
                    continue
                }
                if unit != (r.unit?.rawValue ?? "") {
                    diffs.append("record \(e.id): unit \(r.unit?.rawValue ?? "-") vs \(unitText)")
                }
                guard let theirs = Double(value) else {
                    diffs.append("record \(e.id): \(mine) vs non-number \(value)")
                    continue
                }
                let want = theirs * pow(10, Double(power))
                let got = Double(mine.description) ?? .nan
                // libmbus computed in binary floating point and printed with %f: allow the %f rounding
                // (half a unit of the 6th decimal) and the relative error of a double product; for
                // values the meter sent as IEEE 754 single precision, whose libmbus printing shows the
                // float's binary expansion (54.099998 for 54.1) where we keep its shortest decimal,
                // allow single precision's relative error too.
                let isReal = Self.isReal(hex: hex, record: e.id)
                let tolerance = 5e-7 * pow(10, Double(power)) + abs(want) * (isReal ? 1.2e-7 : 1e-14)
                if !(abs(got - want) <= tolerance) {
                    diffs.append("record \(e.id): value \(mine) vs \(value)")
                }
            case .text(let mine):
                var theirs = value
                if let q = dateQuirks[theirs] { theirs = q }
                let quantity = e.fields["Quantity"] ?? ""
                if quantity.hasPrefix("Time point") {
                    // libmbus prints date-times with seconds and a Z; ours are meter-local text.
                    if theirs.hasSuffix("Z") && !mine.hasSuffix("Z") {
                        theirs = String(theirs.dropLast(mine.count == 16 && theirs.hasSuffix(":00Z") ? 4 : 1))
                    }
                } else if r.quantity == .manufacturerSpecific || theirs.contains(" ") && mine.allSatisfy(\.isHexDigit) && !mine.isEmpty {
                    theirs = theirs.replacingOccurrences(of: " ", with: "").lowercased()
                }
                if mine != theirs { diffs.append("record \(e.id): text \"\(mine)\" vs \"\(value)\"") }
            }
        }
        let extra = Set(readings.compactMap(\.record)).subtracting(expected.map(\.id))
        if !extra.isEmpty { diffs.append("records \(extra.sorted()) not in libmbus's output") }
        return diffs
    }

    /// True when record `id` of the frame is coded as a 32-bit real (DIF data field 5), found by
    /// walking the records the way the decoder does.
    static func isReal(hex: [UInt8], record id: Int) -> Bool {
        let frame = MBusTest.bytes(String(decoding: hex, as: UTF8.self))
        guard frame.count > 19, frame[6] == 0x72 else { return false }
        var i = 19, n = 0
        let end = frame.count - 2
        while i < end {
            let dif = frame[i]; i += 1
            if dif == 0x2F { continue }
            if dif & 0x0F == 0x0F { return false }
            var ext = dif & 0x80 != 0
            while ext && i < end { ext = frame[i] & 0x80 != 0; i += 1 }
            guard i < end else { return false }
            let vif = frame[i]; i += 1
            if vif & 0x7F == 0x7C, i < end { i += 1 + Int(frame[i]) }
            ext = vif & 0x80 != 0
            while ext && i < end { ext = frame[i] & 0x80 != 0; i += 1 }
            if n == id { return dif & 0x0F == 0x05 }
            let sizes = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, 0, 6, 0]
            var size = sizes[Int(dif & 0x0F)]
            if dif & 0x0F == 0x0D, i < end {
                let l = Int(frame[i]); i += 1
                size = l < 0xC0 ? l : (l < 0xE0 ? (l & 0x0F) : l - 0xE0)
            }
            i += size
            n += 1
        }
        return false
    }

    @Test func everyTestFrameMatchesLibmbus() throws {
        let names = Self.files("test-frames", ".norm.xml")
        #expect(names.count == 47)
        var matching = 0
        var report: [String] = []
        for name in names {
            let diffs = try Self.compare(name)
            if diffs.isEmpty { matching += 1 } else { report.append(name + ":\n  " + diffs.joined(separator: "\n  ")) }
        }
        #expect(report.isEmpty, "\(matching) of \(names.count) frames match libmbus:\n\(report.joined(separator: "\n"))")
    }

    // MARK: - error and unsupported frames

    @Test func applicationErrorFramesBecomeEvents() throws {
        let withXML = Self.files("error-frames", ".xml")
        #expect(withXML.count == 7)
        for name in withXML {
            let sink = MBusTest.session(try Self.read("error-frames", name + ".hex"), format: .hex)
            let (slave, _) = Self.parse(String(decoding: try Self.read("error-frames", name + ".xml"), as: UTF8.self))
            #expect(sink.diagnostics.isEmpty, "\(name): \(sink.diagnostics)")
            #expect(sink.readings.isEmpty)
            let events = sink.events
            #expect(events.count == 1, "\(name)")
            #expect(events.first?.event == "application_error", "\(name)")
            #expect(events.first?.text == slave["Error"], "\(name)")
            let frame = MBusTest.bytes(String(decoding: try Self.read("error-frames", name + ".hex"), as: UTF8.self))
            #expect(events.first?.code == Hex.byte(frame[7]), "\(name)")
        }
    }

    @Test func malformedFramesAreSkippedAndReported() throws {
        let names = Self.files("error-frames", ".hex").filter { !Self.files("error-frames", ".xml").contains($0) }
        #expect(names.count == 6)
        let reasons: [String: String] = [
            "premature_end_of_data1": "premature end of record at data",
            "premature_end_of_data2": "premature end of record at data",
            "premature_end_of_var_vif1": "premature end of record at variable-length VIF",
            "too_many_dife": "too many DIFEs",
            "too_many_vife": "too many VIFEs",
            "too_short_header": "variable data header too short",
        ]
        for name in names {
            let sink = MBusTest.session(try Self.read("error-frames", name + ".hex"), format: .hex)
            #expect(sink.records.isEmpty, "\(name)")
            #expect(sink.diagnostics.count == 1, "\(name): \(sink.diagnostics)")
            guard let d = sink.diagnostics.first else { continue }
            #expect(d.skipped)
            #expect(d.line == 1)
            #expect(d.error.layer == .mbusApplication, "\(name)")
            #expect(d.error.offset >= 7, "\(name)")
            #expect(d.error.message.contains(reasons[name] ?? "?"), "\(name): \(d.error.message)")
        }
    }

    @Test func unsupportedFramesAreReportedOrDecodedWithoutCrashing() throws {
        let names = Self.files("unsupported-frames", ".hex")
        #expect(names.count == 5)
        for name in names {
            let sink = MBusTest.session(try Self.read("unsupported-frames", name + ".hex"), format: .hex)
            if name == "svm_f22_telegram2" {
                // Decodes in current libmbus; no expected output: it must simply not crash.
                #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
                #expect(!sink.readings.isEmpty)
                continue
            }
            #expect(sink.readings.isEmpty, "\(name)")
            #expect(!sink.diagnostics.isEmpty, "\(name)")
            for d in sink.diagnostics {
                #expect(d.skipped && d.line == 1, "\(name): \(d)")
                #expect(!d.error.message.isEmpty)
            }
        }
        let ci51 = MBusTest.session(try Self.read("unsupported-frames", "manual_frame4.hex"), format: .hex)
        #expect(ci51.diagnostics.first?.error.kind == .unsupported)
        #expect(ci51.diagnostics.first?.error.message.contains("CI 0x51") == true)
    }
}
