import Foundation
import Testing

/// `ami-export` run as a user would, its files opened by programs nobody here wrote: openpyxl and
/// LibreOffice for XLSX, Python's csv module for CSV, xmllint against the project's schemas for
/// XML, and its own readers for the round trips.
@Suite struct ExportEndToEndTests {
    /// Records of every kind a stream carries: readings with register and interval values, exact
    /// decimals longer than a double keeps, a text value, milliseconds, an event whose text needs
    /// quoting, and another tool's record with nested, array, boolean and null members.
    static let stream = """
        {"type":"reading","v":1,"meter":"LGB-12345678-01-02","medium":"electricity","quantity":"energy","obis":"1.8.0","value":1234567.891,"unit":"Wh","time":"2026-01-05T00:15:00Z","interval":900,"quality":["3.8.0"],"protocol":"mbus","source":"file:a.hex","frame":0}
        {"type":"reading","v":1,"meter":"LGB-12345678-01-02","medium":"electricity","quantity":"energy","obis":"1.8.0","value":0.000000000000000001,"unit":"Wh","time":"2026-01-05T00:30:00.250Z","interval":900,"protocol":"mbus","source":"file:a.hex","frame":1}
        {"type":"reading","v":1,"meter":"E0025","quantity":"energy_export","value":-20,"unit":"Wh","time":"2026-01-05T01:00:00Z","tariff":2,"protocol":"dsmr","source":"stdin","frame":2}
        {"type":"reading","v":1,"meter":"E0025","quantity":"energy","value":123456789012345678,"unit":"Wh","time":"2026-01-05T01:00:00Z","protocol":"dsmr","source":"stdin","frame":2}
        {"type":"reading","v":1,"meter":"E0025","quantity":"version","text":"  50, \\"quoted\\"\\nnext line ü","protocol":"dsmr","source":"stdin","frame":2}
        {"type":"event","v":1,"meter":"X1","event":"tamper","code":"0x12","text":"cover opened, twice","time":"2026-01-05T10:00:00Z","protocol":"dlms","source":"tcp://m:4059","frame":3}
        {"type":"bill","v":1,"account":"A-1","total_minor":12345,"lines":[1,2],"period":{"from":"2026-01-01T00:00:00Z","to":"2026-02-01T00:00:00Z"},"paid":false,"note":null}

        """

    static func temporaryFolder() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-export-e2e-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static func tool(_ name: String) -> Bool {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].contains { FileManager.default.isExecutableFile(atPath: $0 + name) }
    }

    /// The stream exported with `args` to `out.EXT` in a fresh folder (removed by the caller).
    static func exported(_ ext: String, _ args: [String] = []) throws -> (dir: URL, file: String) {
        let dir = try temporaryFolder()
        let input = try write(stream, "in.jsonl", in: dir)
        let file = dir.appendingPathComponent("out." + ext).path
        let r = try Binaries.run("ami-export", args + ["-o", file, input])
        #expect(r.status == 0, "\(r.stderr)")
        return (dir, file)
    }

    static let nem12 = Binaries.corpus?.appendingPathComponent("formats/nem12")
    static let espi = Binaries.corpus?.appendingPathComponent("formats/green-button-espi")

    // MARK: round trips through ami's own readers

    @Test(arguments: ["csv", "xlsx"])
    func exportThenImportGivesTheSameLines(format: String) throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.write(Self.stream, "in.jsonl", in: dir)
        let file = dir.appendingPathComponent("out." + format).path
        let out = try Binaries.run("ami-export", ["--to", format, "-o", file, input])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(out.stdout.isEmpty)
        let back = try Binaries.run("ami-export", ["--from", format, file])
        #expect(back.status == 0, "\(back.stderr)")
        // The bill's null member is an empty cell, which comes back absent.
        var expected = Self.stream.split(separator: "\n").map(String.init)
        expected[6] = expected[6].replacingOccurrences(of: #","note":null"#, with: "")
        if format == "csv" {
            // A CSV holds one record type: the readings.
            #expect(back.stdoutLines == Array(expected.prefix(5)))
            #expect(out.stderrLines == [
                "ami-export: note: 1 bill record not written: a CSV file holds one record type, the first one met (choose with --type)",
                "ami-export: note: 1 event record not written: a CSV file holds one record type, the first one met (choose with --type)",
            ])
        } else {
            #expect(back.stdoutLines == expected)
        }
    }

    @Test func csvTypeOptionChoosesTheRecordType() throws {
        let r = try Binaries.run("ami-export", ["--to", "csv", "--type", "event"], stdin: Array(Self.stream.utf8))
        #expect(r.status == 0)
        #expect(r.stdout == "type,v,meter,event,code,text,time,duration,protocol,source,frame\r\n"
                + "event,1,X1,tamper,0x12,\"cover opened, twice\",2026-01-05T10:00:00Z,,dlms,tcp://m:4059,3\r\n")
    }

    // MARK: real clients

    @Test(.enabled(if: PeerVenv.exists, "no .venv: run scripts/python-env"))
    func pythonCSVReadsTheSameFields() throws {
        let (dir, file) = try Self.exported("csv")
        defer { try? FileManager.default.removeItem(at: dir) }
        let peer = try Binaries.shell(".venv/bin/python peers/csv_read.py '\(file)'")
        #expect(peer.status == 0, "\(peer.stderr)")
        let rows = peer.stdoutLines.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String] }
        #expect(rows.count == 6)
        #expect(rows[0]?.count == 21)
        #expect(rows[1]?[6] == "1234567.891")
        #expect(rows[2]?[6] == "0.000000000000000001")
        #expect(rows[2]?[9] == "2026-01-05T00:30:00.250Z")
        #expect(rows[4]?[6] == "123456789012345678")
        #expect(rows[5]?[7] == "  50, \"quoted\"\nnext line ü")
        #expect(rows[1]?[17] == "3.8.0")
    }

    /// What openpyxl returns, row by row, for every sheet.
    static func openpyxl(_ file: String) throws -> (rows: [String: [[[Any]]]], layout: [String: [String: Any]]) {
        let peer = try Binaries.shell(".venv/bin/python peers/xlsx_openpyxl.py '\(file)'")
        #expect(peer.status == 0, "\(peer.stderr)")
        var rows: [String: [[[Any]]]] = [:]
        var layout: [String: [String: Any]] = [:]
        for line in peer.stdoutLines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let sheet = try #require(o["sheet"] as? String)
            if let cells = o["cells"] as? [[Any]] { rows[sheet, default: []].append(cells) } else { layout[sheet] = o }
        }
        return (rows, layout)
    }

    @Test(.enabled(if: PeerVenv.exists, "no .venv: run scripts/python-env"))
    func openpyxlReadsTheSameValuesAndTypes() throws {
        let (dir, file) = try Self.exported("xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (rows, layout) = try Self.openpyxl(file)
        #expect(Set(rows.keys) == ["reading", "event", "bill"])
        let readings = try #require(rows["reading"])
        #expect(readings.count == 6)
        func cell(_ r: Int, _ c: Int) -> String { "\(readings[r][c][0]):\(readings[r][c][1])" }
        #expect(readings[0].map { "\($0[1])" }.prefix(3) == ["type", "v", "meter"])
        #expect(cell(1, 1) == "int:1")
        #expect(cell(1, 6) == "float:1234567.891")
        #expect(cell(1, 9) == "datetime:2026-01-05T00:15:00Z")
        #expect(cell(1, 10) == "int:900")
        #expect(cell(1, 17) == "str:3.8.0")
        #expect(cell(2, 6) == "float:1e-18")
        #expect(cell(2, 9) == "datetime:2026-01-05T00:30:00.250Z")
        #expect(cell(3, 6) == "int:-20")
        #expect(cell(3, 12) == "int:2")
        // 18 digits are more than a spreadsheet number keeps: written as text, exactly.
        #expect(cell(4, 6) == "str:123456789012345678")
        #expect(cell(5, 7) == "str:  50, \"quoted\"\nnext line ü")
        #expect(cell(5, 9) == "none:<null>")
        let bill = try #require(rows["bill"])
        #expect(bill[0].map { "\($0[1])" } == ["type", "v", "account", "total_minor", "lines", "period.from", "period.to", "paid", "note"])
        #expect(bill[1].map { "\($0[0]):\($0[1])" } == ["str:bill", "int:1", "str:A-1", "int:12345", "str:[1,2]",
                                                         "datetime:2026-01-01T00:00:00Z", "datetime:2026-02-01T00:00:00Z",
                                                         "bool:0", "none:<null>"])
        for (sheet, n) in [("reading", 21), ("event", 11), ("bill", 9)] {
            let l = try #require(layout[sheet])
            #expect(l["frozen"] as? String == "A2")
            #expect(l["bold_header"] as? Bool == true)
            let last = String(UnicodeScalar(UInt8(64 + n)))
            #expect(l["filter"] as? String == "A1:\(last)\(rows[sheet]!.count)")
            #expect((l["widths"] as? [String: Any])?.count == n)
        }
    }

    @Test(.enabled(if: tool("libreoffice"), "no libreoffice: scripts/system-deps --test installs it"))
    func libreOfficeConvertsTheWorkbook() throws {
        let (dir, _) = try Self.exported("xlsx")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A profile of its own, so that a LibreOffice already running elsewhere does not take the job.
        let r = try Binaries.shell("cd '\(dir.path)' && HOME='\(dir.path)' libreoffice --headless "
                                   + "-env:UserInstallation=file://\(dir.path)/profile "
                                   + "--convert-to 'csv:Text - txt - csv (StarCalc):44,34,76' out.xlsx 2>&1")
        #expect(r.status == 0, "\(r.stdout)")
        let csv = try String(contentsOf: dir.appendingPathComponent("out.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines.count >= 6)
        #expect(lines.first?.hasPrefix("type,v,meter,medium,quantity,obis,value") == true)
        #expect(lines[1].hasPrefix("reading,1,LGB-12345678-01-02,electricity,energy,1.8.0,1234567.891,,Wh,2026-01-05 00:15:00,900"))
    }

    @Test(.enabled(if: tool("xmllint"), "no xmllint: scripts/system-deps --test installs libxml2-utils"),
          arguments: [("xml", "schemas/ami-records.xsd"), ("cim", "schemas/iec61968-9-meterreadings.xsd")])
    func xmlIsValidAgainstTheProjectSchema(format: String, schema: String) throws {
        let (dir, file) = try Self.exported("xml", ["--to", format])
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Binaries.shell("xmllint --noout --schema \(schema) '\(file)' 2>&1")
        #expect(r.status == 0)
        #expect(r.stdout == "\(file) validates\n")
        // The schema is not a rubber stamp: a document that breaks it is refused.
        let broken = try String(contentsOfFile: file, encoding: .utf8)
            .replacingOccurrences(of: format == "xml" ? "kind=\"number\"" : "<value>", with: format == "xml" ? "kind=\"float\"" : "<val>")
            .replacingOccurrences(of: "</value>", with: "</val>")
        let bad = try Self.write(broken, "bad.xml", in: dir)
        #expect(try Binaries.shell("xmllint --noout --schema \(schema) '\(bad)' 2>/dev/null").status != 0)
    }

    @Test func cimGroupsIntervalAndRegisterReadingsWithReadingTypes() throws {
        let r = try Binaries.run("ami-export", ["--to", "cim"], stdin: Array(Self.stream.utf8))
        #expect(r.status == 0)
        let xml = r.stdout
        // 15-minute delta energy, forward, electricity, Wh: 0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0.
        #expect(xml.contains(#"<ReadingType ref="0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0"/>"#))
        // Register export energy on tariff 2: bulk quantity, reverse.
        #expect(xml.contains(#"<ReadingType ref="0.0.0.1.19.1.12.0.0.0.0.2.0.0.0.0.72.0"/>"#))
        #expect(xml.components(separatedBy: "<MeterReading>").count - 1 == 2)
        #expect(xml.contains("<mRID>LGB-12345678-01-02</mRID>"))
        #expect(xml.contains(#"<ReadingQualityType ref="3.8.0"/>"#))
        #expect(r.stderrLines == ["ami-export: note: 1 bill record not written: cim holds readings only",
                                  "ami-export: note: 1 event record not written: cim holds readings only"])
    }

    // MARK: NEM12 and Green Button

    @Test(.enabled(if: nem12 != nil, "no ../shared/corpus"),
          arguments: ["Example_NEM12_actual_interval", "Example_NEM12_different_interval_length",
                      "Example_NEM12_multiple_meters", "Example_NEM12_multiple_quality", "Example_NEM12_substituted_interval"])
    func nem12RoundTrips(sample: String) throws {
        let path = Self.nem12!.appendingPathComponent(sample + ".csv").path
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Binaries.run("ami-export", ["--from", "nem12", path])
        #expect(first.status == 0 && first.stderr.isEmpty)
        let readings = try Self.write(first.stdout, "r.jsonl", in: dir)
        let file = dir.appendingPathComponent("out.nem12").path
        let out = try Binaries.run("ami-export", ["-o", file, readings])
        #expect(out.status == 0 && out.stderr.isEmpty)
        let second = try Binaries.run("ami-export", ["--from", "nem12", file])
        func strip(_ lines: [String]) -> [String] {
            lines.map { $0.replacingOccurrences(of: #""source":"[^"]*""#, with: "", options: .regularExpression) }
        }
        #expect(!first.stdoutLines.isEmpty)
        #expect(strip(second.stdoutLines) == strip(first.stdoutLines))
        // The interval values are the file's, line for line (the 200 record's fields ami does not
        // carry, and the header's time and participants, aside).
        let original = try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
        let written = try String(contentsOfFile: file, encoding: .utf8).split(whereSeparator: \.isNewline)
        // Values in Wh (ami writes kWh whatever the original's UOM), then the quality method and
        // reason code (update times differ); 400 records as they are.
        func intervals(_ lines: [Substring]) -> [String] {
            var factor = Decimal(1)
            var out: [String] = []
            for line in lines {
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                switch f[0] {
                case "200": factor = f[7].lowercased().hasPrefix("k") ? 1000 : 1
                case "400": out.append(f.prefix(5).joined(separator: ","))
                case "300":
                    let n = f.count - 7
                    let values = f[2..<(2 + n)].map { "\(Decimal(string: $0, locale: Locale(identifier: "en_US_POSIX"))! * factor)" }
                    out.append(([f[1]] + values + [f[2 + n], f[3 + n]]).joined(separator: ","))
                default: break
                }
            }
            return out
        }
        #expect(intervals(written) == intervals(original))
        #expect(intervals(written).count == intervals(original).count)
    }

    @Test(.enabled(if: nem12 != nil, "no ../shared/corpus"), arguments: [
        ("invalid_Example_NEM12_missing_header", ":2: no 100 header record: not a NEM12 or NEM13 file"),
        ("invalid_Example_NEM12_incomplete_interval", ":3: 300 record has 0 interval values; the 200 record's IntervalLength 30 wants 48"),
        ("invalid_Example_NEM12_30min_200_15min_300", ":3: 300 record has 96 interval values; the 200 record's IntervalLength 30 wants 48"),
    ])
    func nem12RefusesInvalidSamplesWithTheReason(sample: String, reason: String) throws {
        let path = Self.nem12!.appendingPathComponent(sample + ".csv").path
        let r = try Binaries.run("ami-export", ["--from", "nem12", path])
        #expect(r.status == 65)
        #expect(r.stderrLines == ["ami-export: " + path + reason])
        let strict = try Binaries.run("ami-export", ["--from", "nem12", "--strict", path])
        #expect(strict.status == 65)
    }

    @Test(.enabled(if: nem12 != nil, "no ../shared/corpus"))
    func nem13RegisterReadsAreReadings() throws {
        let r = try Binaries.run("ami-export", ["--from", "nem12", Self.nem12!.appendingPathComponent("Example_NEM13_consumption_data.csv").path])
        #expect(r.status == 0)
        let lines = r.stdoutLines.map { $0.replacingOccurrences(of: #","source":"[^"]*""#, with: "", options: .regularExpression) }
        // 006342.8 kWh read 2003-10-05 09:30:55 and 007654.9 kWh 2004-01-07 10:03:33, market time (UTC+10).
        #expect(lines == [
            #"{"type":"reading","v":1,"meter":"VABC005890","medium":"electricity","quantity":"energy","value":6342800,"unit":"Wh","time":"2003-10-04T23:30:55Z","note":"11","protocol":"nem12","frame":0}"#,
            #"{"type":"reading","v":1,"meter":"VABC005890","medium":"electricity","quantity":"energy","value":7654900,"unit":"Wh","time":"2004-01-07T00:03:33Z","note":"11","protocol":"nem12","frame":0}"#,
        ])
    }

    @Test(.enabled(if: espi != nil, "no ../shared/corpus"))
    func greenButtonIntervalBlockBecomesReadings() throws {
        let r = try Binaries.run("ami-export", ["--from", "espi", Self.espi!.appendingPathComponent("BulkSCEIntervalBlock.xml").path])
        #expect(r.status == 0 && r.stderr.isEmpty)
        #expect(r.stdoutLines.count == 97)
        // The first IntervalReading: start 1439449200, duration 900, value 270, uom 72 (Wh), 10^0.
        #expect(r.stdoutLines.first?.hasPrefix(#"{"type":"reading","v":1,"meter":"NB6WRU","medium":"electricity","quantity":"energy","value":270,"unit":"Wh","time":"2015-08-13T07:15:00Z","interval":900,"protocol":"espi""#) == true)
        // Single entries without IntervalBlocks give no readings and no complaint.
        for f in ["ESPIReadingType.xml", "ESPIUsageSummary.xml", "ESPILocalTimeParameters.xml"] {
            let e = try Binaries.run("ami-export", ["--from", "espi", Self.espi!.appendingPathComponent(f).path])
            #expect(e.status == 0 && e.stdout.isEmpty && e.stderr.isEmpty)
        }
    }

    @Test func xmlInputNeverExpandsEntitiesOrReadsFiles() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secret = try Self.write("SECRET-CONTENT", "secret.txt", in: dir)
        for doctype in ["<!DOCTYPE feed [<!ENTITY x SYSTEM \"file://\(secret)\">]>",
                        "<!DOCTYPE feed [<!ENTITY x \"SECRET-CONTENT\">]>"] {
            let feed = """
                <?xml version="1.0"?>
                \(doctype)
                <feed xmlns="http://www.w3.org/2005/Atom"><entry><content><IntervalBlock xmlns="http://naesb.org/espi">
                <IntervalReading><timePeriod><duration>900</duration><start>1439449200</start></timePeriod><value>&x;</value></IntervalReading>
                </IntervalBlock></content></entry></feed>
                """
            let r = try Binaries.run("ami-export", ["--from", "espi"], stdin: Array(feed.utf8))
            #expect(r.status == 65)
            #expect(!r.stdout.contains("SECRET") && !r.stderr.contains("SECRET"))
            #expect(r.stderr.contains("entities are not expanded"), "\(r.stderr)")
        }
    }

    // MARK: the command-line contract

    @Test func badRecordsAreReportedWithTheirLineSkippedAndExit65() throws {
        let input = "{\"type\":\"reading\",\"v\":1,\"meter\":\"M\",\"quantity\":\"energy\",\"value\":1,\"protocol\":\"dsmr\",\"source\":\"s\",\"frame\":0}\nnot json\n{\"v\":1}\n"
        let r = try Binaries.run("ami-export", ["--to", "csv"], stdin: Array(input.utf8))
        #expect(r.status == 65)
        // CRLF is one Character to Swift: split the bytes' text on it.
        #expect(r.stdout.components(separatedBy: "\r\n").count == 3)
        #expect(r.stderrLines == ["ami-export: stdin:2: json: expected '{'",
                                  "ami-export: stdin:3: json: not a record: no \"type\""])
    }

    @Test func strictLeavesNoFileAndKeepsAnOldOne() throws {
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = try Self.write("old content\n", "out.csv", in: dir)
        let input = try Self.write(Self.stream + "garbage\n" + Self.stream, "in.jsonl", in: dir)
        let r = try Binaries.run("ami-export", ["--strict", "-o", old, input])
        #expect(r.status == 65)
        #expect(try String(contentsOfFile: old, encoding: .utf8) == "old content\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["in.jsonl", "out.csv"])
        // Without --strict the file is replaced whole, the bad line skipped.
        let loose = try Binaries.run("ami-export", ["-o", old, input])
        #expect(loose.status == 65)
        #expect(try String(contentsOfFile: old, encoding: .utf8).split(separator: "\r\n").count == 11)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["in.jsonl", "out.csv"])
    }

    @Test func xlsxToStandardOutputIsAWorkbook() throws {
        let r = try Binaries.shell("printf '%s' '\(Self.stream.replacingOccurrences(of: "'", with: "'\\''"))' | ami-export --to xlsx -o - | ami-export --from xlsx")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutLines.count == 7)
    }

    @Test func aClosedPipeEndsQuietly() throws {
        var big = ""
        for _ in 0..<3000 { big += Self.stream.split(separator: "\n")[0] + "\n" }
        let dir = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try Self.write(big, "in.jsonl", in: dir)
        let r = try Binaries.shell("ami-export --to csv '\(input)' | head -1; echo \"status ${PIPESTATUS[0]}\"")
        #expect(r.stdout == "type,v,meter,medium,quantity,obis,value,text,unit,time,interval,storage,tariff,subunit,function,record,note,quality,protocol,source,frame\r\nstatus 0\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func noRecordsGiveAnEmptyDocument() throws {
        #expect(try Binaries.run("ami-export", ["--to", "csv"]).stdout == "")
        #expect(try Binaries.run("ami-export", ["--to", "json"]).stdout == "[]\n")
        let xml = try Binaries.run("ami-export", ["--to", "xml"])
        #expect(xml.status == 0)
        #expect(xml.stdout == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<records xmlns=\"urn:ami:export:records:1\"/>\n")
        let book = try Binaries.shell("ami-export --to xlsx < /dev/null | ami-export --from xlsx")
        #expect(book.status == 0 && book.stdout.isEmpty && book.stderr.isEmpty)
    }

    @Test func aMissingInputIsReportedAndExits66() throws {
        for args in [["--to", "csv"], ["--from", "csv"], ["--from", "nem12"], ["--from", "xlsx"], ["--from", "espi"]] {
            let r = try Binaries.run("ami-export", args + ["/nonexistent/x"])
            #expect(r.status == 66)
            #expect(r.stderrLines.first?.hasPrefix("ami-export: /nonexistent/x") == true, "\(args): \(r.stderr)")
        }
    }

    @Test func usageErrorsExit64() throws {
        #expect(try Binaries.run("ami-export", []).status == 64)
        #expect(try Binaries.run("ami-export", ["--to", "pdf"]).status == 64)
        #expect(try Binaries.run("ami-export", ["--to", "csv", "--from", "csv"]).status == 64)
        #expect(try Binaries.run("ami-export", ["--to", "nem12", "--nem12-offset", "10"]).status == 64)
    }
}
