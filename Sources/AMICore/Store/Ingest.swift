/// What to do with a reading or event of a meter the registry does not have.
public enum UnknownMeterPolicy: String, Sendable, CaseIterable {
    /// Add the meter (status active, `registered` = auto).
    case register
    /// Refuse the record as a bad line.
    case reject
}

public struct IngestOptions: Sendable {
    public var unknownMeters = UnknownMeterPolicy.register
    /// The time given to readings and events that carry none; without it they are not stored.
    public var readTime: UTCTime?
    /// The time against which "too far in the future" is judged.
    public var now = MeterStore.now()
    /// Records per transaction.
    public var chunkSize = 200_000
    public var config = VEEConfig()
    public init() {}

    /// When a record is stored: at its own time, else at `readTime`; undated without either;
    /// refused when later than `now` by more than `config.maxFuture` seconds.
    enum RecordTime: Sendable {
        case at(UTCTime)
        case undated
        case future(UTCTime)
    }

    func recordTime(_ t: UTCTime?) -> RecordTime {
        guard let t = t ?? readTime else { return .undated }
        return t.milliseconds > now.milliseconds + config.maxFuture * 1000 ? .future(t) : .at(t)
    }
}

/// What an ingest run read and did.
public struct IngestSummary: Sendable, Equatable {
    public var lines = 0
    public var readings = 0
    public var events = 0
    public var frames = 0
    /// Records of other types (passed over) and blank lines.
    public var other = 0
    /// Lines refused (malformed, wrong type, unknown meter, time in the future).
    public var rejected = 0
    /// Readings and events without a time (and no `--read-time`): not stored.
    public var undated = 0
    /// Readings stored that were not there before.
    public var stored = 0
    /// Readings already stored with the same value.
    public var unchanged = 0
    /// Estimates replaced by actual readings.
    public var replacedEstimates = 0
    /// Actual readings replaced by a different value (a correction); the old value is kept in history.
    public var corrected = 0
    /// Readings whose value was replaced before (a replay of old data): not stored again.
    public var superseded = 0
    public var eventsStored = 0
    public var framesStored = 0
    public var metersRegistered = 0
    public init() {}
}

/// One ingest run: records go in line by line, in transactions of `chunkSize` records; channels
/// touched are queued for VEE (`vee_pending`) in the same transactions, so a run killed at any point
/// and run again stores everything exactly once.
public final class Ingest {
    public let store: MeterStore
    public let options: IngestOptions
    public let run: Int64
    /// The counts, and below the rows waiting to be inserted: touched for every reading, and
    /// not checked for exclusive access at run time (which would cost about a tenth of the
    /// storing thread's own work): only this class's methods change them, never through an
    /// `inout` that could overlap another access.
    @exclusivity(unchecked) public private(set) var summary = IngestSummary()
    private var db: SQLiteDatabase { store.db }
    private var inTransaction = false
    private var recordsInTransaction = 0
    private var pending: [Int64: (first: Int64, last: Int64)] = [:]
    /// The VEE range of the channel written last (streams write one channel many times in a row).
    private var pendingLast: (channel: Int64, first: Int64, last: Int64)?
    /// Readings not yet inserted.
    @exclusivity(unchecked) private var rows: [Row] = []
    /// Every buffered row comes after its channel's latest stored time.
    private var rowsAppendOnly = true
    private var insertStatements: [Int: SQLiteStatement] = [:]
    private var meters: [String: MeterRef] = [:]
    private var channels: [ChannelKey: ChannelRef] = [:]
    private let reader = JSONLineReader()
    private var preparer: IngestPreparer
    /// Copies the log into the database meanwhile, in place of SQLite's checkpoint after each commit.
    private var checkpointer: Checkpointer?
    /// `PRAGMA wal_autocheckpoint` before the run, put back by `finish()`.
    private var autocheckpoint: Int?
    /// The channel of the last reading, with its ids: streams repeat it line after line.
    private var lastTarget: (channel: ReadingChannel, target: Target)?
    /// The ids of the channels resolved in this run (as many as an `IngestPreparer` keeps), by
    /// the identity of their `ReadingChannel` (held, so that the identity is not reused).
    private var targets: [ObjectIdentifier: (channel: ReadingChannel, target: Target)] = [:]

    struct MeterRef {
        var id: Int64
        var replaces: Int64?
    }

    /// The ids a `ReadingChannel` resolves to.
    struct Target {
        var channel: ChannelRef
        var source: Int64
    }

    /// A channel as this run knows it. A class: the cached copies share `latest`.
    final class ChannelRef {
        let id: Int64
        let exponent: Int
        /// The latest time stored for the channel as far as this run knows (by its reads and writes):
        /// readings after it cannot collide with stored ones.
        var latest: Int64

        init(id: Int64, exponent: Int, latest: Int64) {
            self.id = id
            self.exponent = exponent
            self.latest = latest
        }
    }

    struct ChannelKey: Hashable {
        var meter: Int64
        var quantity: String
        var obis: String?
        var storage: Int?
        var tariff: Int?
        var subunit: Int?
        var function: String?
        var unit: String?
        var note: String?
        var interval: Int

        init(meter: Int64, _ c: ReadingChannel) {
            self.meter = meter
            quantity = c.quantity.rawValue
            obis = c.obis
            storage = c.storage
            tariff = c.tariff
            subunit = c.subunit
            function = c.function?.rawValue
            unit = c.unit?.rawValue
            note = c.note
            interval = c.interval
        }

        var bindings: [SQLiteValue] {
            [.integer(meter), .text(quantity), SQLiteValue(obis), SQLiteValue(storage), SQLiteValue(tariff),
             SQLiteValue(subunit), SQLiteValue(function), SQLiteValue(unit), SQLiteValue(note),
             .integer(Int64(interval))]
        }
    }

    /// A line that was refused, with why.
    public struct Rejection: Error, Sendable, Equatable {
        public let message: String
        public init(_ message: String) { self.message = message }
    }

    public init(store: MeterStore, options: IngestOptions, run: Int64) {
        self.store = store
        self.options = options
        self.run = run
        preparer = IngestPreparer(options: options)
        let pages = store.db.autocheckpoint
        if pages > 0, let c = Checkpointer(for: store.db) {
            checkpointer = c
            autocheckpoint = pages
        }
    }

    deinit { try? finish() }

    /// Ends the run's background checkpoints (see `Checkpointer`) and lets SQLite checkpoint
    /// after each commit again. The ingest can still store lines afterwards.
    public func finish() throws {
        checkpointer?.stop()
        checkpointer = nil
        if let pages = autocheckpoint {
            autocheckpoint = nil
            try db.setAutocheckpoint(pages)
        }
    }

    // MARK: lines

    /// Reads one JSON line and stores what it holds. A bad line throws `Rejection` and changes
    /// nothing; other errors (SQLite) are fatal to the run.
    public func ingest(line: UnsafeBufferPointer<UInt8>, source: String) throws {
        try store(preparer.item(Result { () throws(DecodeError) in try reader.parse(line, source: source) }))
    }

    /// Stores a line parsed and prepared beforehand (by a `JSONLineReader` and an `IngestPreparer`
    /// of another thread, say), as `ingest(line:)`.
    public func store(_ item: consuming IngestItem) throws {
        summary.lines += 1
        do {
            switch item {
            case .reading(let r): try reading(r)
            case .line(.failure(let error)):
                throw Rejection("byte \(error.offset): \(error.layer.rawValue): \(error.message)")
            case .blank, .line(.success(.blank)), .line(.success(.other)): summary.other += 1
            case .line(.success(.record(.reading(let r)))): try reading(preparer.prepare(r))
            case .line(.success(.record(.event(let e)))): try event(e)
            case .line(.success(.record(.frame(let f)))): try frame(f)
            }
        } catch let r as Rejection {
            summary.rejected += 1
            throw r
        }
        if inTransaction && recordsInTransaction >= options.chunkSize { try commit() }
    }

    /// Commits the open transaction (with the VEE queue), if any.
    public func commit() throws {
        guard inTransaction else { return }
        do {
            try flushRows()
            flushPendingLast()
            let s = try db.statement("""
                INSERT INTO vee_pending(channel, first, last) VALUES (?, ?, ?)
                ON CONFLICT(channel) DO UPDATE SET first = min(first, excluded.first), last = max(last, excluded.last)
                """)
            for (channel, range) in pending {
                try s.bind(1, channel)
                try s.bind(2, range.first)
                try s.bind(3, range.last)
                try s.step()
            }
            try db.execute("COMMIT")
            try db.execute("PRAGMA foreign_keys = ON")
            // Another process's writer waiting for its turn gets it before the next transaction.
            db.turn?.yieldIfWaitedFor()
        } catch {
            try abandon()
            throw error
        }
        pending.removeAll(keepingCapacity: true)
        inTransaction = false
        recordsInTransaction = 0
    }

    /// Rolls back the open transaction and forgets every id cached during it.
    public func abandon() throws {
        if db.inTransaction { try db.execute("ROLLBACK") }
        try db.execute("PRAGMA foreign_keys = ON")
        inTransaction = false
        recordsInTransaction = 0
        pending.removeAll()
        pendingLast = nil
        rows.removeAll()
        rowsAppendOnly = true
        meters.removeAll()
        channels.removeAll()
        lastTarget = nil
        targets.removeAll()
        try store.forgetCaches()
    }

    /// Opens a transaction, without foreign-key checks: every id this run writes into a row (meter,
    /// channel, source) is one it read from or inserted into this database, and no ami-store command
    /// deletes a meter, channel or source, so the two lookups SQLite would make for each reading
    /// cannot fail. (`PRAGMA foreign_keys` only changes outside a transaction; `ami-store check`
    /// verifies the keys.)
    private func begin() throws {
        guard !inTransaction else { return }
        checkpointer?.beforeBegin()
        try db.execute("PRAGMA foreign_keys = OFF")
        try db.execute("BEGIN IMMEDIATE")
        inTransaction = true
    }

    // MARK: records

    /// The time a record is stored under, or nil when it has none (counted as undated).
    private func storedTime(_ t: IngestOptions.RecordTime) throws -> UTCTime? {
        switch t {
        case .at(let t): return t
        case .undated:
            summary.undated += 1
            return nil
        case .future(let t): throw Rejection("time \(t) is more than \(options.config.maxFuture) s in the future")
        }
    }

    private func reading(_ r: PreparedReading) throws {
        summary.readings += 1
        guard let time = try storedTime(r.time)?.milliseconds else { return }
        try begin()
        var flags = r.offGrid ? QualityFlag.clock.rawValue : 0
        if !r.quality.isEmpty { flags |= try store.qualityCodes.flags(r.quality, db: db) }
        let target: Target
        if let last = lastTarget, last.channel === r.channel {
            target = last.target
        } else if let known = targets[ObjectIdentifier(r.channel)] {
            target = known.target
            lastTarget = known
        } else {
            target = try resolve(r.channel, value: r.value)
            lastTarget = (r.channel, target)
            if targets.count == IngestPreparer.maxChannels { targets.removeAll() }
            targets[ObjectIdentifier(r.channel)] = lastTarget
        }
        let channel = target.channel
        var value: Int64?
        var exponent = 0
        var text: String?
        switch r.value {
        case .number(let d):
            if let v = d.integer(atScale: channel.exponent) {
                value = v
                exponent = channel.exponent
            } else {
                let n = d.normalized
                value = n.significand
                exponent = n.exponent
            }
        case .text(let t): text = t
        }
        recordsInTransaction += 1
        let row = Row(channel: channel.id, time: time, value: value, exponent: exponent, text: text,
                      quality: flags, source: target.source, frame: r.frame)
        if row.time > channel.latest {
            // After everything stored and buffered for the channel: no collision possible.
            channel.latest = row.time
        } else {
            rowsAppendOnly = false
            // The same key twice in one batch: the first goes in before the second is compared with it.
            if rows.contains(where: { $0.channel == row.channel && $0.time == row.time }) { try flushRows() }
        }
        rows.append(row)
        if rows.count == Self.rowsPerInsert { try flushRows() }
    }

    /// The channel (registering its meter, and adding the channel, when new) and source of `c`.
    private func resolve(_ c: ReadingChannel, value: ReadingValue) throws -> Target {
        let protocolName = c.protocolID.rawValue
        let meter = try meterRef(c.meter, protocolName: protocolName, medium: c.medium, source: c.source)
        let channel = try channelRef(ChannelKey(meter: meter.id, c), meter: meter, value: value)
        return Target(channel: channel, source: try store.sourceID(protocolName: protocolName, name: c.source))
    }

    /// A reading ready for the `reading` table.
    struct Row {
        var channel: Int64
        var time: Int64
        var value: Int64?
        var exponent: Int
        var text: String?
        var quality: Int64
        var source: Int64
        var frame: Int64
    }

    /// Readings go in by multi-row INSERTs of this many rows (fewer statement runs per reading).
    static let rowsPerInsert = 64

    /// Inserts the buffered rows. When each comes after its channel's latest stored time (readings
    /// arriving in order), one plain INSERT does; otherwise (or when another process stored some of
    /// those times meanwhile) each row whose key is taken, which `RETURNING` leaves out, is compared
    /// with what is stored.
    func flushRows() throws {
        guard !rows.isEmpty else { return }
        if rowsAppendOnly {
            do {
                try bindRows(try insertStatement(rows: rows.count, appending: true))
                summary.stored += rows.count
                for r in rows { queue(r.channel, r.time) }
                rows.removeAll(keepingCapacity: true)
                return
            } catch let e as SQLiteError where e.isConstraint {
                rowsAppendOnly = false
            }
        }
        rowsAppendOnly = true
        let n = rows.count
        let s = try insertStatement(rows: n, appending: false)
        try bindRows(s, step: false)
        var inserted = 0
        var taken = [Bool](repeating: false, count: n)
        // RETURNING gives the inserted rows in the order of the VALUES.
        var next = 0
        while try s.step() {
            let channel = s.int64(0), time = s.int64(1)
            while next < n && !(rows[next].channel == channel && rows[next].time == time) { next += 1 }
            if next < n { taken[next] = true }
            inserted += 1
        }
        summary.stored += inserted
        let batch = rows
        rows.removeAll(keepingCapacity: true)
        for (i, r) in batch.enumerated() {
            if taken[i] {
                queue(r.channel, r.time)
            } else {
                try replaceIfNewer(channel: r.channel, time: r.time,
                                   StoredValue(value: r.value, exponent: r.exponent, text: r.text, quality: r.quality),
                                   source: r.source, frame: r.frame)
            }
        }
    }

    /// Binds the buffered rows to `s`, and runs it unless `step` is false.
    private func bindRows(_ s: SQLiteStatement, step: Bool = true) throws {
        try rows.withUnsafeBufferPointer { rows throws(SQLiteError) in
            for i in rows.indices {
                let k = Int32(i * 8 + 1)
                try s.bind(k, rows[i].channel)
                try s.bind(k + 1, rows[i].time)
                try s.bind(k + 2, rows[i].value)
                try s.bind(k + 3, Int64(rows[i].exponent))
                try s.bind(k + 4, rows[i].text)
                try s.bind(k + 5, rows[i].quality)
                try s.bind(k + 6, rows[i].source)
                try s.bind(k + 7, rows[i].frame)
            }
        }
        if step { try s.step() }
    }

    /// The INSERT of `n` rows, prepared once per size and kind.
    private func insertStatement(rows n: Int, appending: Bool) throws -> SQLiteStatement {
        let key = appending ? -n : n
        if let s = insertStatements[key] { return s }
        let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", ")
        let s = try db.statement("""
            INSERT INTO reading(channel, time, value, exponent, text, quality, source, frame) VALUES \(values)
            \(appending ? "" : "ON CONFLICT(channel, time) DO NOTHING RETURNING channel, time")
            """)
        insertStatements[key] = s
        return s
    }

    /// A stored value as the comparisons need it.
    struct StoredValue: Equatable {
        var value: Int64?
        var exponent: Int
        var text: String?
        var quality: Int64

        /// Same number (whatever the exponents) or same text.
        func sameReading(as o: StoredValue) -> Bool {
            guard text == o.text else { return false }
            switch (value, o.value) {
            case (nil, nil): return true
            case (let a?, let b?): return ExactDecimal(a, exponent: exponent) == ExactDecimal(b, exponent: o.exponent)
            default: return false
            }
        }

        var isEstimateOrMissing: Bool {
            quality & (QualityFlag.estimated.rawValue | QualityFlag.missing.rawValue) != 0
        }

        var auditText: String {
            var s = text.map { "text \($0)" } ?? value.map { "value \(ExactDecimal($0, exponent: exponent))" } ?? "no value"
            if quality != 0 { s += " quality 0x" + String(quality, radix: 16) }
            return s
        }
    }

    /// The reading already stored at (channel, time) meets a new one: keep it, or move it to
    /// history and store the new one (an actual replacing an estimate, or a correction never seen
    /// before).
    private func replaceIfNewer(channel: Int64, time: Int64, _ incoming: StoredValue, source: Int64, frame: Int64) throws {
        let s = try db.statement("SELECT value, exponent, text, quality FROM reading WHERE channel = ? AND time = ?")
        try s.bind(1, channel)
        try s.bind(2, time)
        guard try s.step() else { throw StoreError("reading of channel \(channel) at \(time) vanished") }
        let existing = StoredValue(value: s.optionalInt64(0), exponent: Int(s.int64(1)), text: s.text(2), quality: s.int64(3))
        s.reset()
        if incoming.sameReading(as: existing) && !existing.isEstimateOrMissing {
            summary.unchanged += 1
            return
        }
        let action: String
        if existing.isEstimateOrMissing {
            guard !incoming.isEstimateOrMissing else {
                summary.unchanged += 1
                return
            }
            action = "replace-estimate"
            summary.replacedEstimates += 1
        } else {
            let seen = try history(channel: channel, time: time).contains { incoming.sameReading(as: $0) }
            if incoming.isEstimateOrMissing || seen {
                summary.superseded += 1
                return
            }
            action = "correct"
            summary.corrected += 1
        }
        try store.moveToHistory(channel: channel, time: time, run: run)
        try db.run("UPDATE reading SET value = ?, exponent = ?, text = ?, quality = ?, source = ?, frame = ? WHERE channel = ? AND time = ?",
                   [SQLiteValue(incoming.value), .integer(Int64(incoming.exponent)), SQLiteValue(incoming.text),
                    .integer(incoming.quality), .integer(source), .integer(frame), .integer(channel), .integer(time)])
        try store.audit(run: run, action: action, entity: "reading", key: "channel \(channel) at \(UTCTime(milliseconds: time))",
                        old: existing.auditText, new: incoming.auditText)
        queue(channel, time)
    }

    private func history(channel: Int64, time: Int64) throws -> [StoredValue] {
        let s = try db.statement("SELECT value, exponent, text, quality FROM reading_history WHERE channel = ? AND time = ?")
        try s.bind(1, channel)
        try s.bind(2, time)
        var out: [StoredValue] = []
        while try s.step() {
            out.append(StoredValue(value: s.optionalInt64(0), exponent: Int(s.int64(1)), text: s.text(2), quality: s.int64(3)))
        }
        return out
    }

    private func queue(_ channel: Int64, _ time: Int64) {
        if let r = pendingLast, r.channel == channel {
            pendingLast = (channel, min(r.first, time), max(r.last, time))
            return
        }
        flushPendingLast()
        pendingLast = (channel, time, time)
    }

    /// Moves the range of the channel written last into `pending`.
    private func flushPendingLast() {
        guard let r = pendingLast else { return }
        if let p = pending[r.channel] {
            pending[r.channel] = (min(p.first, r.first), max(p.last, r.last))
        } else {
            pending[r.channel] = (r.first, r.last)
        }
        pendingLast = nil
    }

    private func event(_ e: Event) throws {
        summary.events += 1
        guard let time = try storedTime(options.recordTime(e.time)) else { return }
        try begin()
        var meter: Int64?
        if let m = e.meter {
            meter = try meterRef(m, protocolName: e.provenance.protocolID.rawValue, medium: nil, source: e.provenance.source).id
        }
        let source = try store.sourceID(protocolName: e.provenance.protocolID.rawValue, name: e.provenance.source)
        recordsInTransaction += 1
        try db.run("""
            INSERT INTO event(meter, event, code, text, time, duration, duration_exponent, protocol, source, frame)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
            """, [SQLiteValue(meter), .text(e.event), SQLiteValue(e.code), SQLiteValue(e.text), .integer(time.milliseconds),
                  SQLiteValue(e.duration?.significand), SQLiteValue(e.duration.map { $0.exponent }),
                  .text(e.provenance.protocolID.rawValue), .integer(source), .integer(Int64(e.provenance.frame))])
        if db.changes == 1 { summary.eventsStored += 1 }
    }

    private func frame(_ f: FrameRecord) throws {
        summary.frames += 1
        try begin()
        recordsInTransaction += 1
        try db.run("""
            INSERT INTO frame(time, stored, protocol, source, dir, meter, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, [SQLiteValue(f.time?.milliseconds), .integer(options.now.milliseconds), SQLiteValue(f.protocolName),
                  SQLiteValue(f.source), .text(f.direction.rawValue), SQLiteValue(f.meter), .blob(f.bytes)])
        if db.changes == 1 { summary.framesStored += 1 }
    }

    // MARK: meters and channels

    private func meterRef(_ identity: String, protocolName: String, medium: String?, source: String) throws -> MeterRef {
        if let m = meters[identity] { return m }
        let s = try db.statement("SELECT id, replaces FROM meter WHERE identity = ?")
        try s.bind(1, identity)
        if try s.step() {
            let m = MeterRef(id: s.int64(0), replaces: s.optionalInt64(1))
            s.reset()
            meters[identity] = m
            return m
        }
        guard options.unknownMeters == .register else {
            throw Rejection("unknown meter \"\(identity)\" (not in the registry; --unknown-meters register adds it)")
        }
        try db.run("INSERT INTO meter(identity, protocol, medium, registered) VALUES (?, ?, ?, 'auto')",
                   [.text(identity), .text(protocolName), SQLiteValue(medium)])
        let m = MeterRef(id: db.lastInsertRowID, replaces: nil)
        try store.audit(run: run, action: "register", entity: "meter", key: identity, old: nil,
                        new: "auto-registered from \(source)")
        summary.metersRegistered += 1
        meters[identity] = m
        return m
    }

    private func channelRef(_ key: ChannelKey, meter: MeterRef, value: ReadingValue) throws -> ChannelRef {
        if let c = channels[key] { return c }
        let s = try db.statement("""
            SELECT id, exponent FROM channel WHERE meter = ? AND quantity = ? AND obis IS ? AND storage IS ?
            AND tariff IS ? AND subunit IS ? AND function IS ? AND unit IS ? AND note IS ? AND interval = ?
            """)
        try s.bind(key.bindings)
        if try s.step() {
            let id = s.int64(0), exponent = Int(s.int64(1))
            s.reset()
            let c = ChannelRef(id: id, exponent: exponent,
                               latest: try db.scalar("SELECT max(time) FROM reading WHERE channel = ?", [.integer(id)]) ?? Int64.min)
            channels[key] = c
            return c
        }
        var exponent = 0
        if case .number(let d) = value { exponent = d.exponent }
        // A replacement meter's channel continues its predecessor's matching channel.
        var continues: Int64?
        if let old = meter.replaces {
            var k = key
            k.meter = old
            try s.bind(k.bindings)
            if try s.step() { continues = s.int64(0) }
            s.reset()
        }
        try db.run("""
            INSERT INTO channel(meter, quantity, obis, storage, tariff, subunit, function, unit, note, interval, exponent, continues)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, key.bindings + [.integer(Int64(exponent)), SQLiteValue(continues)])
        let c = ChannelRef(id: db.lastInsertRowID, exponent: exponent, latest: Int64.min)
        channels[key] = c
        return c
    }
}
