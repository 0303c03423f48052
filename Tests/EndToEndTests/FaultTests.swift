import Foundation
import Testing

/// The built tools under faults: killed at random points while billing, a full file system, a
/// read-only database or folder, a database another process holds. Afterwards the database passes
/// `ami-store check`, the ledger balances, nothing acknowledged is lost, and the tool said what
/// happened on stderr with its documented exit status.
@Suite struct FaultTests {
    /// Deterministic kill points: SplitMix64 from a fixed seed.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let meters = 150, days = 20

    final class Fixture {
        let dir: String
        let db: String

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-fault-" + UUID().uuidString).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            db = dir + "/b.db"
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// `meters` meters with hourly readings from 2026-06-01 for `days` days (1–3 kWh an hour),
        /// the credit tariff, and an account on each (prepaid ones topped up with 30.00).
        func populate(prepaid: Bool, meters: Int = FaultTests.meters, days: Int = FaultTests.days) throws {
            var lines = ""
            let start = 1_780_272_000   // 2026-06-01T00:00:00Z
            let f = ISO8601DateFormatter()
            for m in 0..<meters {
                for h in 1...(days * 24) {
                    let t = f.string(from: Date(timeIntervalSince1970: TimeInterval(start + h * 3600)))
                    lines += #"{"type":"reading","v":1,"meter":"F\#(m)","quantity":"energy","value":\#(1000 + (m * 7 + h) % 3 * 1000),"unit":"Wh","interval":3600,"time":"\#(t)","protocol":"mbus"}"# + "\n"
                }
            }
            let r = try Binaries.run("ami-store", ["ingest", "--db", db, "--no-vee"], stdin: Array(lines.utf8))
            #expect(r.status == 0, "\(r.stderr)")
            try BillEndToEndTests.prepaidTariff.write(toFile: dir + "/credit.json", atomically: true, encoding: .utf8)
            let mode = prepaid ? "--prepaid" : ""
            let setup = try Binaries.shell("""
                set -e
                ami-bill tariff add \(dir)/credit.json --db \(db)
                for m in $(seq 0 \(meters - 1)); do
                  ami-bill account add A$m --meter F$m --tariff credit \(mode) --opened 2026-06-01T00:00:00Z --db \(db) 2>/dev/null
                  \(prepaid ? "ami-bill pay A$m 30.00 --reference open-$m --at 2026-06-01T00:00:00Z --db \(db) >/dev/null 2>&1" : "")
                done
                """)
            #expect(setup.status == 0, "\(setup.stderr)")
        }

        func sql(_ query: String, db: String? = nil) throws -> String {
            try Binaries.shell("sqlite3 \(db ?? self.db) \"\(query)\"").stdout
        }

        func check(_ db: String? = nil) throws -> String {
            try Binaries.run("ami-store", ["check", "--db", db ?? self.db]).stdout
        }

        /// Starts `ami-bill args --db db`, stdout and stderr to files in the fixture's folder.
        func launch(_ args: [String], db: String? = nil, name: String) throws -> Process {
            let p = Process()
            p.executableURL = Binaries.folder.appendingPathComponent("ami-bill")
            p.arguments = args + ["--db", db ?? self.db]
            p.standardInput = FileHandle.nullDevice
            for (path, set) in [(dir + "/\(name).out", { p.standardOutput = $0 }), (dir + "/\(name).err", { p.standardError = $0 })]
                as [(String, (FileHandle) -> Void)] {
                _ = FileManager.default.createFile(atPath: path, contents: nil)
                set(try FileHandle(forWritingTo: URL(fileURLWithPath: path)))
            }
            try p.run()
            return p
        }

        /// Runs `ami-bill args` and sends it `signal` (SIGKILL, or SIGTERM, which ends it alike) after
        /// `delay` seconds unless it ended; true when it ended by itself with status 0.
        func runKilled(_ args: [String], after delay: Double, signal: Int32 = SIGKILL, name: String) throws -> Bool {
            let p = try launch(args, name: name)
            usleep(UInt32(delay * 1_000_000))
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            return p.terminationReason == .exit && p.terminationStatus == 0
        }

        /// Seconds one run of `ami-bill args` takes on a copy of the database (to spread the kill points over it).
        func duration(_ args: [String]) throws -> Double {
            let probe = dir + "/probe.db"
            _ = try sql(".backup \(probe)")
            let t0 = Date()
            let p = try launch(args, db: probe, name: "probe")
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return Date().timeIntervalSince(t0)
        }
    }

    static func day(_ d: Int, hour: Int = 12) -> String {
        String(format: "2026-06-%02dT%02d:00:00Z", d + 1, hour)
    }

    /// Ledger facts that hold after any crash: no debit span of an account overlaps another of the
    /// same kind, each account's debits run on from its opening without a gap up to its mark, and
    /// the balance `ami-bill balance` reports is payments and adjustments less debits.
    func ledgerBalances(_ f: Fixture, round: Int) throws {
        #expect(try f.sql("""
            SELECT count(*) FROM ledger a JOIN ledger b ON a.account = b.account AND a.kind = b.kind AND a.id < b.id
            WHERE a.kind IN ('consumption', 'standing') AND a.span_from < b.span_to AND b.span_from < a.span_to
            """) == "0\n", "round \(round): overlapping debits")
        #expect(try f.sql("""
            SELECT count(*) FROM ledger l JOIN account a ON a.id = l.account
            WHERE l.kind IN ('consumption', 'standing') AND l.span_from <> a.opened
              AND NOT EXISTS (SELECT 1 FROM ledger p WHERE p.account = l.account AND p.kind = l.kind AND p.span_to = l.span_from)
            """) == "0\n", "round \(round): a gap in the debits")
        #expect(try f.sql("""
            SELECT count(*) FROM account a WHERE a.debited_to <> ifnull((SELECT max(span_to) FROM ledger l
              WHERE l.account = a.id AND l.kind = 'consumption'), a.opened)
            """) == "0\n", "round \(round): the mark is not the end of the last debit")
        for account in ["A0", "A\(FaultTests.meters / 2)", "A\(FaultTests.meters - 1)"] {
            let o = try Binaries.run("ami-bill", ["balance", account, "--db", f.db]).stdout
            let credit = (try? JSONSerialization.jsonObject(with: Data(o.utf8))) as? [String: Any]
            let sums = try f.sql("""
                SELECT (SELECT ifnull(sum(credit), 0) FROM ledger l JOIN account a ON a.id = l.account
                        WHERE a.name = '\(account)' AND kind IN ('payment', 'adjustment'))
                     + (SELECT ifnull(sum(credit), 0) FROM ledger l JOIN account a ON a.id = l.account
                        WHERE a.name = '\(account)' AND kind IN ('consumption', 'standing', 'recovery', 'debt'))
                """)
            #expect("\(credit?["credit"] as? Int ?? .min)\n" == sums, "round \(round): \(account)")
        }
    }

    static var hasSQLite: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3") }

    @Test(.enabled(if: hasSQLite))
    func prepaidRunsKilledAtRandomPointsDebitEachSpanOnceAndKeepEveryAcknowledgedPayment() throws {
        let f = try Fixture()
        try f.populate(prepaid: true)
        let reference = f.dir + "/reference.db"
        _ = try f.sql(".backup \(reference)")
        let final = Self.day(Self.days, hour: 0)
        let runTime = try f.duration(["run", "--now", final])
        var random = Seeded(state: 20_261_202)
        var acknowledged: [String] = []
        var killedMidway = 0
        for round in 0..<20 {
            let now = Self.day(round % (Self.days - 1), hour: 6 + round % 12)
            let done = try f.runKilled(["run", "--now", now], after: Double.random(in: 0...runTime * 1.1, using: &random),
                                       signal: round % 3 == 2 ? SIGTERM : SIGKILL, name: "run\(round)")
            if !done { killedMidway += 1 }
            #expect(try f.check() == "schema 3, integrity ok, foreign key errors 0\n", "round \(round)")
            try ledgerBalances(f, round: round)
            // A payment that may be killed too: acknowledged when it exited 0.
            let reference = "K\(round)"
            if try f.runKilled(["pay", "A\(round * 7 % Self.meters)", "2.50", "--reference", reference, "--at", now],
                               after: Double.random(in: 0...0.15, using: &random), name: "pay\(round)") {
                acknowledged.append(reference)
            }
        }
        #expect(killedMidway > 0, "some runs were killed before they finished")
        let rerun = try f.launch(["run", "--now", final], name: "final")
        rerun.waitUntilExit()
        #expect(rerun.terminationStatus == 0)
        #expect(try f.check() == "schema 3, integrity ok, foreign key errors 0\n")
        try ledgerBalances(f, round: 20)
        // Every acknowledged payment is on the ledger, once.
        let paid = try f.sql("SELECT reference FROM ledger WHERE reference LIKE 'K%' ORDER BY id").split(separator: "\n").map(String.init)
        #expect(Set(paid).count == paid.count)
        #expect(Set(acknowledged).isSubset(of: Set(paid)), "acknowledged \(acknowledged), on the ledger \(paid)")
        // The same payments and one uninterrupted run on the untouched copy: the same ledger sums per
        // account and kind (debits are month-to-date differences, so they add up whatever the run times).
        let payments = try f.sql("""
            SELECT a.name || ' ' || l.reference || ' ' || l.at FROM ledger l JOIN account a ON a.id = l.account
            WHERE l.reference LIKE 'K%' ORDER BY l.id
            """).split(separator: "\n")
        for p in payments {
            let part = p.split(separator: " ").map(String.init)
            let at = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(part[2])! / 1000))
            #expect(try Binaries.run("ami-bill", ["pay", part[0], "2.50", "--reference", part[1], "--at", at, "--db", reference]).status == 0)
        }
        #expect(try Binaries.run("ami-bill", ["run", "--now", final, "--db", reference]).status == 0)
        let sums = "SELECT a.name, l.kind, sum(l.credit), sum(l.debt) FROM ledger l JOIN account a ON a.id = l.account GROUP BY 1, 2 ORDER BY 1, 2"
        let want = try f.sql(sums, db: reference)
        #expect(want.split(separator: "\n").count >= 3 * Self.meters)
        #expect(try f.sql(sums) == want)
        #expect(try f.sql("SELECT name, debited_to FROM account ORDER BY name") == f.sql("SELECT name, debited_to FROM account ORDER BY name", db: reference))
    }

    @Test(.enabled(if: hasSQLite))
    func postpaidBillingKilledAtRandomPointsStoresEveryBillOnceOrNotAtAll() throws {
        let f = try Fixture()
        try f.populate(prepaid: false)
        let reference = f.dir + "/reference.db"
        _ = try f.sql(".backup \(reference)")
        let args = ["bill", "--from", "2026-06-01", "--to", "2026-06-\(Self.days + 1)"]
        let runTime = try f.duration(args)
        var random = Seeded(state: 9)
        var killedMidway = 0
        for round in 0..<20 {
            if !(try f.runKilled(args, after: Double.random(in: 0...runTime * 1.1, using: &random),
                                 signal: round % 3 == 2 ? SIGTERM : SIGKILL, name: "bill\(round)")) {
                killedMidway += 1
            }
            #expect(try f.check() == "schema 3, integrity ok, foreign key errors 0\n", "round \(round)")
            // The bills of a run are one transaction: all of them, once, or none.
            let stored = try f.sql("SELECT count(*), count(DISTINCT account), ifnull(max(revision), 0) FROM bill")
            #expect(["0|0|0\n", "\(Self.meters)|\(Self.meters)|1\n"].contains(stored), "round \(round): \(stored)")
        }
        #expect(killedMidway > 0)
        let again = try Binaries.run("ami-bill", args + ["--db", f.db])
        #expect(again.status == 0)
        let clean = try Binaries.run("ami-bill", args + ["--db", reference])
        #expect(clean.stdoutLines.count == Self.meters)
        // Same bills (numbered alike: one revision each), same stored totals.
        #expect(again.stdout == clean.stdout)
        let totals = "SELECT a.name, b.revision, b.total FROM bill b JOIN account a ON a.id = b.account ORDER BY 1"
        #expect(try f.sql(totals) == f.sql(totals, db: reference))
    }

    // MARK: the file system and other processes

    /// Runs `script` in a private mount namespace (`unshare --map-root-user --mount`), where it may
    /// mount a small tmpfs or remount a file or folder read-only: real ENOSPC and EROFS, whoever
    /// runs the tests. Nil when the system does not allow unprivileged namespaces.
    static func isolated(_ script: String) throws -> Binaries.Result? {
        guard try Binaries.shell("unshare --map-root-user --mount true").status == 0 else { return nil }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ami-fault-\(UUID().uuidString).sh").path
        try ("set -u\n" + script).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try Binaries.shell("unshare --map-root-user --mount bash \(path)")
    }

    /// The input of the file-system tests: 30 meters, 10 days of 15-minute readings; and what one
    /// clean ingest of it stores.
    static func intervalFiles(_ f: Fixture) throws -> (input: String, expected: String) {
        let input = f.dir + "/in.jsonl"
        try Data(StoreEndToEndTests.intervalInput(meters: 30, days: 10)).write(to: URL(fileURLWithPath: input))
        _ = try Binaries.shell("ami-store ingest --db \(f.dir)/clean.db --chunk 500 < \(input)")
        return (input, try Binaries.run("ami-store", ["query", "--db", f.dir + "/clean.db"]).stdout)
    }

    /// A file system that really is full (a 16 MiB tmpfs filled by a ballast file, in a private
    /// mount namespace): the ingest stops with 74 and SQLite's "database or disk is full", the
    /// database stays sound with what was committed before, an export to the full disk fails with
    /// 74 and leaves no file, and once there is room again a second run stores the rest.
    @Test(.enabled(if: hasSQLite))
    func aFullFileSystemStopsTheToolWithStatus74AndLosesNothingCommitted() throws {
        let f = try Fixture()
        let (input, expected) = try Self.intervalFiles(f)
        guard let r = try Self.isolated("""
            d=\(f.dir); mnt=$d/small; mkdir -p $mnt
            mount -t tmpfs -o size=16m tmpfs $mnt
            head -n 14000 \(input) > $d/first.jsonl
            ami-store ingest --db $mnt/x.db --chunk 500 < $d/first.jsonl 2> $d/first.err; echo "first $?"
            dd if=/dev/zero of=$mnt/ballast bs=64k 2>/dev/null
            truncate -s -256K $mnt/ballast
            ami-store ingest --db $mnt/x.db --chunk 500 < \(input) 2> $d/full.err; echo "full $?"
            ami-store check --db $mnt/x.db; echo "check $?"
            ami-store query --db $mnt/x.db > $d/partial.jsonl; echo "query $?"
            ami-export --to csv -o $mnt/out.csv $d/partial.jsonl 2> $d/export.err; echo "export $?"
            ls -A $mnt | grep -v '^x\\.db' | tr '\\n' ' '; echo "<- left"
            rm $mnt/ballast
            ami-store ingest --db $mnt/x.db --chunk 500 < \(input) 2> $d/again.err; echo "again $?"
            ami-store check --db $mnt/x.db; echo "check $?"
            ami-store query --db $mnt/x.db > $d/final.jsonl; echo "query $?"
            """) else { return }
        let out = r.stdoutLines
        func text(_ name: String) -> String { (try? String(contentsOfFile: f.dir + "/" + name, encoding: .utf8)) ?? "" }
        #expect(out.first == "first 0", "\(r.stdout) \(r.stderr) \(text("first.err"))")
        #expect(out.contains("full 74"), "\(r.stdout) \(r.stderr)")
        #expect(text("full.err").contains("ami-store: \(f.dir)/small/x.db: sqlite: database or disk is full"), "\(text("full.err"))")
        #expect(out.filter { $0 == "check 0" }.count == 2, "\(r.stdout)")
        #expect(out.contains("schema 3, integrity ok, foreign key errors 0"))
        #expect(out.contains("export 74"), "\(r.stdout)")
        #expect(text("export.err").contains("No space left on device"), "\(text("export.err"))")
        #expect(out.contains("ballast <- left"), "no export or temporary file left: \(r.stdout)")
        #expect(out.contains("again 0"), "\(text("again.err"))")
        // What was committed before the disk filled up is there, and the second run completed it.
        let partial = text("partial.jsonl").split(separator: "\n")
        #expect(partial.count >= 10_000)
        let expectedLines = Set(expected.split(separator: "\n").map { StoreEndToEndTests.withoutQuality(String($0)) })
        #expect(partial.filter { !$0.contains("3.8.0") }.allSatisfy { expectedLines.contains(StoreEndToEndTests.withoutQuality(String($0))) })
        #expect(text("final.jsonl") == expected)
    }

    /// Billing on a file system with no room left at all: a payment and a prepaid run say why and
    /// exit 74, the ledger is as it was; with room again, both are done once.
    @Test(.enabled(if: hasSQLite))
    func billingOnAFullFileSystemChangesNothingAndExits74() throws {
        let f = try Fixture()
        try f.populate(prepaid: true, meters: 2, days: 2)
        guard let r = try Self.isolated("""
            d=\(f.dir); mnt=$d/small; mkdir -p $mnt
            mount -t tmpfs -o size=2m tmpfs $mnt
            sqlite3 \(f.db) ".backup $mnt/b.db"
            dd if=/dev/zero of=$mnt/ballast bs=4k 2>/dev/null
            ami-bill pay A0 1.00 --reference FULL --db $mnt/b.db 2> $d/pay.err; echo "pay $?"
            ami-bill run --now 2026-06-02T00:00:00Z --db $mnt/b.db 2> $d/run.err; echo "run $?"
            rm $mnt/ballast
            ami-store check --db $mnt/b.db; echo "check $?"
            sqlite3 $mnt/b.db "SELECT count(*) FROM ledger WHERE reference = 'FULL' OR kind = 'consumption'"
            ami-bill pay A0 1.00 --reference FULL --db $mnt/b.db 2>&1; echo "pay $?"
            ami-bill run --now 2026-06-02T00:00:00Z --db $mnt/b.db > /dev/null; echo "run $?"
            sqlite3 $mnt/b.db "SELECT count(*) FROM ledger WHERE reference = 'FULL'; SELECT count(*) > 0 FROM ledger WHERE kind = 'consumption'"
            """) else { return }
        func text(_ name: String) -> String { (try? String(contentsOfFile: f.dir + "/" + name, encoding: .utf8)) ?? "" }
        #expect(r.stdoutLines.prefix(4) == ["pay 74", "run 74", "schema 3, integrity ok, foreign key errors 0", "check 0"],
                "\(r.stdout) \(r.stderr) \(text("pay.err")) \(text("run.err"))")
        #expect(text("pay.err").contains("No space left on device") || text("pay.err").contains("database or disk is full"), "\(text("pay.err"))")
        #expect(text("run.err").contains("No space left on device") || text("run.err").contains("database or disk is full"), "\(text("run.err"))")
        #expect(Array(r.stdoutLines.dropFirst(4)) == ["0", "ami-bill: A0: paid 1.00 EUR, balance 31.00", "pay 0", "run 0", "1", "1"],
                "\(r.stdout)")
    }

    /// A database file on a read-only mount: reading works; every tool that would write says
    /// "attempt to write a readonly database" and exits 74; nothing changes.
    @Test(.enabled(if: hasSQLite))
    func aReadOnlyDatabaseFileIsReadAndNeverWritten() throws {
        let f = try Fixture()
        try f.populate(prepaid: true, meters: 2, days: 2)
        _ = try f.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        let before = try f.sql("SELECT count(*) FROM ledger; SELECT count(*) FROM reading")
        guard let r = try Self.isolated("""
            db=\(f.db)
            mount --bind $db $db && mount -o remount,bind,ro $db
            ami-store query --db $db > /dev/null; echo "query $?"
            ami-bill balance A0 --db $db > /dev/null; echo "balance $?"
            echo '{"type":"reading","v":1,"meter":"F0","quantity":"energy","value":1,"unit":"Wh","time":"2026-06-03T01:00:00Z","protocol":"mbus"}' \\
              | ami-store ingest --db $db; echo "ingest $?"
            ami-bill pay A0 1.00 --reference R1 --db $db; echo "pay $?"
            ami-bill run --now 2026-06-03T00:00:00Z --db $db; echo "run $?"
            """) else { return }
        #expect(r.stdoutLines == ["query 0", "balance 0", "ingest 74", "pay 74", "run 74"], "\(r.stdout) \(r.stderr)")
        let lines = r.stderrLines
        #expect(lines.count == 3 && lines.allSatisfy { $0.contains("\(f.db): sqlite: attempt to write a readonly database") }, "\(r.stderr)")
        #expect(try f.sql("SELECT count(*) FROM ledger; SELECT count(*) FROM reading") == before)
        #expect(try f.check() == "schema 3, integrity ok, foreign key errors 0\n")
    }

    /// A database in a read-only folder (where SQLite cannot make its WAL files): every tool says
    /// so and exits 74; nothing changes.
    @Test(.enabled(if: hasSQLite))
    func aDatabaseInAReadOnlyFolderIsRefusedWithAReason() throws {
        let f = try Fixture()
        try f.populate(prepaid: true, meters: 2, days: 2)
        _ = try f.sql("PRAGMA wal_checkpoint(TRUNCATE)")
        let before = try f.sql("SELECT count(*) FROM ledger; SELECT count(*) FROM reading")
        guard let r = try Self.isolated("""
            dir=\(f.dir); db=\(f.db)
            mount --bind $dir $dir && mount -o remount,bind,ro $dir
            ami-store query --db $db > /dev/null; echo "query $?"
            ami-store ingest --db $db < /dev/null; echo "ingest $?"
            ami-bill pay A0 1.00 --reference R1 --db $db; echo "pay $?"
            ami-store ingest --db $dir/new.db < /dev/null; echo "new $?"
            """) else { return }
        #expect(r.stdoutLines == ["query 74", "ingest 74", "pay 74", "new 74"], "\(r.stdout) \(r.stderr)")
        #expect(r.stderrLines.count == 4 && r.stderrLines.allSatisfy {
            $0.hasSuffix("sqlite: unable to open database file: its folder \(f.dir) cannot be written (Read-only file system), and SQLite keeps the database's -wal and -shm files there")
        }, "\(r.stderr)")
        #expect(try f.sql("SELECT count(*) FROM ledger; SELECT count(*) FROM reading") == before)
    }

    /// Another process holds the database (`BEGIN EXCLUSIVE` in sqlite3, then Python holding an
    /// exclusive-mode write lock that keeps readers out too): each tool waits its --busy-timeout,
    /// says the database is busy, exits 75 and changes nothing; run again, it does its work once.
    @Test(.enabled(if: hasSQLite))
    func aDatabaseLockedByAnotherProcessGives75AndTheWorkIsDoneOnceLater() throws {
        let f = try Fixture()
        try f.populate(prepaid: true, meters: 2, days: 2)
        let busy = "database is busy: another process kept its write lock past the busy timeout; try again later"
        let reading = #"{"type":"reading","v":1,"meter":"F0","quantity":"energy","value":1,"unit":"Wh","time":"2026-06-04T01:00:00Z","protocol":"mbus"}"#
        let writers = """
            echo '\(reading)' | ami-store ingest --db \(f.db) --busy-timeout 1; echo "ingest $?"
            ami-bill pay A0 1.00 --reference LOCKED --db \(f.db) --busy-timeout 1; echo "pay $?"
            ami-bill run --now 2026-06-03T00:00:00Z --db \(f.db) --busy-timeout 1; echo "run $?"
            ami-bill bill --from 2026-06-01 --to 2026-06-02 --db \(f.db) --busy-timeout 1; echo "bill $?"
            """
        let held = try Binaries.shell("""
            (echo 'BEGIN EXCLUSIVE;'; sleep 8; echo 'COMMIT;') | sqlite3 \(f.db) &
            sleep 0.5
            \(writers)
            wait
            """)
        #expect(held.stdoutLines == ["ingest 75", "pay 75", "run 75", "bill 75"], "\(held.stdout) \(held.stderr)")
        #expect(held.stderrLines.filter { $0.contains(busy) }.count == 4, "\(held.stderr)")
        #expect(try f.sql("SELECT count(*) FROM ledger WHERE reference = 'LOCKED'") == "0\n")
        // Python's sqlite3 in exclusive locking mode, after a write: readers are kept out as well.
        let python = """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('PRAGMA locking_mode = EXCLUSIVE')
            c.execute('BEGIN EXCLUSIVE')
            c.execute("INSERT INTO run(started, who, command) VALUES (0, 'python', 'lock')")
            print('locked', flush=True)
            time.sleep(30)
            """
        try python.write(toFile: f.dir + "/lock.py", atomically: true, encoding: .utf8)
        let exclusive = try Binaries.shell("""
            /usr/bin/python3 \(f.dir)/lock.py \(f.db) > \(f.dir)/lock.out &
            holder=$!
            until grep -q locked \(f.dir)/lock.out 2>/dev/null; do sleep 0.1; done
            ami-store query --db \(f.db) --busy-timeout 1 > /dev/null; echo "query $?"
            ami-bill balance A0 --db \(f.db) --busy-timeout 1 > /dev/null; echo "balance $?"
            \(writers)
            kill $holder; wait
            """)
        #expect(exclusive.stdoutLines == ["query 75", "balance 75", "ingest 75", "pay 75", "run 75", "bill 75"],
                "\(exclusive.stdout) \(exclusive.stderr)")
        #expect(exclusive.stderrLines.filter { $0.contains(busy) }.count == 6, "\(exclusive.stderr)")
        // Free again: the same commands do their work, once.
        let later = try Binaries.shell(writers)
        #expect(later.stdoutLines == ["ingest 0", "pay 0", "run 0", "bill 0"], "\(later.stderr)")
        #expect(try f.sql("SELECT count(*) FROM ledger WHERE reference = 'LOCKED'") == "1\n")
        #expect(try f.check() == "schema 3, integrity ok, foreign key errors 0\n")
    }
}
