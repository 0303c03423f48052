import Foundation
import Testing
@testable import AMICore

@Suite struct SQLiteTests {
    func open(_ dir: String = makeTemporaryDirectory("ami-sqlite"), busyTimeout: Int32 = 10_000) throws -> SQLiteDatabase {
        try SQLiteDatabase(path: dir + "/t.db", busyTimeout: busyTimeout)
    }

    @Test func typedBindsAndColumnsRoundTrip() throws {
        let db = try open()
        try db.execute("CREATE TABLE t(i INTEGER, s TEXT, b BLOB, n INTEGER)")
        try db.run("INSERT INTO t VALUES(?, ?, ?, ?)",
                   [.integer(Int64.min), .text("zählerstand \"1\""), .blob([0, 1, 0xFF]), .null])
        let s = try db.statement("SELECT i, s, b, n FROM t")
        #expect(try s.step())
        #expect(s.int64(0) == Int64.min)
        #expect(s.text(1) == "zählerstand \"1\"")
        #expect(s.blob(2) == [0, 1, 0xFF])
        #expect(s.isNull(3))
        #expect(s.optionalInt64(3) == nil)
        #expect(try !s.step())
    }

    @Test func textBindsFromABufferWithoutAString() throws {
        let db = try open()
        try db.execute("CREATE TABLE t(s TEXT)")
        let bytes = Array("ACW-11490378-0E-16 tail".utf8)
        let s = try db.statement("INSERT INTO t VALUES(?)")
        try bytes.withUnsafeBufferPointer { p throws(SQLiteError) in try s.bind(1, utf8: UnsafeBufferPointer(rebasing: p[0..<18])) }
        try s.step()
        #expect(try db.scalar("SELECT count(*) FROM t WHERE s = 'ACW-11490378-0E-16'") == 1)
    }

    @Test func statementsAreCachedAndReset() throws {
        let db = try open()
        try db.execute("CREATE TABLE t(v INTEGER)")
        let a = try db.statement("INSERT INTO t VALUES(?)")
        for v in 1...5 as ClosedRange<Int64> {
            let s = try db.statement("INSERT INTO t VALUES(?)")
            #expect(s === a)
            try s.bind(1, v)
            try s.step()
        }
        #expect(try db.scalar("SELECT sum(v) FROM t") == 15)
    }

    @Test func errorsCarrySQLitesMessageAndCode() throws {
        let db = try open()
        try db.execute("CREATE TABLE t(v INTEGER PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES(1)")
        do {
            try db.run("INSERT INTO t VALUES(1)")
            Issue.record("no error")
        } catch {
            #expect(error.isConstraint)
            #expect(error.message.contains("UNIQUE constraint failed: t.v"))
        }
        #expect(throws: SQLiteError.self) { try db.statement("SELEC 1") }
        do { _ = try db.statement("SELECT nope FROM t") } catch {
            #expect(error.message == "no such column: nope")
            #expect(error.sql == "SELECT nope FROM t")
        }
    }

    @Test func foreignKeysAreEnforcedAndTheJournalIsWAL() throws {
        let db = try open()
        try db.execute("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p INTEGER REFERENCES p(id))")
        #expect(throws: SQLiteError.self) { try db.run("INSERT INTO c VALUES(7)") }
        let mode = try db.statement("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(mode.text(0) == "wal")
    }

    @Test func aThrowingTransactionRollsBackAndACompleteOneCommits() throws {
        struct Stop: Error {}
        let db = try open()
        try db.execute("CREATE TABLE t(v INTEGER)")
        #expect(throws: Stop.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES(1)")
                throw Stop()
            }
        }
        #expect(!db.inTransaction)
        #expect(try db.scalar("SELECT count(*) FROM t") == 0)
        try db.transaction { try db.run("INSERT INTO t VALUES(2)") }
        #expect(try db.scalar("SELECT sum(v) FROM t") == 2)
    }

    @Test func userVersionIsKept() throws {
        let dir = makeTemporaryDirectory("ami-sqlite")
        do {
            let db = try open(dir)
            #expect(db.userVersion == 0)
            try db.setUserVersion(3)
        }
        #expect(try open(dir).userVersion == 3)
    }

    @Test func aSecondWriterWaitsForTheBusyTimeoutThenFailsAsBusy() throws {
        let dir = makeTemporaryDirectory("ami-sqlite")
        let first = try open(dir)
        try first.execute("CREATE TABLE t(v INTEGER)")
        let second = try open(dir, busyTimeout: 100)
        try first.execute("BEGIN IMMEDIATE")
        do {
            try second.transaction { try second.run("INSERT INTO t VALUES(1)") }
            Issue.record("no busy error")
        } catch let e as SQLiteError {
            #expect(e.isBusy)
            #expect(e.message == "database is locked")
        }
        try first.execute("COMMIT")
        try second.transaction { try second.run("INSERT INTO t VALUES(1)") }
        #expect(try first.scalar("SELECT count(*) FROM t") == 1)
    }

    /// A connection waiting for the write lock holds the turn file's lock while it waits (so that
    /// an ingest pauses for it after a commit) and lets go once its statement has returned.
    @Test func aWaitingWriterHoldsItsTurnUntilItHasTheLock() throws {
        let dir = makeTemporaryDirectory("ami-sqlite")
        let first = try open(dir)
        try first.execute("CREATE TABLE t(v INTEGER)")
        nonisolated(unsafe) let second = try open(dir)
        let probe = Glibc.open(dir + "/t.db-turn", O_RDWR)
        defer { close(probe) }
        #expect(probe >= 0)
        try first.execute("BEGIN IMMEDIATE")
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? second.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES(2); COMMIT")
            done.signal()
        }.start()
        // Up to 10 s for the second connection to start waiting.
        var held = false
        for _ in 0..<1000 {
            if flock(probe, LOCK_EX | LOCK_NB) != 0 { held = true; break }
            flock(probe, LOCK_UN)
            usleep(10_000)
        }
        #expect(held)
        try first.execute("COMMIT")
        done.wait()
        #expect(flock(probe, LOCK_EX | LOCK_NB) == 0)
        #expect(try first.scalar("SELECT count(*) FROM t") == 1)
    }

    @Test func aPassiveCheckpointCopiesTheLogUnlessAReaderStillNeedsPartOfIt() throws {
        let dir = makeTemporaryDirectory("ami-sqlite")
        let db = try open(dir)
        try db.setAutocheckpoint(0)
        #expect(db.autocheckpoint == 0)
        try db.execute("CREATE TABLE t(v INTEGER)")
        try db.transaction { for v in 1...100 as ClosedRange<Int64> { try db.run("INSERT INTO t VALUES(?)", [.integer(v)]) } }
        let first = try db.checkpoint()
        #expect(first.pages > 0)
        #expect(first.complete)
        // A reader of another connection keeps its snapshot: what was written after it stays in the log.
        let reader = try open(dir)
        try reader.execute("BEGIN")
        #expect(try reader.scalar("SELECT count(*) FROM t") == 100)
        try db.transaction { try db.run("INSERT INTO t VALUES(101)") }
        let second = try db.checkpoint()
        #expect(!second.complete)
        try reader.execute("COMMIT")
        #expect(try db.checkpoint().complete)
        #expect(try reader.scalar("SELECT count(*) FROM t") == 101)
    }

    @Test func integrityCheckSaysOK() throws {
        #expect(try open().integrityCheck() == ["ok"])
    }
}
