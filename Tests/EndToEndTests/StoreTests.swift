import Foundation
import Testing

/// The built `ami-store` run as a user would: fed by `ami-decode` through a pipe, given bad input,
/// killed at random points, and run twice at once.
@Suite struct StoreEndToEndTests {
    static let samples = PipelineTests.samples.joined(separator: " ")

    func temporaryDB() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-store-e2e-" + UUID().uuidString)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("x.db").path
    }

    func json(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    @Test func decodedSamplesAreStoredAndQueriedBackInTheSameSchema() throws {
        let db = temporaryDB()
        let r = try Binaries.shell("ami-decode \(Self.samples) | ami-store ingest --db \(db)")
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderrLines.count == 3)
        #expect(r.stderrLines.first?.hasPrefix("ami-store: ingest: 962 lines: 931 readings, 31 events") == true)
        let check = try Binaries.run("ami-store", ["check", "--db", db])
        #expect(check.stdout == "schema 3, integrity ok, foreign key errors 0\n")
        // Every dated reading ami-decode wrote comes back from the database with the same members
        // (less `record`, which the store does not keep).
        let decoded = try Binaries.shell("ami-decode \(Self.samples)").stdoutLines.compactMap(json)
        let query = try Binaries.run("ami-store", ["query", "--db", db])
        #expect(query.status == 0)
        let stored = query.stdoutLines.compactMap(json)
        #expect(stored.count == query.stdoutLines.count)
        func key(_ o: [String: Any]) -> String {
            var o = o
            o["record"] = nil
            o["frame"] = nil
            o["source"] = nil
            return o.keys.sorted().map { "\($0)=\(o[$0]!)" }.joined(separator: " ")
        }
        let want = Set(decoded.filter { $0["time"] != nil && $0["type"] as? String == "reading" }.map(key))
        let got = Set(stored.filter { $0["type"] as? String == "reading" }.map(key))
        // Readings of one channel repeated at one time keep one value (the first or a correction):
        // the 9 load profile rows that both DLMS sessions read are stored once.
        #expect(got.isSubset(of: want))
        #expect(got.count == 718)
        if let sqlite = which("sqlite3") {
            let ok = try Binaries.shell("\(sqlite) \(db) 'PRAGMA integrity_check'")
            #expect(ok.stdout == "ok\n")
        }
    }

    @Test func theSameInputTwiceStoresNothingNew() throws {
        let db = temporaryDB()
        _ = try Binaries.shell("ami-decode \(Self.samples) | ami-store ingest --db \(db)")
        let before = try Binaries.run("ami-store", ["query", "--db", db]).stdout
        let again = try Binaries.shell("ami-decode \(Self.samples) | ami-store ingest --db \(db) --summary-json")
        #expect(again.status == 0)
        let summary = json(again.stderr.trimmingCharacters(in: .newlines))
        #expect(summary?["stored"] as? Int == 0)
        #expect(summary?["unchanged"] as? Int == 727, "718 stored readings and the 9 profile rows read twice")
        #expect(try Binaries.run("ami-store", ["query", "--db", db]).stdout == before)
    }

    @Test func badLinesAreReportedWithTheirLineAndTheRestIsStored() throws {
        let db = temporaryDB()
        _ = try Binaries.run("ami-store", ["registry", "import", "--db", db, "--format", "csv"],
                             stdin: Array("meter,status\nM1,active\n".utf8))
        let lines = [
            #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":1,"unit":"Wh","time":"2026-01-05T00:15:00Z","protocol":"mbus"}"#,
            #"{"type":"reading","v":1,"meter":"M1""#,
            #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":"2","unit":"Wh","time":"2026-01-05T00:30:00Z","protocol":"mbus"}"#,
            #"{"type":"reading","v":1,"meter":"M9","quantity":"energy","value":3,"unit":"Wh","time":"2026-01-05T00:45:00Z","protocol":"mbus"}"#,
            #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":4,"unit":"Wh","time":"2999-01-01T00:00:00Z","protocol":"mbus"}"#,
            #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":5,"unit":"Wh","time":"2026-01-05T01:00:00Z","protocol":"mbus"}"#,
        ]
        let input = Array((lines.joined(separator: "\n") + "\n").utf8)
        let r = try Binaries.run("ami-store", ["ingest", "--db", db, "--unknown-meters", "reject"], stdin: input)
        #expect(r.status == 65)
        #expect(Array(r.stderrLines.prefix(4)) == [
            "ami-store: stdin:2: byte 36: json: expected ',' or '}'",
            #"ami-store: stdin:3: byte 65: json: "value" must be a number"#,
            #"ami-store: stdin:4: unknown meter "M9" (not in the registry; --unknown-meters register adds it)"#,
            "ami-store: stdin:5: time 2999-01-01T00:00:00Z is more than 86400 s in the future",
        ])
        let values = try Binaries.run("ami-store", ["query", "--db", db]).stdoutLines.compactMap { json($0)?["value"] as? Int }
        #expect(values == [1, 5])
        // --strict stops at the first bad line; what came before it is kept.
        let db2 = temporaryDB()
        let s = try Binaries.run("ami-store", ["ingest", "--db", db2, "--strict"], stdin: input)
        #expect(s.status == 65)
        #expect(s.stderrLines.first == "ami-store: stdin:2: byte 36: json: expected ',' or '}'")
        #expect(try Binaries.run("ami-store", ["query", "--db", db2]).stdoutLines.count == 1)
    }

    @Test func withoutADatabaseItSaysHowToNameOne() throws {
        let r = try Binaries.shell("env -u AMI_DB ami-store ingest < /dev/null")
        #expect(r.status == 64)
        #expect(r.stderr == "ami-store: no database: give --db FILE or set AMI_DB\n")
        let db = temporaryDB()
        let e = try Binaries.shell("echo '' | AMI_DB=\(db) ami-store ingest && test -f \(db)")
        #expect(e.status == 0)
    }

    @Test func theRegistryGoesInAndOutAsCSV() throws {
        let db = temporaryDB()
        let nodes = "path,level\nACME,company\nACME/North,region\n"
        let meters = "meter,protocol,address,medium,multiplier,installed,removed,status,node,replaces,group,read\nM1,mbus,5,water,1,2020-01-01T00:00:00Z,,active,ACME/North,,north,\n"
        #expect(try Binaries.run("ami-store", ["registry", "import", "--db", db, "--format", "csv"], stdin: Array(nodes.utf8)).status == 0)
        #expect(try Binaries.run("ami-store", ["registry", "import", "--db", db, "--format", "csv"], stdin: Array(meters.utf8)).status == 0)
        #expect(try Binaries.run("ami-store", ["registry", "export", "--db", db, "--format", "csv", "--kind", "nodes"]).stdout == nodes)
        #expect(try Binaries.run("ami-store", ["registry", "export", "--db", db, "--format", "csv", "--kind", "meters"]).stdout == meters)
    }

    // MARK: crashes and concurrency

    /// 15-minute intervals of `meters` meters over `days` days, day by day, with every 7th interval of
    /// every 5th meter left out (a 15-minute gap, interpolated by VEE); values 100–163 Wh.
    static func intervalInput(meters: Int, days: Int) -> [UInt8] {
        var out = ""
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let start = 1_767_225_600   // 2026-01-01T00:00:00Z
        for d in 0..<days {
            for m in 0..<meters {
                for i in 1...96 where !(m % 5 == 0 && i % 7 == 0) {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let t = Date(timeIntervalSince1970: TimeInterval(start + d * 86_400 + i * 900))
                    let time = ISO8601DateFormatter().string(from: t)
                    out += #"{"type":"reading","v":1,"meter":"CRS-\#(String(format: "%08d", m))-01-02","quantity":"energy","value":\#(100 + state >> 58),"unit":"Wh","time":"\#(time)","interval":900,"protocol":"mbus","source":"crash","frame":\#(d)}"# + "\n"
                }
            }
        }
        return Array(out.utf8)
    }

    func launch(_ args: [String], stdin: String, stderr: String) throws -> Process {
        let p = Process()
        p.executableURL = Binaries.folder.appendingPathComponent("ami-store")
        p.arguments = args
        p.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdin))
        _ = FileManager.default.createFile(atPath: stderr, contents: nil)
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return p
    }

    @Test func anIngestKilledAtRandomPointsAndRunAgainLosesAndDoublesNothing() throws {
        let input = Self.intervalInput(meters: 40, days: 12)
        let dir = URL(fileURLWithPath: temporaryDB()).deletingLastPathComponent().path
        let inPath = dir + "/in.jsonl"
        try Data(input).write(to: URL(fileURLWithPath: inPath))
        let total = input.split(separator: 0x0A).count
        // The reference: one uninterrupted run.
        let clean = dir + "/clean.db", crashed = dir + "/crashed.db"
        let ref = try Binaries.shell("ami-store ingest --db \(clean) --chunk 500 < \(inPath)")
        #expect(ref.status == 0)
        let expected = try Binaries.run("ami-store", ["query", "--db", clean]).stdout
        var generator = SystemRandomNumberGenerator()
        var stored = 0
        for round in 0..<6 {
            let p = try launch(["ingest", "--db", crashed, "--chunk", "500"], stdin: inPath, stderr: dir + "/err\(round)")
            usleep(UInt32.random(in: 30_000...1_500_000, using: &generator))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let check = try Binaries.run("ami-store", ["check", "--db", crashed])
            #expect(check.stdout == "schema 3, integrity ok, foreign key errors 0\n", "round \(round)")
            // What was committed stays, and every stored actual reading is one of the input's.
            let now = try Binaries.run("ami-store", ["query", "--db", crashed]).stdoutLines
            #expect(now.count >= stored, "round \(round): \(now.count) readings after \(stored)")
            stored = now.count
            let expectedLines = Set(expected.split(separator: "\n").map { Self.withoutQuality(String($0)) })
            #expect(now.filter { !$0.contains("3.8.0") }.allSatisfy { expectedLines.contains(Self.withoutQuality($0)) }, "round \(round)")
        }
        let rerun = try Binaries.shell("ami-store ingest --db \(crashed) --chunk 500 --summary-json < \(inPath)")
        #expect(rerun.status == 0)
        let s = json(rerun.stderr.trimmingCharacters(in: .newlines))
        #expect((s?["stored"] as? Int ?? 0) + (s?["unchanged"] as? Int ?? 0) + (s?["replaced_estimates"] as? Int ?? 0) == total)
        #expect(try Binaries.run("ami-store", ["query", "--db", crashed]).stdout == expected)
        if let sqlite = which("sqlite3") {
            #expect(try Binaries.shell("\(sqlite) \(crashed) 'PRAGMA integrity_check; SELECT count(*) FROM vee_pending'").stdout == "ok\n0\n")
        }
    }

    /// A stream that trickles in (as from `ami-read listen`) is committed while standard input
    /// stays open: each burst is in the database before the next comes.
    @Test func aStreamThatTricklesInIsStoredBeforeItsEnd() throws {
        let db = temporaryDB()
        let lines = String(decoding: Self.intervalInput(meters: 1, days: 1), as: UTF8.self).split(separator: "\n")
        let p = Process()
        p.executableURL = Binaries.folder.appendingPathComponent("ami-store")
        p.arguments = ["ingest", "--db", db, "--no-vee"]
        let stdin = Pipe()
        p.standardInput = stdin
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Waits (20 s at most) until the database holds `n` readings.
        func stored(_ n: Int) throws -> Bool {
            for _ in 0..<200 {
                if try Binaries.run("ami-store", ["query", "--db", db]).stdoutLines.count == n { return true }
                usleep(100_000)
            }
            return false
        }
        for (burst, end) in [3, 10].enumerated() {
            let start = burst == 0 ? 0 : 3
            stdin.fileHandleForWriting.write(Data((lines[start..<end].joined(separator: "\n") + "\n").utf8))
            #expect(try stored(end), "burst \(burst)")
        }
        try stdin.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
    }

    @Test func twoRunsAtOnceWaitForEachOtherAndCountEverythingOnce() throws {
        let input = Self.intervalInput(meters: 20, days: 6)
        let dir = URL(fileURLWithPath: temporaryDB()).deletingLastPathComponent().path
        let inPath = dir + "/in.jsonl"
        try Data(input).write(to: URL(fileURLWithPath: inPath))
        let clean = dir + "/clean.db", shared = dir + "/shared.db"
        _ = try Binaries.shell("ami-store ingest --db \(clean) --chunk 300 < \(inPath)")
        let a = try launch(["ingest", "--db", shared, "--chunk", "300"], stdin: inPath, stderr: dir + "/a")
        let b = try launch(["ingest", "--db", shared, "--chunk", "300"], stdin: inPath, stderr: dir + "/b")
        a.waitUntilExit()
        b.waitUntilExit()
        #expect(a.terminationStatus == 0)
        #expect(b.terminationStatus == 0)
        #expect(try Binaries.run("ami-store", ["query", "--db", shared]).stdout
                == Binaries.run("ami-store", ["query", "--db", clean]).stdout)
        #expect(try Binaries.run("ami-store", ["check", "--db", shared]).status == 0)
    }

    @Test func aDatabaseHeldTooLongGivesAClearBusyMessage() throws {
        guard let sqlite = which("sqlite3") else { return }
        let db = temporaryDB()
        _ = try Binaries.shell("echo '' | ami-store ingest --db \(db)")
        let r = try Binaries.shell("""
            (echo 'BEGIN IMMEDIATE;'; sleep 3; echo 'COMMIT;') | \(sqlite) \(db) &
            sleep 0.5
            echo '{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"time":"2026-01-05T00:00:00Z","protocol":"mbus"}' \
              | ami-store ingest --db \(db) --busy-timeout 1
            echo "status $?"
            wait
            """)
        #expect(r.stdout == "status 75\n")
        #expect(r.stderr.contains("ami-store: \(db): database is busy: another process kept its write lock past the busy timeout; try again later"))
    }

    /// A reading line without its quality codes (which VEE may not have set yet).
    static func withoutQuality(_ line: String) -> String {
        guard let r = line.range(of: #","quality":\[[^\]]*\]"#, options: .regularExpression) else { return line }
        return line.replacingCharacters(in: r, with: "")
    }

    func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
