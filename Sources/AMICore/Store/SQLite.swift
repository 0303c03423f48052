import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A failed SQLite call: the result code, SQLite's own message, and the statement when there was one.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The primary result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT`…), extended codes folded.
    public let code: Int32
    public let message: String
    public let sql: String?

    public init(code: Int32, message: String, sql: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// Another connection holds the write lock longer than the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }
    public var isConstraint: Bool { code == SQLITE_CONSTRAINT }

    public var description: String { message }

    /// What a tool tells its user: for a busy database, what happened and what to do; otherwise
    /// SQLite's message.
    public var explanation: String {
        isBusy ? "database is busy: another process kept its write lock past the busy timeout; try again later"
            : "sqlite: \(message)"
    }

    /// SQLite's message for `rc` on `db`, with the system's reason when an operating-system call
    /// failed (a read-only file system, no space left, no permission). A database that cannot be
    /// opened because its folder cannot be written (where SQLite keeps the `-wal` and `-shm` files)
    /// is reported as such: SQLite's last system error is then about those files, not the database.
    static func message(_ text: String, _ rc: Int32, _ db: OpaquePointer?, path: String) -> String {
        if rc & 0xFF == SQLITE_CANTOPEN {
            let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            if access(folder, W_OK) != 0 {
                return text + ": its folder \(folder) cannot be written (\(String(cString: strerror(errno)))),"
                    + " and SQLite keeps the database's -wal and -shm files there"
            }
        }
        let systemCodes = [SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY, SQLITE_PERM]
        guard systemCodes.contains(rc & 0xFF), let db else { return text }
        let e = sqlite3_system_errno(db)
        return e == 0 ? text : text + " (" + String(cString: strerror(e)) + ")"
    }
}

/// One connection to an SQLite database through the system libsqlite3: prepared statements cached by
/// their text, typed binds and columns, write transactions, a busy timeout, WAL journal and
/// `PRAGMA foreign_keys` on. Not for use from two threads at once.
public final class SQLiteDatabase {
    /// The open connection handle.
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: SQLiteStatement] = [:]
    /// Turns at the write lock with other processes (nil for a read-only connection).
    let turn: WriterTurn?

    /// Opens (creating it unless `readOnly`) the database at `path`; waits up to `busyTimeout`
    /// milliseconds for another connection's lock before failing with `SQLITE_BUSY`.
    public init(path: String, readOnly: Bool = false, busyTimeout: Int32 = 10_000) throws(SQLiteError) {
        _ = SQLiteDatabase.configured
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { SQLiteError.message(String(cString: sqlite3_errmsg($0)), rc, $0, path: path) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc & 0xFF, message: message)
        }
        handle = db
        self.path = path
        turn = readOnly || path.isEmpty || path.hasPrefix(":") || path.hasPrefix("file:") ? nil
            : WriterTurn(databasePath: path, timeout: busyTimeout)
        sqlite3_extended_result_codes(db, 0)
        if let turn {
            sqlite3_busy_handler(db, { context, tries in
                Unmanaged<WriterTurn>.fromOpaque(context!).takeUnretainedValue().busy(tries: tries)
            }, Unmanaged.passUnretained(turn).toOpaque())
        } else {
            sqlite3_busy_timeout(db, busyTimeout)
        }
        try execute("PRAGMA foreign_keys = ON")
        if !readOnly {
            // WAL: readers never block the writer; NORMAL sync is durable against a killed process
            // (the OS keeps what was written) and costs one fsync per checkpoint, not per commit.
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = NORMAL")
        }
    }

    /// Bytes of a statement's journal kept in memory before SQLite writes it to a temporary file.
    static let statementJournalInMemory: Int32 = 4 << 20

    /// Process-wide SQLite options, set once before the first connection (see shim.h).
    private static let configured: Bool = {
        _ = ami_sqlite3_config_multithread()
        _ = ami_sqlite3_config_no_memstatus()
        // An ingest's INSERT of 64 readings of 64 different channels (data of one interval of
        // many meters) changes a leaf page for each: 256 KiB and more of statement journal, which
        // past SQLite's default of 64 KiB went to a temporary file, one write a page.
        _ = ami_sqlite3_config_statement_journal_spill(SQLiteDatabase.statementJournalInMemory)
        return true
    }()

    deinit {
        for s in cache.values { s.finalize() }
        sqlite3_close_v2(handle)
    }

    func error(_ rc: Int32, sql: String? = nil) -> SQLiteError {
        SQLiteError(code: rc & 0xFF, message: SQLiteError.message(String(cString: sqlite3_errmsg(handle)), rc, handle, path: path), sql: sql)
    }

    /// Runs one or more statements that return no rows the caller needs.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if let turn, turn.waiting { turn.stopWaiting() }
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_free(message)
            throw SQLiteError(code: rc & 0xFF, message: SQLiteError.message(text, rc, handle, path: path), sql: sql)
        }
    }

    /// The prepared statement for `sql`, compiled once per connection and reset for reuse.
    public func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let s = cache[sql] {
            s.reset()
            return s
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
        let s = SQLiteStatement(stmt, database: self, sql: sql)
        cache[sql] = s
        return s
    }

    /// Runs `sql` with `values` bound in order and steps it to completion.
    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) {
        let s = try statement(sql)
        try s.bind(values)
        while try s.step() {}
    }

    /// The first column of the first row of `sql`, or nil when there is no row or it is NULL.
    public func scalar(_ sql: String, _ values: [SQLiteValue] = []) throws(SQLiteError) -> Int64? {
        let s = try statement(sql)
        try s.bind(values)
        guard try s.step(), !s.isNull(0) else { return nil }
        let v = s.int64(0)
        s.reset()
        return v
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    /// True while a transaction is open.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// `PRAGMA user_version`: the schema version the migrations have reached.
    public var userVersion: Int {
        get { Int((try? scalar("PRAGMA user_version")) ?? 0) }
    }

    public func setUserVersion(_ v: Int) throws(SQLiteError) { try execute("PRAGMA user_version = \(v)") }

    /// `PRAGMA wal_autocheckpoint`: the length of the log, in pages, from which a commit of this
    /// connection copies it into the database (0: never).
    public var autocheckpoint: Int { Int((try? scalar("PRAGMA wal_autocheckpoint")) ?? 0) }

    public func setAutocheckpoint(_ v: Int) throws(SQLiteError) { try execute("PRAGMA wal_autocheckpoint = \(v)") }

    public enum TransactionKind: String { case deferred = "DEFERRED", immediate = "IMMEDIATE" }

    /// Runs `body` in a transaction (IMMEDIATE by default: the write lock is taken, or waited for,
    /// at the start), committed when `body` returns and rolled back when it throws.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        try execute("BEGIN \(kind.rawValue)")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// A passive checkpoint: copies what it can of the write-ahead log into the database file
    /// without waiting for other connections (a writer goes on meanwhile). Returns the pages in the
    /// log, and whether all of them are in the database now (then the next transaction to begin
    /// writes the log from its start again).
    public func checkpoint() throws(SQLiteError) -> (pages: Int, complete: Bool) {
        var log: Int32 = 0, copied: Int32 = 0
        let rc = sqlite3_wal_checkpoint_v2(handle, nil, SQLITE_CHECKPOINT_PASSIVE, &log, &copied)
        guard rc == SQLITE_OK else { throw error(rc) }
        return (Int(log), log == copied)
    }

    /// `PRAGMA integrity_check`: `["ok"]` when the database is sound, else SQLite's findings.
    public func integrityCheck() throws(SQLiteError) -> [String] {
        let s = try statement("PRAGMA integrity_check")
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }
}

/// A value to bind to a statement parameter.
public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case blob([UInt8])
}

extension SQLiteValue: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(stringLiteral value: String) { self = .text(value) }
    public init(_ v: Int?) { self = v.map { .integer(Int64($0)) } ?? .null }
    public init(_ v: Int64?) { self = v.map { .integer($0) } ?? .null }
    public init(_ v: String?) { self = v.map { .text($0) } ?? .null }
}

/// A prepared statement, owned by its database's cache. Parameters are 1-based, columns 0-based.
public final class SQLiteStatement {
    let stmt: OpaquePointer
    unowned let database: SQLiteDatabase
    public let sql: String

    init(_ stmt: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.stmt = stmt
        self.database = database
        self.sql = sql
    }

    func finalize() { sqlite3_finalize(stmt) }

    /// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`), so the caller's buffer may go away.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw database.error(rc, sql: sql) }
    }

    /// Makes the statement ready to run again and clears its bindings.
    public func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    public func bind(_ i: Int32, _ v: Int64) throws(SQLiteError) { try check(sqlite3_bind_int64(stmt, i, v)) }

    public func bind(_ i: Int32, _ v: Int64?) throws(SQLiteError) {
        if let v { try bind(i, v) } else { try bindNull(i) }
    }

    public func bind(_ i: Int32, _ v: String?) throws(SQLiteError) {
        guard let v else { return try bindNull(i) }
        try check(sqlite3_bind_text(stmt, i, v, -1, Self.transient))
    }

    /// Binds UTF-8 text straight from a buffer (no String made).
    public func bind(_ i: Int32, utf8 v: UnsafeBufferPointer<UInt8>) throws(SQLiteError) {
        let p = UnsafeRawPointer(v.baseAddress) ?? UnsafeRawPointer(bitPattern: 1)!
        try check(sqlite3_bind_text(stmt, i, p.assumingMemoryBound(to: CChar.self), Int32(v.count), Self.transient))
    }

    public func bind(_ i: Int32, blob v: [UInt8]) throws(SQLiteError) {
        let rc = v.withUnsafeBytes { b in
            sqlite3_bind_blob(stmt, i, b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, Int32(b.count), Self.transient)
        }
        try check(rc)
    }

    public func bindNull(_ i: Int32) throws(SQLiteError) { try check(sqlite3_bind_null(stmt, i)) }

    public func bind(_ i: Int32, _ v: SQLiteValue) throws(SQLiteError) {
        switch v {
        case .null: try bindNull(i)
        case .integer(let n): try bind(i, n)
        case .text(let s): try bind(i, s)
        case .blob(let b): try bind(i, blob: b)
        }
    }

    /// Binds `values` to parameters 1, 2, …
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (k, v) in values.enumerated() { try bind(Int32(k + 1), v) }
    }

    /// Advances: true when a row is available, false when done (the statement is then reset, its
    /// bindings kept). A failed step resets the statement and throws SQLite's message.
    @discardableResult
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(stmt)
        if let turn = database.turn, turn.waiting { turn.stopWaiting() }
        if rc == SQLITE_ROW { return true }
        sqlite3_reset(stmt)
        if rc == SQLITE_DONE { return false }
        throw database.error(rc, sql: sql)
    }

    public func isNull(_ c: Int32) -> Bool { sqlite3_column_type(stmt, c) == SQLITE_NULL }
    public func int64(_ c: Int32) -> Int64 { sqlite3_column_int64(stmt, c) }
    public func optionalInt64(_ c: Int32) -> Int64? { isNull(c) ? nil : int64(c) }

    public func text(_ c: Int32) -> String? {
        guard let p = sqlite3_column_text(stmt, c) else { return nil }
        let n = Int(sqlite3_column_bytes(stmt, c))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    public func blob(_ c: Int32) -> [UInt8]? {
        guard let p = sqlite3_column_blob(stmt, c) else { return isNull(c) ? nil : [] }
        let n = Int(sqlite3_column_bytes(stmt, c))
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
