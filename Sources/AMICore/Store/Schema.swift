/// The ami-store database schema, as versioned migrations: migration N takes a database from
/// `PRAGMA user_version` N−1 to N, in one transaction. Documented in ami-store(1), SCHEMA.
public enum StoreSchema {
    /// The version the newest migration reaches.
    public static var version: Int { migrations.count }

    /// The migrations in order; never edit a released one, append a new one.
    static let migrations: [String] = [
        // 1: the first schema.
        """
        CREATE TABLE setting(
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO setting VALUES ('frame_retention_days', '90');

        CREATE TABLE run(
            id INTEGER PRIMARY KEY,
            started INTEGER NOT NULL,
            finished INTEGER,
            who TEXT NOT NULL,
            command TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
            summary TEXT
        );

        CREATE TABLE audit(
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            who TEXT NOT NULL,
            run INTEGER REFERENCES run(id),
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            key TEXT NOT NULL,
            old TEXT,
            new TEXT
        );
        CREATE INDEX audit_entity ON audit(entity, key);

        CREATE TABLE node(
            id INTEGER PRIMARY KEY,
            parent INTEGER REFERENCES node(id),
            level TEXT NOT NULL,
            name TEXT NOT NULL,
            path TEXT NOT NULL UNIQUE
        );

        CREATE TABLE meter(
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,
            protocol TEXT,
            address TEXT,
            medium TEXT,
            multiplier TEXT NOT NULL DEFAULT '1',
            installed INTEGER,
            removed INTEGER,
            status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'removed')),
            node INTEGER REFERENCES node(id),
            replaces INTEGER REFERENCES meter(id),
            registered TEXT NOT NULL DEFAULT 'auto' CHECK (registered IN ('auto', 'import'))
        );

        CREATE TABLE channel(
            id INTEGER PRIMARY KEY,
            meter INTEGER NOT NULL REFERENCES meter(id),
            quantity TEXT NOT NULL,
            obis TEXT,
            storage INTEGER,
            tariff INTEGER,
            subunit INTEGER,
            function TEXT,
            unit TEXT,
            note TEXT,
            interval INTEGER NOT NULL DEFAULT 0 CHECK (interval >= 0),
            exponent INTEGER NOT NULL,
            continues INTEGER REFERENCES channel(id)
        );
        CREATE UNIQUE INDEX channel_key ON channel(meter, quantity, ifnull(obis, ''), ifnull(storage, -1),
            ifnull(tariff, -1), ifnull(subunit, -1), ifnull(function, ''), ifnull(unit, ''), ifnull(note, ''),
            interval);

        CREATE TABLE source(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );

        CREATE TABLE quality_code(
            bit INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            meaning TEXT NOT NULL
        );

        CREATE TABLE reading(
            channel INTEGER NOT NULL REFERENCES channel(id),
            time INTEGER NOT NULL,
            value INTEGER,
            exponent INTEGER NOT NULL DEFAULT 0,
            text TEXT,
            quality INTEGER NOT NULL DEFAULT 0,
            source INTEGER REFERENCES source(id),
            frame INTEGER,
            PRIMARY KEY (channel, time)
        ) WITHOUT ROWID;

        CREATE TABLE reading_history(
            channel INTEGER NOT NULL REFERENCES channel(id),
            time INTEGER NOT NULL,
            value INTEGER,
            exponent INTEGER NOT NULL,
            text TEXT,
            quality INTEGER NOT NULL,
            source INTEGER REFERENCES source(id),
            frame INTEGER,
            replaced INTEGER NOT NULL,
            run INTEGER REFERENCES run(id)
        );
        CREATE INDEX reading_history_key ON reading_history(channel, time);

        CREATE VIEW register_reading AS
            SELECT r.* FROM reading r JOIN channel c ON c.id = r.channel WHERE c.interval = 0;
        CREATE VIEW interval_reading AS
            SELECT r.*, c.interval FROM reading r JOIN channel c ON c.id = r.channel WHERE c.interval > 0;

        CREATE TABLE event(
            id INTEGER PRIMARY KEY,
            meter INTEGER REFERENCES meter(id),
            event TEXT NOT NULL,
            code TEXT,
            text TEXT,
            time INTEGER NOT NULL,
            duration INTEGER,
            duration_exponent INTEGER,
            protocol TEXT NOT NULL,
            source INTEGER REFERENCES source(id),
            frame INTEGER
        );
        CREATE UNIQUE INDEX event_key ON event(ifnull(meter, 0), event, time, ifnull(code, ''));

        CREATE TABLE frame(
            id INTEGER PRIMARY KEY,
            time INTEGER,
            stored INTEGER NOT NULL,
            protocol TEXT,
            source TEXT,
            dir TEXT NOT NULL CHECK (dir IN ('rx', 'tx')),
            meter TEXT,
            bytes BLOB NOT NULL
        );
        CREATE UNIQUE INDEX frame_key ON frame(ifnull(time, -1), ifnull(source, ''), dir, bytes);
        CREATE INDEX frame_stored ON frame(stored);

        CREATE TABLE vee_pending(
            channel INTEGER PRIMARY KEY REFERENCES channel(id),
            first INTEGER NOT NULL,
            last INTEGER NOT NULL
        );
        """,
        // 2: billing and prepaid credit (ami-bill(1)); meters by the meter they replaced.
        """
        CREATE INDEX meter_replaces ON meter(replaces);

        CREATE TABLE tariff(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            added INTEGER NOT NULL,
            who TEXT NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX tariff_name ON tariff(name, id);

        CREATE TABLE account(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            meter INTEGER NOT NULL REFERENCES meter(id),
            tariff TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('postpaid', 'prepaid')),
            contact TEXT,
            opened INTEGER NOT NULL,
            supply TEXT NOT NULL DEFAULT 'connected' CHECK (supply IN ('connected', 'disconnected')),
            alert TEXT NOT NULL DEFAULT 'none' CHECK (alert IN ('none', 'low_credit', 'emergency_credit', 'disconnect_deferred')),
            debited_to INTEGER
        );

        CREATE TABLE ledger(
            id INTEGER PRIMARY KEY,
            account INTEGER NOT NULL REFERENCES account(id),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('payment', 'consumption', 'standing', 'adjustment', 'debt', 'recovery')),
            credit INTEGER NOT NULL,
            debt INTEGER NOT NULL DEFAULT 0,
            span_from INTEGER,
            span_to INTEGER,
            reference TEXT,
            who TEXT NOT NULL,
            run INTEGER REFERENCES run(id)
        );
        CREATE INDEX ledger_account ON ledger(account, at);
        CREATE UNIQUE INDEX ledger_payment ON ledger(account, reference) WHERE kind = 'payment' AND reference IS NOT NULL;
        CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
        CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

        CREATE TABLE bill(
            id INTEGER PRIMARY KEY,
            account INTEGER NOT NULL REFERENCES account(id),
            span_from INTEGER NOT NULL,
            span_to INTEGER NOT NULL,
            revision INTEGER NOT NULL,
            issued INTEGER NOT NULL,
            run INTEGER REFERENCES run(id),
            tariff INTEGER NOT NULL REFERENCES tariff(id),
            usage TEXT NOT NULL,
            total INTEGER NOT NULL,
            record TEXT NOT NULL,
            UNIQUE (account, span_from, span_to, revision)
        );
        """,
        // 3: what ami-read fleet needs to read a meter (ami-read(1), REGISTRY): its groups (a JSON
        // array) and the options of its protocol's command (a JSON object).
        """
        ALTER TABLE meter ADD COLUMN groups TEXT;
        ALTER TABLE meter ADD COLUMN read_options TEXT;
        """,
    ]

    /// Brings `db` to the newest version, all pending migrations in one transaction (a process
    /// killed while migrating leaves the database as it was); refuses a database made by a newer
    /// ami-store.
    public static func migrate(_ db: SQLiteDatabase) throws {
        let current = db.userVersion
        guard current <= version else {
            throw StoreError("\(db.path): schema version \(current) is newer than this ami-store's \(version)")
        }
        guard current < version else { return }
        try db.transaction {
            // Another process may have migrated while this one waited for the lock.
            let start = db.userVersion
            guard start < version else { return }
            for n in start..<version {
                try db.execute(migrations[n])
                if n == 0 { try QualityFlag.seed(db) }
            }
            try db.setUserVersion(version)
        }
    }
}

/// A store-level failure with a message for the user (`ami-store: message`).
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
