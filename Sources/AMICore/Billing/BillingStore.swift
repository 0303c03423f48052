/// Billing and prepaid credit kept in the ami-store database (schema version 2): tariff versions,
/// accounts, the append-only ledger and issued bills. Pricing changes go to the audit log.
public final class BillingStore {
    public let store: MeterStore
    var db: SQLiteDatabase { store.db }

    public init(store: MeterStore) { self.store = store }

    public struct Account: Sendable {
        public var id: Int64
        public var name: String
        public var meterID: Int64
        public var meter: String
        public var tariff: String
        public var prepaid: Bool
        public var contact: String?
        public var opened: UTCTime
        public var disconnected: Bool
        public var alert: String
        public var debitedTo: UTCTime?
    }

    // MARK: tariffs

    /// Stores a new version of a tariff (checked first) and records the change in the audit log;
    /// returns false when the stored version already has this text.
    @discardableResult
    public func addTariff(_ text: String, file: String, run: Int64?) throws -> Bool {
        let tariff = try TariffParser.parse(Array(text.utf8), file: file)
        return try db.transaction {
            let old = try currentTariffText(tariff.name)
            if old == text { return false }
            try db.run("INSERT INTO tariff(name, added, who, body) VALUES (?, ?, ?, ?)",
                       [.text(tariff.name), .integer(MeterStore.now().milliseconds), .text(store.who), .text(text)])
            try store.audit(run: run, action: old == nil ? "insert" : "update", entity: "tariff", key: tariff.name,
                            old: old, new: text)
            return true
        }
    }

    func currentTariffText(_ name: String) throws(SQLiteError) -> String? {
        let s = try db.statement("SELECT body FROM tariff WHERE name = ? ORDER BY id DESC LIMIT 1")
        try s.bind(1, name)
        guard try s.step() else { return nil }
        let t = s.text(0)
        s.reset()
        return t
    }

    /// The current version of a tariff: its row id and parsed form.
    public func tariff(_ name: String) throws -> (id: Int64, tariff: Tariff) {
        let s = try db.statement("SELECT id, body FROM tariff WHERE name = ? ORDER BY id DESC LIMIT 1")
        try s.bind(1, name)
        guard try s.step() else { throw BillingError("no tariff '\(name)' in the database") }
        let id = s.int64(0), body = s.text(1) ?? ""
        s.reset()
        return (id, try TariffParser.parse(Array(body.utf8), file: "tariff \(name) (version \(id))"))
    }

    /// Names of the stored tariffs with their number of versions and the latest's time.
    public func tariffs() throws -> [(name: String, versions: Int, added: UTCTime)] {
        let s = try db.statement("SELECT name, count(*), max(added) FROM tariff GROUP BY name ORDER BY name")
        var out: [(String, Int, UTCTime)] = []
        while try s.step() { out.append((s.text(0) ?? "", Int(s.int64(1)), UTCTime(milliseconds: s.int64(2)))) }
        return out
    }

    // MARK: accounts

    static let accountColumns = """
        SELECT a.id, a.name, a.meter, m.identity, a.tariff, a.mode, a.contact, a.opened, a.supply, a.alert, a.debited_to
        FROM account a JOIN meter m ON m.id = a.meter
        """

    func account(_ s: SQLiteStatement) -> Account {
        Account(id: s.int64(0), name: s.text(1) ?? "", meterID: s.int64(2), meter: s.text(3) ?? "", tariff: s.text(4) ?? "",
                prepaid: s.text(5) == "prepaid", contact: s.text(6), opened: UTCTime(milliseconds: s.int64(7)),
                disconnected: s.text(8) == "disconnected", alert: s.text(9) ?? "none",
                debitedTo: s.optionalInt64(10).map(UTCTime.init(milliseconds:)))
    }

    public func account(_ name: String) throws -> Account {
        guard let a = try findAccount(name) else { throw BillingError("no account '\(name)'") }
        return a
    }

    /// The account of this name, or nil when there is none.
    func findAccount(_ name: String) throws(SQLiteError) -> Account? {
        let s = try db.statement(Self.accountColumns + " WHERE a.name = ?")
        try s.bind(1, name)
        guard try s.step() else { return nil }
        let a = account(s)
        s.reset()
        return a
    }

    /// Accounts by name; `prepaid` nil for all.
    public func accounts(prepaid: Bool? = nil) throws -> [Account] {
        let s = try db.statement(Self.accountColumns + (prepaid == nil ? "" : " WHERE a.mode = ?") + " ORDER BY a.name")
        if let p = prepaid { try s.bind(1, p ? "prepaid" : "postpaid") }
        var out: [Account] = []
        while try s.step() { out.append(account(s)) }
        return out
    }

    /// Opens an account on a registered meter with a stored tariff; an opening debt goes on the ledger.
    public func addAccount(name: String, meter: String, tariff: String, prepaid: Bool, contact: String?,
                           opened: UTCTime, debt: Int64, run: Int64?) throws {
        let (_, t) = try self.tariff(tariff)
        var entry = AccountEntry(name: name, meter: meter, tariff: tariff)
        entry.prepaid = prepaid
        entry.contact = contact
        entry.debt = debt
        try db.transaction { try insertAccount(entry, tariff: t, opened: opened, run: run) }
    }

    /// Inserts a new account in the caller's transaction, with its audit entry and its opening debt on
    /// the ledger: the meter must be registered, the name new, and a prepaid account's tariff needs a
    /// prepaid section.
    func insertAccount(_ a: AccountEntry, tariff t: Tariff, opened: UTCTime, run: Int64?) throws {
        if a.prepaid && t.prepaid == nil { throw BillingError("tariff '\(a.tariff)' has no prepaid section for a prepaid account") }
        guard let meterID = try db.scalar("SELECT id FROM meter WHERE identity = ?", [.text(a.meter)]) else {
            throw BillingError("no meter '\(a.meter)' in the registry")
        }
        guard try db.scalar("SELECT id FROM account WHERE name = ?", [.text(a.name)]) == nil else {
            throw BillingError("account '\(a.name)' exists already")
        }
        try db.run("INSERT INTO account(name, meter, tariff, mode, contact, opened, debited_to) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [.text(a.name), .integer(meterID), .text(a.tariff), .text(a.mode), SQLiteValue(a.contact),
                    .integer(opened.milliseconds), a.prepaid ? .integer(opened.milliseconds) : .null])
        let id = db.lastInsertRowID
        try store.audit(run: run, action: "insert", entity: "account", key: a.name, old: nil,
                        new: "meter=\(a.meter) tariff=\(a.tariff) mode=\(a.mode)")
        if a.debt > 0 {
            try ledger(account: id, at: opened, kind: "debt", credit: 0, debt: a.debt, reference: AccountEntry.openingDebt, run: run)
        }
    }

    /// Moves an account to another stored tariff (audited as a pricing change).
    public func setTariff(account name: String, tariff: String, run: Int64?) throws {
        let a = try account(name)
        _ = try self.tariff(tariff)
        try db.transaction { try changeAccount(a, .tariff, from: a.tariff, to: tariff, run: run) }
    }

    /// Sets the tariff or the contact of an account in the caller's transaction, with an audit entry
    /// (entity `account.tariff` or `account.contact`).
    func changeAccount(_ a: Account, _ column: AccountColumn, from old: String?, to new: String?, run: Int64?) throws(SQLiteError) {
        switch column {
        case .tariff: try db.run("UPDATE account SET tariff = ? WHERE id = ?", [SQLiteValue(new), .integer(a.id)])
        case .contact: try db.run("UPDATE account SET contact = ? WHERE id = ?", [SQLiteValue(new), .integer(a.id)])
        }
        try store.audit(run: run, action: "update", entity: "account.\(column.rawValue)", key: a.name, old: old, new: new)
    }

    /// What of an account a change may set.
    enum AccountColumn: String { case tariff, contact }

    // MARK: ledger

    func ledger(account: Int64, at: UTCTime, kind: String, credit: Int64, debt: Int64 = 0, from: UTCTime? = nil,
                to: UTCTime? = nil, reference: String? = nil, run: Int64?) throws(SQLiteError) {
        try db.run("""
            INSERT INTO ledger(account, at, kind, credit, debt, span_from, span_to, reference, who, run)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(account), .integer(at.milliseconds), .text(kind), .integer(credit), .integer(debt),
                  SQLiteValue(from?.milliseconds), SQLiteValue(to?.milliseconds), SQLiteValue(reference), .text(store.who),
                  SQLiteValue(run)])
    }

    /// Credit balance and outstanding debt (minor units) from the ledger entries up to `at` (all when nil).
    public func balance(account: Int64, at: UTCTime? = nil) throws(SQLiteError) -> (credit: Int64, debt: Int64) {
        let s = try db.statement("SELECT ifnull(sum(credit), 0), ifnull(sum(debt), 0) FROM ledger WHERE account = ? AND at <= ?")
        try s.bind(1, account)
        try s.bind(2, at?.milliseconds ?? Int64.max)
        guard try s.step() else { return (0, 0) }
        let r = (s.int64(0), s.int64(1))
        s.reset()
        return r
    }

    // MARK: bills

    /// Stores a bill unless the latest revision for the account and span has the same record; returns
    /// its id and revision.
    public func storeBill(account: Account, tariffID: Int64, heading: BillingRecords.Heading, body: BillBody,
                          tariff: Tariff, run: Int64?) throws -> (id: Int64, revision: Int, new: Bool) {
        let plain = BillingRecords.bill(heading, body, tariff: tariff).text
        let s = try db.statement("""
            SELECT id, revision, record FROM bill WHERE account = ? AND span_from = ? AND span_to = ?
            ORDER BY revision DESC LIMIT 1
            """)
        try s.bind([.integer(account.id), .integer(heading.from.milliseconds), .integer(heading.to.milliseconds)])
        var revision = 1
        if try s.step() {
            let id = s.int64(0), r = Int(s.int64(1)), record = s.text(2)
            s.reset()
            if record == plain { return (id, r, false) }
            revision = r + 1
        }
        try db.run("""
            INSERT INTO bill(account, span_from, span_to, revision, issued, run, tariff, usage, total, record)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.integer(account.id), .integer(heading.from.milliseconds), .integer(heading.to.milliseconds),
                  .integer(Int64(revision)), .integer(MeterStore.now().milliseconds), SQLiteValue(run), .integer(tariffID),
                  .text(body.usage.description), .integer(body.total), .text(plain)])
        return (db.lastInsertRowID, revision, true)
    }
}
