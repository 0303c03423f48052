#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An ami-store database: opened (and migrated to the newest schema), with the lookups every
/// command shares: runs, the audit log, sources, meters and channels.
public final class MeterStore {
    public let db: SQLiteDatabase
    /// Who changes things, for the audit log (see `user(environment:)`).
    public let who: String
    let qualityCodes: QualityCodes

    /// The database named by `--db`, else `$AMI_DB`; nil when neither is given.
    public static func path(option: String?, environment: [String: String]) -> String? {
        if let o = option, !o.isEmpty { return o }
        if let e = environment["AMI_DB"], !e.isEmpty { return e }
        return nil
    }

    /// The user named in the audit log: `$AMI_USER`, else `$USER`, else the account's name, else the uid.
    public static func user(environment: [String: String]) -> String {
        if let u = environment["AMI_USER"], !u.isEmpty { return u }
        if let u = environment["USER"], !u.isEmpty { return u }
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid \(getuid())"
    }

    public init(path: String, who: String, busyTimeout: Int32 = 10_000, readOnly: Bool = false) throws {
        db = try SQLiteDatabase(path: path, readOnly: readOnly, busyTimeout: busyTimeout)
        self.who = who
        // A page cache that holds the last page of every channel being written (128 MiB).
        try db.execute("PRAGMA cache_size = -131072")
        if !readOnly { try StoreSchema.migrate(db) } else if db.userVersion != StoreSchema.version {
            throw StoreError("\(path): not an ami-store database of schema version \(StoreSchema.version)")
        }
        qualityCodes = try QualityCodes(db)
    }

    /// Milliseconds since the epoch, now.
    public static func now() -> UTCTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTime(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    // MARK: runs and audit

    /// Records the start of a run (its own transaction) and returns its id.
    public func beginRun(command: String) throws -> Int64 {
        try db.transaction {
            try db.run("INSERT INTO run(started, who, command) VALUES (?, ?, ?)",
                       [.integer(MeterStore.now().milliseconds), .text(who), .text(command)])
            return db.lastInsertRowID
        }
    }

    /// Records the end of a run with its summary (JSON) and an audit entry.
    public func finishRun(_ run: Int64, failed: Bool, summary: String) throws {
        try db.transaction {
            try db.run("UPDATE run SET finished = ?, status = ?, summary = ? WHERE id = ?",
                       [.integer(MeterStore.now().milliseconds), .text(failed ? "failed" : "done"), .text(summary),
                        .integer(run)])
            try audit(run: run, action: "run", entity: "run", key: String(run), old: nil, new: summary)
        }
    }

    /// One audit-log entry (inside the caller's transaction).
    public func audit(run: Int64?, action: String, entity: String, key: String, old: String?, new: String?) throws(SQLiteError) {
        try db.run("INSERT INTO audit(at, who, run, action, entity, key, old, new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [.integer(MeterStore.now().milliseconds), .text(who), SQLiteValue(run), .text(action),
                    .text(entity), .text(key), SQLiteValue(old), SQLiteValue(new)])
    }

    // MARK: sources

    private var sourceIDs: [SourceKey: Int64] = [:]
    private var sourceNames: [Int64: SourceKey] = [:]
    private var lastSource: (key: SourceKey, id: Int64)?

    struct SourceKey: Hashable {
        var protocolName: String
        var name: String
    }

    /// The id of a (protocol, source) pair, added when new (inside the caller's transaction).
    func sourceID(protocolName: String, name: String) throws(SQLiteError) -> Int64 {
        if let last = lastSource, last.key.name == name, last.key.protocolName == protocolName { return last.id }
        let key = SourceKey(protocolName: protocolName, name: name)
        if let id = sourceIDs[key] {
            lastSource = (key, id)
            return id
        }
        let text = protocolName + " " + name
        if let id = try db.scalar("SELECT id FROM source WHERE name = ?", [.text(text)]) {
            sourceIDs[key] = id
            return id
        }
        try db.run("INSERT INTO source(name) VALUES (?)", [.text(text)])
        let id = db.lastInsertRowID
        sourceIDs[key] = id
        return id
    }

    /// The protocol and source name of a source id.
    func source(_ id: Int64) throws(SQLiteError) -> SourceKey? {
        if let k = sourceNames[id] { return k }
        let s = try db.statement("SELECT name FROM source WHERE id = ?")
        try s.bind(1, id)
        guard try s.step(), let text = s.text(0) else { return nil }
        s.reset()
        guard let space = text.firstIndex(of: " ") else { return nil }
        let k = SourceKey(protocolName: String(text[..<space]), name: String(text[text.index(after: space)...]))
        sourceNames[id] = k
        return k
    }

    /// Forgets cached ids after a rolled-back transaction (they may name rows that are gone).
    func forgetCaches() throws(SQLiteError) {
        sourceIDs = [:]
        sourceNames = [:]
        lastSource = nil
        try qualityCodes.reload(db)
    }

    // MARK: settings

    public func setting(_ name: String) throws(SQLiteError) -> String? {
        let s = try db.statement("SELECT value FROM setting WHERE name = ?")
        try s.bind(1, name)
        guard try s.step() else { return nil }
        let v = s.text(0)
        s.reset()
        return v
    }

    /// Sets a setting, with an audit entry.
    public func setSetting(_ name: String, _ value: String) throws {
        try db.transaction {
            let old = try setting(name)
            try db.run("INSERT INTO setting(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                       [.text(name), .text(value)])
            if old != value { try audit(run: nil, action: "update", entity: "setting", key: name, old: old, new: value) }
        }
    }

    /// Deletes archived frames stored longer ago than `frame_retention_days`; returns how many.
    @discardableResult
    public func pruneFrames(now: UTCTime = MeterStore.now()) throws -> Int {
        guard let text = try setting("frame_retention_days"), let days = Int64(text), days >= 0 else {
            throw StoreError("setting frame_retention_days is not a whole number of days")
        }
        return try db.transaction {
            try db.run("DELETE FROM frame WHERE stored < ?", [.integer(now.milliseconds - days * 86_400_000)])
            return db.changes
        }
    }
}
