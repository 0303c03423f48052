import Foundation
import Testing

/// Wireless M-Bus: `ami-decode` and pymbusparser 0.5.3 (the Rust m-bus-parser, through
/// `peers/wmbus_pymbusparser.py`) decode the same frames; every numeric record pymbusparser decodes
/// completely must be ami's reading of the same record index with the same value and unit.
/// pymbusparser does not read compact frames, the extended link layer with a long header, or mode 7
/// (it reports those frames `partial` without records); they are counted, not compared.
@Suite(.enabled(if: PeerVenv.exists,
                "no .venv/bin/python: run scripts/python-env (scripts/test does) to compare with the Python peers"))
struct WMBusPeerTests {
    /// pymbusparser's units (UCUM-like) → ami's, with the factor from theirs to ours.
    static let units: [String: (ours: String, factor: Decimal)] = [
        "W.h": ("Wh", 1), "J": ("J", 1), "m3": ("m3", 1), "W": ("W", 1), "J.h-1": ("J/h", 1), "m3.h-1": ("m3/h", 1),
        "Cel": ("degC", 1), "K": ("K", 1), "s": ("s", 1), "min": ("s", 60), "h": ("s", 3600), "d": ("s", 86400),
        "V": ("V", 1), "A": ("A", 1), "Hz": ("Hz", 1), "kg": ("kg", 1), "bar": ("bar", 1), "%": ("%", 1),
        "m3.min-1": ("m3/h", 60), "m3.s-1": ("m3/h", 3600), "kg.h-1": ("kg/h", 1),
    ]

    /// Frames as `frame` records, each with its line as `source`, so ami's readings name their line.
    static func frameRecords(_ lines: [(Int, String)]) -> [UInt8] {
        Array(lines.map { #"{"type":"frame","v":1,"protocol":"wmbus","source":"line:\#($0.0)","hex":"\#($0.1)"}"# }
            .joined(separator: "\n").utf8) + [0x0A]
    }

    /// Compares one input (hex lines), returning (frames compared, records compared, mismatches).
    static func compare(_ path: String, keyFile: String?) throws -> (frames: Int, records: Int, mismatches: [String]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines: [(Int, String)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = raw.trimmingCharacters(in: .whitespaces)
            if l.isEmpty || l.hasPrefix("#") { continue }
            var hex = l
            if let r = l.range(of: ";0x", options: .backwards) { hex = String(l[r.upperBound...]) }
            if hex.hasPrefix("telegram=") { hex = hex.dropFirst(9).replacingOccurrences(of: "|", with: "") }
            lines.append((i + 1, hex.replacingOccurrences(of: "_", with: "")))
        }
        let peerArgs = (keyFile.map { ["--keys", $0] } ?? []) + [path]
        let command = ([".venv/bin/python", "peers/wmbus_pymbusparser.py"] + peerArgs)
            .map { "'" + $0 + "'" }.joined(separator: " ")
        let p = try Binaries.shell(command)
        #expect(p.status == 0, "\(p.stderr)")
        let peer = try p.stdoutLines.map(JSON.parse)
        let ami = try Binaries.run("ami-decode", (keyFile.map { ["--wmbus-key-file", $0] } ?? []) + ["-"],
                                   stdin: frameRecords(lines))
        // Frames ami skipped, by their line in the input, with ami's reason.
        var skipped: [Int: String] = [:]
        for d in ami.stderrLines {
            let parts = d.components(separatedBy: ": ")
            guard parts.count >= 3, let colon = parts[1].firstIndex(of: ":"),
                  let k = Int(parts[1][parts[1].index(after: colon)...].prefix { $0.isNumber }), k >= 1, k <= lines.count
            else { continue }
            skipped[lines[k - 1].0] = parts[2...].joined(separator: ": ")
        }
        var byLine: [Int: [JSON]] = [:]
        for r in try ami.stdoutLines.map(JSON.parse) where r["type"]?.string == "reading" {
            if let s = r["source"]?.string, let n = Int(s.dropFirst(5)) { byLine[n, default: []].append(r) }
        }
        var frames = 0, records = 0
        var mismatches: [String] = []
        for f in peer where f["state"]?.string == "complete" {
            guard let line = f["line"]?.int, let recs = f["records"]?.array else { continue }
            frames += 1
            let mine = byLine[line] ?? []
            for r in recs where r["kind"]?.string == "decimal" {
                guard let index = r["index"]?.int, let v = r["value"]?.string.flatMap(Dec.parse) else { continue }
                records += 1
                let unit = r["unit"]?.string
                let map: (ours: String, factor: Decimal)? = unit.map { units[$0] } ?? ("", 1)
                guard let m = mine.first(where: { $0["record"]?.int == index }) else {
                    mismatches.append("line \(line) record \(index): ami has no reading (peer \(v) \(unit ?? "-"))"
                                      + (skipped[line].map { "; ami skipped the frame: " + $0 } ?? ""))
                    continue
                }
                let amiValue = m["value"]?.number.flatMap(Dec.parse)
                let amiUnit = m["unit"]?.string ?? ""
                let what = "line \(line) record \(index): ami \(m["quantity"]?.string ?? "-") "
                    + "\(m["value"]?.text ?? "-") \(amiUnit) (\(m["note"]?.string ?? "")), peer \(v) \(unit ?? "-")"
                guard let (ours, factor) = map else {
                    mismatches.append(what + ": peer unit not in the table")
                    continue
                }
                if amiValue != v * factor || amiUnit != ours { mismatches.append(what) }
            }
        }
        return (frames, records, mismatches)
    }

    /// Differences where the two read the standard differently, each with the reason; a mismatch
    /// message containing the key is listed, not failed.
    static let listed: [(String, String)] = [
        ("ami duration ", "duration of a limit exceed (VIFE 0x68-0x6F): ami writes a duration in s, the peer a product of units"),
        ("ami storage_interval ", "storage interval in months: ami writes the count with the note \"months\", the peer unit mo"),
        ("ami tariff_duration ", "tariff duration (VIF 0xFD 0x20-0x23): ami writes seconds, the peer no unit"),
        ("ami duration_since_readout ", "duration since readout (VIF 0xFD 0x2C-0x2F): ami writes seconds, the peer no unit"),
        ("ami remaining_battery_life ", "remaining battery life (VIF 0xFD 0x74, days): ami writes seconds, the peer days without unit"),
        ("ami access_number 240", "access number (VIF 0xFD 0x08) 0xF0: ami reads the counter unsigned (240), the peer signed (-16)"),
        ("ami manufacturer_specific ", "manufacturer-specific record: ami keeps the bytes as hex, the peer reads them as an integer"),
        ("ami skipped the frame: mbus-app: record 24: reserved special function DIF 0xFF",
         "EN 13757-3 reserves DIF 0xFF; ami skips the frame, the peer decodes the records before it"),
    ]

    static func unlisted(_ mismatches: [String]) -> [String] {
        mismatches.filter { m in !listed.contains { m.contains($0.0) } }
    }

    @Test func samplesAgree() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wmbus-peer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("keys").path
        FileManager.default.createFile(atPath: keys, contents: Data("KAM-12345678 = 000102030405060708090A0B0C0D0E0F\n".utf8),
                                       attributes: [.posixPermissions: 0o600])
        let r = try Self.compare("samples/wmbus/wmbus-frames.txt", keyFile: keys)
        #expect(r.mismatches.isEmpty, "\(r.mismatches.joined(separator: "\n"))")
        // The heat meter twice, the water meter on 3 lines, mode 5: the 6 frames pymbusparser decodes.
        #expect(r.frames == 6 && r.records >= 20)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "../shared/corpus/wmbus/wmbusmeters-cases.jsonl")))
    func wmbusmetersTelegramsAgree() throws {
        let corpus = try String(contentsOfFile: "../shared/corpus/wmbus/wmbusmeters-cases.jsonl", encoding: .utf8)
        var telegrams: [String] = []
        for line in corpus.split(separator: "\n") {
            let c = try JSON.parse(String(line))
            guard c["frame"]?.string == "wireless" else { continue }
            telegrams += c["telegrams"]?.array?.compactMap(\.string) ?? []
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wmbus-peer-\(UUID().uuidString).hex").path
        try (telegrams.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Self.compare(path, keyFile: nil)
        let listedCount = r.mismatches.count - Self.unlisted(r.mismatches).count
        print("pymbusparser: \(r.frames) wmbusmeters telegrams decoded completely, \(r.records) numeric records "
              + "compared, \(r.records - r.mismatches.count) equal, \(listedCount) listed differences:\n"
              + Self.listed.map { "  \($0.1)" }.joined(separator: "\n"))
        #expect(r.frames >= 83 && r.records >= 518 && r.records - r.mismatches.count >= 477)
        #expect(Self.unlisted(r.mismatches).isEmpty, "\(Self.unlisted(r.mismatches).joined(separator: "\n"))")
    }
}
