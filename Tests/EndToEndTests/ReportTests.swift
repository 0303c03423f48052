import Foundation
import Testing

/// The built `ami-report` run as a user would, on the report dataset stored by `ami-store` through
/// pipes (Tests/AMICoreTests/Fixtures/report; its figures are worked out in AMICoreTests/ReportTests).
@Suite struct ReportEndToEndTests {
    static let fixtures = "Tests/AMICoreTests/Fixtures/report"
    let store = StoreEndToEndTests()

    /// A database holding the dataset: the registry imported and the readings ingested through a pipe.
    func dataset() throws -> String {
        let db = store.temporaryDB()
        let r = try Binaries.shell("""
            ami-store registry import --db \(db) \(Self.fixtures)/registry.jsonl && \
            cat \(Self.fixtures)/readings.jsonl | ami-store ingest --db \(db) --unknown-meters reject
            """)
        #expect(r.status == 0, "\(r.stderr)")
        return db
    }

    @Test func consumptionByRegionAndDayAsJSONLines() throws {
        let db = try dataset()
        let r = try Binaries.run("ami-report", ["consumption", "--db", db, "--by", "region", "--period", "day",
                                                "--from", "2026-01-05T00:00:00Z", "--to", "2026-01-07T00:00:00Z"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        #expect(r.stdoutLines == [
            #"{"type":"consumption","v":1,"by":"region","group":"ACME/North","period":"day","start":"2026-01-05T00:00:00Z","end":"2026-01-06T00:00:00Z","quantity":"energy","unit":"Wh","value":3776,"meters":3}"#,
            #"{"type":"consumption","v":1,"by":"region","group":"ACME/North","period":"day","start":"2026-01-06T00:00:00Z","end":"2026-01-07T00:00:00Z","quantity":"energy","unit":"Wh","value":5576,"meters":2}"#,
            #"{"type":"consumption","v":1,"by":"region","group":"ACME/South","period":"day","start":"2026-01-05T00:00:00Z","end":"2026-01-06T00:00:00Z","quantity":"volume","unit":"m3","value":0.620,"meters":3}"#,
            #"{"type":"consumption","v":1,"by":"region","group":"ACME/South","period":"day","start":"2026-01-06T00:00:00Z","end":"2026-01-07T00:00:00Z","quantity":"volume","unit":"m3","value":0.608,"meters":2}"#,
        ])
        // Every line parses as JSON with the documented members.
        for line in r.stdoutLines {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(o?["type"] as? String == "consumption" && o?["v"] as? Int == 1)
        }
    }

    @Test func anomaliesFindTheLeakAndTheTamper() throws {
        let db = try dataset()
        let r = try Binaries.shell("AMI_DB=\(db) ami-report anomalies --kind leak,tamper --tz Europe/Amsterdam --night 2-6")
        #expect(r.status == 0)
        // Amsterdam's nights of 2–6 h are 01–05 h UTC: the same three nights as in UTC.
        #expect(r.stdoutLines == [
            #"{"type":"anomaly","v":1,"kind":"leak","meter":"W1","node":"ACME/South","start":"2026-01-05T01:00:00Z","end":"2026-01-07T05:00:00Z","quantity":"volume","unit":"m3","nights":3,"min_flow":0.005}"#,
            #"{"type":"anomaly","v":1,"kind":"tamper","meter":"E1","node":"ACME/North/B1","start":"2026-01-05T13:00:00Z","event":"terminal_cover_opened","code":"0x28"}"#,
        ])
    }

    @Test func aTableOnATerminalAndWhenAsked() throws {
        let db = try dataset()
        let asked = try Binaries.run("ami-report", ["completeness", "--db", db, "--by", "region", "--format", "table",
                                                    "--from", "2026-01-05T00:00:00Z", "--to", "2026-01-06T00:00:00Z"])
        #expect(asked.status == 0)
        #expect(asked.stdout == """
            completeness
            by      group       start                 end                   meters  expected  received  estimated  missing  percent
            region  ACME/North  2026-01-05T00:00:00Z  2026-01-06T00:00:00Z       2       120       118          2        0    98.33
            region  ACME/South  2026-01-05T00:00:00Z  2026-01-06T00:00:00Z       3        72        72          0        0   100.00

            """)
        // On a pseudo-terminal (script(1)) the table is the default.
        guard store.which("script") != nil else { return }
        let tty = try Binaries.shell("script -qec 'ami-report top --db \(db) --limit 1' /dev/null")
        #expect(tty.status == 0)
        #expect(tty.stdout.replacingOccurrences(of: "\r\n", with: "\n").hasPrefix("top_consumer\nrank  by     group"))
    }

    @Test func aClosedPipeEndsItQuietly() throws {
        let db = try dataset()
        let r = try Binaries.shell("ami-report load-profile --db \(db) | head -1; echo \"status ${PIPESTATUS[0]}\" >&2")
        #expect(r.stdoutLines.count == 1)
        #expect(r.stderr == "status 0\n")
        // A reader that has gone before the report is written.
        let gone = try Binaries.shell("ami-report load-profile --db \(db) | true; echo \"status ${PIPESTATUS[0]}\" >&2")
        #expect(gone.stderr == "status 0\n")
    }

    @Test func failuresSayWhatAndExitWithTheDocumentedStatus() throws {
        let db = try dataset()
        let prepaid = try Binaries.run("ami-report", ["prepaid", "--db", db, "--from", "2026-01-01T00:00:00Z", "--to", "2026-02-01T00:00:00Z"])
        #expect(prepaid.status == 69)
        #expect(prepaid.stdout.isEmpty)
        #expect(prepaid.stderr == "ami-report: prepaid: \(db) has no billing accounts (ami-bill account add); no prepaid segments to report\n")
        let meter = try Binaries.run("ami-report", ["consumption", "--db", db, "--meter", "X9"])
        #expect(meter.status == 65)
        #expect(meter.stderr == "ami-report: no meter \"X9\" in the database\n")
        let level = try Binaries.run("ami-report", ["consumption", "--db", db, "--by", "district"])
        #expect(level.status == 65)
        #expect(level.stderr.hasPrefix("ami-report: no hierarchy level \"district\""))
        let zone = try Binaries.run("ami-report", ["consumption", "--db", db, "--tz", "Mars/Olympus"])
        #expect(zone.status == 64)
        let window = try Binaries.run("ami-report", ["top", "--db", db, "--from", "2026-01-07T00:00:00Z", "--to", "2026-01-05T00:00:00Z"])
        #expect(window.status == 64)
        #expect(window.stderr.contains("--from must be before --to"))
        let none = try Binaries.shell("env -u AMI_DB ami-report vee")
        #expect(none.status == 64)
        #expect(none.stderr == "ami-report: no database: give --db FILE or set AMI_DB\n")
        let missing = try Binaries.run("ami-report", ["vee", "--db", "/nonexistent/x.db"])
        #expect(missing.status == 74)
    }

    @Test func chartsAreSVGThatParsesAsXMLWithExactLabels() throws {
        let db = try dataset()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-report-chart-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let profile = dir.appendingPathComponent("profile.svg").path, water = dir.appendingPathComponent("water.svg").path
        let a = try Binaries.run("ami-report", ["chart", "load-profile", "--db", db, "--meter", "E2", "-o", profile])
        #expect(a.status == 0)
        #expect(a.stdout.isEmpty)
        let b = try Binaries.run("ami-report", ["chart", "consumption", "--db", db, "--node", "ACME/South", "-o", water])
        #expect(b.status == 0)
        // Python's XML parser reads both; the labels are the exact figures.
        let python = """
            import sys, xml.etree.ElementTree as ET
            for f in sys.argv[1:]:
                root = ET.parse(f).getroot()
                assert root.tag == '{http://www.w3.org/2000/svg}svg', root.tag
                print(' | '.join(t.text for t in root.iter('{http://www.w3.org/2000/svg}text')))
            """
        let script = dir.appendingPathComponent("check.py")
        try Data(python.utf8).write(to: script)
        let parsed = try Binaries.shell("python3 \(script.path) \(profile) \(water)")
        if parsed.status == 127 { return }
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(parsed.stdoutLines.count == 2)
        #expect(parsed.stdoutLines.first?.contains("| 0 | 10 | 20 | 30 | 40 | 50 |") == true)
        #expect(parsed.stdoutLines.first?.hasSuffix("peak 50 Wh at 2026-01-05T18:15:00Z") == true)
        #expect(parsed.stdoutLines.last?.hasSuffix("peak 0.620 m3 at 2026-01-06T00:00:00Z") == true)
        if store.which("xmllint") != nil {
            #expect(try Binaries.shell("xmllint --noout \(profile) \(water)").status == 0)
        }
        // Several series: the chart says which and how to pick one.
        let many = try Binaries.run("ami-report", ["chart", "consumption", "--db", db, "-o", "-"])
        #expect(many.status == 65)
        #expect(many.stderr.contains("the selection holds 2 series"))
        let stdout = try Binaries.run("ami-report", ["chart", "load-profile", "--db", db, "--meter", "W1", "-o", "-"])
        #expect(stdout.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
    }
}
