import Foundation
import Testing
@testable import AMICore

/// `ami-bill account import` and `account export` in-process: accounts opened from CSV and JSON
/// lines, the checks of `account add`, idempotence, changes, and the round trip.
@Suite struct AccountFileTests {
    static let flat = #"{"tariff": "flat", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": "0.20"}]}"#
    static let credit = #"{"tariff": "credit", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": "0.20"}], "prepaid": {"warn": "5.00"}}"#
    static let now = UTCTime(iso8601: "2026-06-15T12:00:00Z")!

    /// A store with meters M1–M4 registered and the tariffs flat (postpaid only) and credit (prepaid).
    func fixture() throws -> (StoreFixture, BillingStore) {
        let f = try StoreFixture()
        let meters = (1...4).map { #"{"type":"meter","v":1,"meter":"M\#($0)","status":"active"}"# }.joined(separator: "\n")
        var refused: [String] = []
        _ = try f.store.importRegistry(meters, format: .jsonl, run: nil) { refused.append("\($0): \($1)") }
        #expect(refused.isEmpty)
        let billing = BillingStore(store: f.store)
        try billing.addTariff(Self.flat, file: "flat.json", run: nil)
        try billing.addTariff(Self.credit, file: "credit.json", run: nil)
        return (f, billing)
    }

    /// Imports `text` and returns the result with the refusals as "LINE: message".
    func load(_ billing: BillingStore, _ text: String, format: RegistryFormat = .jsonl, strict: Bool = false,
              run: Int64? = nil) throws -> (BillingStore.AccountImport, [String]) {
        var refused: [String] = []
        let r = try billing.importAccounts([(text, format)], now: Self.now, run: run, strict: strict) { input, line, message in
            refused.append("\(input):\(line): \(message)")
        }
        return (r, refused)
    }

    func count(_ f: StoreFixture, _ sql: String) throws -> Int64 { try f.store.db.scalar(sql) ?? 0 }

    static let two = """
        {"type":"account","v":1,"account":"A1","meter":"M1","tariff":"flat"}
        {"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid","contact":"p1@example.org","opened":"2026-06-01T00:00:00Z","debt":4000}
        """

    @Test func importOpensAccountsAsAccountAddDoesAndTwiceChangesNothing() throws {
        let (f, billing) = try fixture()
        let (r, refused) = try load(billing, Self.two)
        #expect(refused.isEmpty)
        #expect(r == BillingStore.AccountImport(added: 2, updated: 0, unchanged: 0, rejected: 0))
        let a1 = try billing.account("A1"), p1 = try billing.account("P1")
        #expect(a1.meter == "M1" && a1.tariff == "flat" && !a1.prepaid && a1.contact == nil && a1.opened == Self.now)
        #expect(a1.debitedTo == nil)
        #expect(p1.meter == "M2" && p1.tariff == "credit" && p1.prepaid && p1.contact == "p1@example.org")
        #expect(p1.opened == UTCTime(iso8601: "2026-06-01T00:00:00Z"))
        #expect(p1.debitedTo == p1.opened)
        // The opening debt on the ledger, at the opening, as account add writes it.
        #expect(try billing.balance(account: p1.id) == (credit: 0, debt: 4000))
        #expect(try count(f, "SELECT count(*) FROM ledger WHERE kind = 'debt' AND reference = 'opening debt' AND at = 1780272000000") == 1)
        // account add's audit entries, word for word.
        try billing.addAccount(name: "B1", meter: "M3", tariff: "flat", prepaid: false, contact: nil, opened: Self.now, debt: 0, run: nil)
        let s = try f.store.db.statement("SELECT action, entity, key, old, new FROM audit WHERE entity LIKE 'account%' ORDER BY id")
        var audit: [String] = []
        while try s.step() { audit.append([s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)].map { $0 ?? "-" }.joined(separator: "|")) }
        #expect(audit == ["insert|account|A1|-|meter=M1 tariff=flat mode=postpaid",
                          "insert|account|P1|-|meter=M2 tariff=credit mode=prepaid",
                          "insert|account|B1|-|meter=M3 tariff=flat mode=postpaid"])
        // The same file again: nothing changes, nothing is written.
        let audits = try count(f, "SELECT count(*) FROM audit"), ledger = try count(f, "SELECT count(*) FROM ledger")
        let (again, none) = try load(billing, Self.two)
        #expect(none.isEmpty)
        #expect(again == BillingStore.AccountImport(added: 0, updated: 0, unchanged: 2, rejected: 0))
        #expect(try count(f, "SELECT count(*) FROM audit") == audits)
        #expect(try count(f, "SELECT count(*) FROM ledger") == ledger)
        #expect(try count(f, "SELECT count(*) FROM account") == 3)
    }

    @Test func badRecordsAreReportedWithTheirLinesAndSkipped() throws {
        let (f, billing) = try fixture()
        let text = """
            {"type":"account","v":1,"account":"X1","meter":"NOPE","tariff":"flat"}
            {"type":"account","v":1,"account":"X2","meter":"M1","tariff":"nope"}
            {"type":"account","v":1,"account":"X3","meter":"M1","tariff":"flat","mode":"prepaid"}

            {"type":"account","v":1,"account":"X4",
            {"type":"meter","v":1,"meter":"M9"}
            {"type":"account","v":1,"account":"X5","meter":"M1","tariff":"flat","mode":"credit"}
            {"type":"account","v":1,"account":"X6","meter":"M1","tariff":"flat","debt":-5}
            {"type":"account","v":1,"account":"X7","meter":"M1","tariff":"flat","debt":40.00}
            {"type":"account","v":1,"account":"X8","meter":"M1","tariff":"flat","opened":"yesterday"}
            {"type":"account","v":1,"account":"X9","meter":"M1"}
            {"type":"account","v":1,"meter":"M1","tariff":"flat"}
            {"type":"account","v":1,"account":"OK","meter":"M1","tariff":"credit","mode":"prepaid"}
            {"type":"account","v":1,"account":"OK","meter":"M1","tariff":"credit","mode":"postpaid"}
            """
        let (r, refused) = try load(billing, text)
        #expect(refused == [
            "0:1: no meter 'NOPE' in the registry",
            "0:2: no tariff 'nope' in the database",
            "0:3: tariff 'flat' has no prepaid section for a prepaid account",
            "0:5: byte 39: expected a member name",
            "0:6: not an account record",
            "0:7: account 'X5': mode \"credit\" is not postpaid or prepaid",
            "0:8: account 'X6': debt \"-5\" is not a whole number of minor units (cents), 0 or more",
            "0:9: account 'X7': debt \"40.00\" is not a whole number of minor units (cents), 0 or more",
            "0:10: account 'X8': opened \"yesterday\" is not an ISO 8601 time",
            "0:11: account 'X9': no tariff",
            "0:12: no account name",
            "0:14: account 'OK' is prepaid: import does not change the mode",
        ])
        #expect(r == BillingStore.AccountImport(added: 1, updated: 0, unchanged: 0, rejected: 12))
        #expect(try billing.accounts().map(\.name) == ["OK"])
        #expect(try count(f, "SELECT count(*) FROM audit WHERE entity = 'account'") == 1)
    }

    @Test func strictStopsAtTheFirstBadRecordAndImportsNothing() throws {
        let (f, billing) = try fixture()
        let text = Self.two + "\n" + #"{"type":"account","v":1,"account":"X1","meter":"NOPE","tariff":"flat"}"# + "\n"
            + #"{"type":"account","v":1,"account":"X2","meter":"NOPE","tariff":"flat"}"#
        var refused: [String] = []
        #expect(throws: BillingError("--strict: stopped at the first bad record; no account imported")) {
            _ = try billing.importAccounts([(text, .jsonl)], now: Self.now, run: nil, strict: true) { refused.append("\($1): \($2)") }
        }
        #expect(refused == ["3: no meter 'NOPE' in the registry"])
        #expect(try count(f, "SELECT count(*) FROM account") == 0)
        #expect(try count(f, "SELECT count(*) FROM ledger") == 0)
        #expect(try count(f, "SELECT count(*) FROM audit WHERE entity LIKE 'account%'") == 0)
    }

    @Test func aChangedTariffOrContactIsUpdatedAndAuditedTheRestIsRefused() throws {
        let (f, billing) = try fixture()
        _ = try load(billing, Self.two)
        let changed = """
            {"type":"account","v":1,"account":"A1","meter":"M1","tariff":"credit","contact":"a1@example.org"}
            {"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid","debt":4000}
            {"type":"account","v":1,"account":"A1","meter":"M3","tariff":"credit","contact":"a1@example.org"}
            {"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid","opened":"2026-06-02T00:00:00Z","debt":4000}
            {"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid","debt":0}
            {"type":"account","v":1,"account":"P1","meter":"M2","tariff":"flat","mode":"prepaid","debt":4000}
            """
        let (r, refused) = try load(billing, changed)
        #expect(refused == [
            "0:3: account 'A1' is on meter 'M1', not 'M3': import does not move an account",
            "0:4: account 'P1' opened at 2026-06-01T00:00:00Z, not 2026-06-02T00:00:00Z: import does not change the opening",
            "0:5: account 'P1' has an opening debt of 4000, not 0: change debt with ami-bill adjust --debt",
            "0:6: tariff 'flat' has no prepaid section for a prepaid account",
        ])
        // A1: tariff and contact; P1: the contact left out is removed; the opening is kept when left out.
        #expect(r == BillingStore.AccountImport(added: 0, updated: 2, unchanged: 0, rejected: 4))
        let a1 = try billing.account("A1"), p1 = try billing.account("P1")
        #expect(a1.tariff == "credit" && a1.contact == "a1@example.org" && a1.meter == "M1")
        #expect(p1.contact == nil && p1.opened == UTCTime(iso8601: "2026-06-01T00:00:00Z") && p1.tariff == "credit")
        let s = try f.store.db.statement("SELECT entity, key, old, new FROM audit WHERE action = 'update' ORDER BY id")
        var audit: [String] = []
        while try s.step() { audit.append([s.text(0), s.text(1), s.text(2), s.text(3)].map { $0 ?? "-" }.joined(separator: "|")) }
        #expect(audit == ["account.tariff|A1|flat|credit", "account.contact|A1|-|a1@example.org", "account.contact|P1|p1@example.org|-"])
        #expect(try billing.balance(account: p1.id) == (credit: 0, debt: 4000))
    }

    @Test func csvNeedsKnownColumnsAndRowsOfTheHeadersWidth() throws {
        let (_, billing) = try fixture()
        let csv = """
            meter,account,tariff,opened
            M1,C1,flat,2026-06-01T00:00:00Z
            M2,C2,flat
            "M3",C3,flat,

            """
        let (r, refused) = try load(billing, csv, format: .csv)
        #expect(refused == ["0:3: 3 fields, the header has 4"])
        #expect(r.added == 2)
        #expect(try billing.account("C3").opened == Self.now)
        let (_, header) = try load(billing, "account,meter,tarif\nC4,M4,flat\n", format: .csv)
        #expect(header == ["0:1: unknown column \"tarif\"; the columns are account,meter,tariff,mode,contact,opened,debt"])
        let (_, quote) = try load(billing, "account,meter,tariff\nC4,M\"4,flat\n", format: .csv)
        #expect(quote.count == 1 && quote[0].hasPrefix("0:2: "))
        #expect(try billing.accounts().map(\.name) == ["C1", "C3"])
    }

    @Test(arguments: [RegistryFormat.jsonl, .csv])
    func whatExportWritesImportReadsBackUnchanged(format: RegistryFormat) throws {
        let (_, billing) = try fixture()
        let tricky = #"{"type":"account","v":1,"account":"Q, \"quoted\"","meter":"M3","tariff":"flat","contact":"line1\nline2; é"}"#
        _ = try load(billing, Self.two + "\n" + tricky)
        let text = try billing.exportAccounts(format: format)
        if format == .jsonl {
            #expect(text.split(separator: "\n").first == #"{"type":"account","v":1,"account":"A1","meter":"M1","tariff":"flat","mode":"postpaid","opened":"2026-06-15T12:00:00Z","debt":0}"#)
            #expect(text.contains(#"{"type":"account","v":1,"account":"P1","meter":"M2","tariff":"credit","mode":"prepaid","contact":"p1@example.org","opened":"2026-06-01T00:00:00Z","debt":4000}"#))
        } else {
            #expect(text.hasPrefix("account,meter,tariff,mode,contact,opened,debt\nA1,M1,flat,postpaid,,2026-06-15T12:00:00Z,0\n"))
        }
        // Into the same database: nothing changes.
        let (same, none) = try load(billing, text, format: format)
        #expect(none.isEmpty)
        #expect(same == BillingStore.AccountImport(added: 0, updated: 0, unchanged: 3, rejected: 0))
        // Into another database with the same registry and tariffs: the same accounts, exported alike.
        let (_, other) = try fixture()
        let (copied, refused) = try load(other, text, format: format)
        #expect(refused.isEmpty)
        #expect(copied.added == 3)
        #expect(try other.exportAccounts(format: format) == text)
        #expect(try other.exportAccounts(format: .jsonl) == billing.exportAccounts(format: .jsonl))
    }
}
