/// An account as `ami-bill account import` reads it and `account export` writes it: a CSV row or
/// an `account` JSON line (ami-jsonl(5), account; ami-bill(1), ACCOUNT FILES).
public struct AccountEntry: Sendable, Equatable {
    public var name: String
    /// The identity of the registered meter it bills.
    public var meter: String
    /// A stored tariff's name.
    public var tariff: String
    public var prepaid = false
    /// Who to notify, copied into notification records.
    public var contact: String?
    /// When the account opens. Nil in a record that leaves it out: the time of the import for a new
    /// account; an existing account keeps its own.
    public var opened: UTCTime?
    /// The debt owed at opening, in minor units of the tariff's currency.
    public var debt: Int64 = 0

    public init(name: String, meter: String, tariff: String) {
        self.name = name
        self.meter = meter
        self.tariff = tariff
    }

    public static let csvHeader = ["account", "meter", "tariff", "mode", "contact", "opened", "debt"]
    /// The ledger reference of the debt owed at opening.
    static let openingDebt = "opening debt"

    var mode: String { prepaid ? "prepaid" : "postpaid" }

    /// Fields by the CSV header's names (a missing or empty one is absent).
    init(fields f: [String: String]) throws(BillingError) {
        func opt(_ k: String) -> String? { f[k].flatMap { $0.isEmpty ? nil : $0 } }
        guard let name = opt("account") else { throw BillingError("no account name") }
        guard let meter = opt("meter") else { throw BillingError("account '\(name)': no meter") }
        guard let tariff = opt("tariff") else { throw BillingError("account '\(name)': no tariff") }
        self.init(name: name, meter: meter, tariff: tariff)
        switch opt("mode") {
        case nil, "postpaid": prepaid = false
        case "prepaid": prepaid = true
        case let m?: throw BillingError("account '\(name)': mode \"\(m)\" is not postpaid or prepaid")
        }
        contact = opt("contact")
        if let t = opt("opened") {
            guard let v = UTCTime(iso8601: t) else { throw BillingError("account '\(name)': opened \"\(t)\" is not an ISO 8601 time") }
            opened = v
        }
        if let d = opt("debt") {
            guard let v = Int64(d), v >= 0 else {
                throw BillingError("account '\(name)': debt \"\(d)\" is not a whole number of minor units (cents), 0 or more")
            }
            debt = v
        }
    }

    var csvFields: [String] {
        [name, meter, tariff, mode, contact ?? "", opened?.description ?? "", String(debt)]
    }

    /// The entry as an `{"type":"account",…}` JSON line (without the newline).
    var jsonLine: String {
        var s = "{\"type\":\"account\",\"v\":1,\"account\":" + JSONText.quoted(name) + ",\"meter\":" + JSONText.quoted(meter)
            + ",\"tariff\":" + JSONText.quoted(tariff) + ",\"mode\":\"\(mode)\""
        if let c = contact { s += ",\"contact\":" + JSONText.quoted(c) }
        if let t = opened { s += ",\"opened\":\"\(t)\"" }
        return s + ",\"debt\":\(debt)}"
    }
}

extension BillingStore {
    /// What an account import did.
    public struct AccountImport: Sendable, Equatable {
        public var added = 0
        public var updated = 0
        public var unchanged = 0
        /// Records reported through `reject` and skipped.
        public var rejected = 0
    }

    /// The accounts as import reads them back, by name.
    public func accountEntries() throws -> [AccountEntry] {
        try accounts().map { a in
            var e = AccountEntry(name: a.name, meter: a.meter, tariff: a.tariff)
            e.prepaid = a.prepaid
            e.contact = a.contact
            e.opened = a.opened
            e.debt = try openingDebt(a.id)
            return e
        }
    }

    /// The accounts as text: JSON lines of `account` records, or CSV with a header.
    public func exportAccounts(format: RegistryFormat) throws -> String {
        let entries = try accountEntries()
        switch format {
        case .jsonl:
            return entries.map { $0.jsonLine + "\n" }.joined()
        case .csv:
            return ([AccountEntry.csvHeader] + entries.map(\.csvFields)).map { CSVWriter.line($0) + "\n" }.joined()
        }
    }

    func openingDebt(_ account: Int64) throws(SQLiteError) -> Int64 {
        try db.scalar("SELECT sum(debt) FROM ledger WHERE account = ? AND kind = 'debt' AND reference = ?",
                      [.integer(account), .text(AccountEntry.openingDebt)]) ?? 0
    }

    /// Imports account files (CSV with a header of `AccountEntry.csvHeader` names, or JSON lines of
    /// `account` records) in one transaction. A new account is opened as `addAccount` opens it; an
    /// existing one (by name) gets the record's tariff and contact, each change with an audit entry,
    /// and is otherwise left as it is: a record that would move it to another meter, change its mode,
    /// its opening time or its opening debt is refused. A bad record is reported through `reject` with
    /// its input's index and line and skipped; with `strict` the first one rolls everything back.
    public func importAccounts(_ inputs: [(text: String, format: RegistryFormat)], now: UTCTime, run: Int64?, strict: Bool,
                               reject: (Int, Int, String) -> Void) throws -> AccountImport {
        var result = AccountImport()
        var tariffs: [String: Result<Tariff, BillingError>] = [:]
        func tariff(_ name: String) throws -> Tariff {
            if tariffs[name] == nil {
                do { tariffs[name] = .success(try self.tariff(name).tariff) } catch let e as BillingError { tariffs[name] = .failure(e) }
            }
            return try tariffs[name]!.get()
        }
        try db.transaction {
            for (index, input) in inputs.enumerated() {
                func bad(_ line: Int, _ message: String) throws {
                    reject(index, line, message)
                    result.rejected += 1
                    if strict { throw BillingError("--strict: stopped at the first bad record; no account imported") }
                }
                do {
                    try input.format.eachRecord(input.text, reject: bad) { r in
                        if let header = r.header, let unknown = header.first(where: { !AccountEntry.csvHeader.contains($0) }) {
                            throw BadHeader(description: "unknown column \"\(unknown)\"; the columns are "
                                            + AccountEntry.csvHeader.joined(separator: ","))
                        }
                        do {
                            if r.header == nil && r.type != "account" { throw BillingError("not an account record") }
                            let entry = try AccountEntry(fields: r.fields)
                            let t = try tariff(entry.tariff)
                            guard let old = try findAccount(entry.name) else {
                                try insertAccount(entry, tariff: t, opened: entry.opened ?? now, run: run)
                                result.added += 1
                                return
                            }
                            if try update(old, to: entry, tariff: t, run: run) { result.updated += 1 } else { result.unchanged += 1 }
                        } catch let e as BillingError {
                            try bad(r.line, e.description)
                        }
                    }
                } catch let e as CSVReader.Failure {
                    try bad(e.line, e.description)
                } catch let e as BadHeader {
                    try bad(1, e.description)
                }
            }
        }
        return result
    }

    /// A CSV header with a column that is not an account column: the whole input is skipped.
    private struct BadHeader: Error { let description: String }

    /// Brings an existing account to an import record: its tariff and contact; returns whether
    /// anything changed.
    private func update(_ a: Account, to e: AccountEntry, tariff t: Tariff, run: Int64?) throws -> Bool {
        let refused = "account '\(a.name)'"
        guard a.meter == e.meter else {
            throw BillingError("\(refused) is on meter '\(a.meter)', not '\(e.meter)': import does not move an account")
        }
        guard a.prepaid == e.prepaid else {
            throw BillingError("\(refused) is \(a.prepaid ? "prepaid" : "postpaid"): import does not change the mode")
        }
        if let opened = e.opened, opened != a.opened {
            throw BillingError("\(refused) opened at \(a.opened), not \(opened): import does not change the opening")
        }
        let debt = try openingDebt(a.id)
        guard debt == e.debt else {
            throw BillingError("\(refused) has an opening debt of \(debt), not \(e.debt): change debt with ami-bill adjust --debt")
        }
        if e.prepaid && t.prepaid == nil { throw BillingError("tariff '\(e.tariff)' has no prepaid section for a prepaid account") }
        var changed = false
        if a.tariff != e.tariff {
            try changeAccount(a, .tariff, from: a.tariff, to: e.tariff, run: run)
            changed = true
        }
        if a.contact != e.contact {
            try changeAccount(a, .contact, from: a.contact, to: e.contact, run: run)
            changed = true
        }
        return changed
    }
}
