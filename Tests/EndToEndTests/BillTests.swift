import Foundation
import Testing

/// The built `ami-bill` run as a user would, with readings stored by `ami-store`: prepaid runs,
/// payments, postpaid bills, bad input. Amounts are worked out in the comments.
@Suite struct BillEndToEndTests {
    /// Flat 0.20 EUR/kWh, a standing charge of 1.00 a day (UTC); warn below 5.00, 3.00 emergency
    /// credit, a quarter of each top-up pays debt, no disconnection at weekends or 18:00–08:00.
    static let prepaidTariff = """
        {"tariff": "credit", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
         "prices": [{"from": "2026-01-01", "energy": "0.20", "fixed": [{"name": "standing", "per": "day", "price": "1.00"}]}],
         "prepaid": {"warn": "5.00", "emergency_credit": "3.00", "debt_recovery": "0.25",
                     "friendly": [{"days": ["weekend", "holiday"]}, {"days": ["weekday"], "hours": [["18:00", "08:00"]]}]}}
        """

    final class Fixture {
        let dir: String
        let db: String

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-bill-e2e-" + UUID().uuidString).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            db = dir + "/b.db"
        }

        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func file(_ name: String, _ text: String) throws -> String {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// Hourly interval readings of `meter` ending at `start`+1h, +2h…, each `kwh[i]` kWh, stored without VEE.
        func readings(_ meter: String, from start: String, kwh: [Int]) throws {
            let t0 = ISO8601DateFormatter().date(from: start)!
            let f = ISO8601DateFormatter()
            let lines = kwh.enumerated().map { i, v in
                #"{"type":"reading","v":1,"meter":"\#(meter)","quantity":"energy","value":\#(v * 1000),"unit":"Wh","interval":3600,"time":"\#(f.string(from: t0.addingTimeInterval(Double(i + 1) * 3600)))","protocol":"mbus"}"#
            }
            let r = try Binaries.run("ami-store", ["ingest", "--db", db, "--no-vee"], stdin: Array((lines.joined(separator: "\n") + "\n").utf8))
            #expect(r.status == 0, "\(r.stderr)")
        }

        func bill(_ args: [String], stdin: String = "") throws -> Binaries.Result {
            try Binaries.run("ami-bill", args + ["--db", db], stdin: Array(stdin.utf8))
        }

        func objects(_ r: Binaries.Result) -> [[String: Any]] {
            r.stdoutLines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }

        func balance(_ account: String) throws -> (credit: Int, debt: Int) {
            let o = objects(try bill(["balance", account])).first ?? [:]
            return (o["credit"] as? Int ?? .min, o["debt"] as? Int ?? .min)
        }

        /// (type, kind or command, account) of each record written.
        func summary(_ r: Binaries.Result) -> [String] {
            objects(r).map { o in
                "\(o["type"]!) \(o["kind"] ?? o["command"] ?? "") \(o["account"] ?? "")"
            }
        }
    }

    func prepaidFixture(debt: String? = nil, opened: String = "2026-06-01T00:00:00Z") throws -> Fixture {
        let f = try Fixture()
        try f.readings("M1", from: "2026-05-31T23:00:00Z", kwh: [0])
        let tariff = try f.file("credit.json", Self.prepaidTariff)
        #expect(try f.bill(["tariff", "add", tariff]).status == 0)
        var args = ["account", "add", "P1", "--meter", "M1", "--tariff", "credit", "--prepaid", "--contact", "p1@example.org",
                    "--opened", opened]
        if let d = debt { args += ["--debt", d] }
        let r = try f.bill(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try f.bill(["pay", "P1", "20.00", "--reference", "T1", "--at", opened]).status == 0)
        return f
    }

    @Test func aRunDebitsOnceAndWarnsOnceThenEmergencyCreditThenDisconnects() throws {
        let f = try prepaidFixture()
        // 2026-06-01 (a Monday) 00:00–10:00: 50 kWh = 10.00, standing 1.00: 20.00 − 11.00 = 9.00.
        try f.readings("M1", from: "2026-06-01T00:00:00Z", kwh: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5])
        let first = try f.bill(["run", "--now", "2026-06-01T10:00:00Z"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.isEmpty)
        #expect(try f.balance("P1").credit == 900)
        // The same run again debits nothing more.
        let again = try f.bill(["run", "--now", "2026-06-01T10:05:00Z"])
        #expect(again.stdout.isEmpty)
        #expect(try f.balance("P1").credit == 900)

        // 30 kWh more (6.00): 3.00 is below the 5.00 warning: one low-credit notice with the contact.
        try f.readings("M1", from: "2026-06-01T10:00:00Z", kwh: [10, 10, 10])
        let low = try f.bill(["run", "--now", "2026-06-01T13:00:00Z"])
        #expect(f.summary(low) == ["notification low_credit P1"])
        let notice = f.objects(low).first ?? [:]
        #expect(notice["contact"] as? String == "p1@example.org")
        #expect(notice["balance"] as? Int == 300)
        #expect(notice["v"] as? Int == 1)
        #expect(try f.bill(["run", "--now", "2026-06-01T13:10:00Z"]).stdout.isEmpty)

        // 20 kWh (4.00): −1.00, inside the 3.00 emergency credit.
        try f.readings("M1", from: "2026-06-01T13:00:00Z", kwh: [20])
        #expect(f.summary(try f.bill(["run", "--now", "2026-06-01T14:00:00Z"])) == ["notification emergency_credit P1"])
        // 15 kWh (3.00): −4.00, past the emergency credit at 15:00 on a Monday: disconnect.
        try f.readings("M1", from: "2026-06-01T14:00:00Z", kwh: [15])
        let cut = try f.bill(["run", "--now", "2026-06-01T15:00:00Z"])
        #expect(f.summary(cut) == ["command disconnect P1", "notification disconnected P1"])
        let command = f.objects(cut).first ?? [:]
        #expect(command["meter"] as? String == "M1")
        #expect(command["reason"] as? String == "credit exhausted")
        #expect(try f.balance("P1").credit == -400)
        // Nothing more while disconnected and no payment.
        #expect(try f.bill(["run", "--now", "2026-06-01T15:30:00Z"]).stdout.isEmpty)
    }

    @Test func debitsAcrossAMonthEndAddUpPerDayAndMonth() throws {
        // Opened mid-minute at 2026-06-30T22:00:30Z; hourly 5 kWh (1.00) from 22:00 to 02:00.
        let f = try prepaidFixture(opened: "2026-06-30T22:00:30Z")
        try f.readings("M1", from: "2026-06-30T22:00:00Z", kwh: [5, 5, 5, 5])
        // A run at 23:30 sees data to 24:00: 2 hours (2.00) and 30 June's standing charge (1.00).
        #expect(try f.bill(["run", "--now", "2026-06-30T23:30:00Z"]).status == 0)
        #expect(try f.balance("P1").credit == 2000 - 100 - 100)
        // At 02:00: 2 more hours (2.00) and 1 July's standing charge (1.00): 20.00 − 6.00.
        #expect(try f.bill(["run", "--now", "2026-07-01T02:00:00Z"]).status == 0)
        #expect(try f.balance("P1").credit == 1400)
        #expect(try f.bill(["run", "--now", "2026-07-01T02:10:00Z"]).stdout.isEmpty)
        #expect(try f.balance("P1").credit == 1400)
    }

    @Test func noDisconnectionInFriendlyHoursUntilTheyEnd() throws {
        let f = try prepaidFixture()
        // 2026-06-01 00:00–19:00: 19 hours; 18 of 5 kWh and one of 8 kWh = 98 kWh = 19.60, standing 1.00:
        // −0.60… then 19:00–20:00 16 kWh = 3.20: −3.80, past the emergency credit, at 20:00 (friendly).
        try f.readings("M1", from: "2026-06-01T00:00:00Z", kwh: Array(repeating: 5, count: 18) + [8, 16])
        let evening = try f.bill(["run", "--now", "2026-06-01T20:00:00Z"])
        #expect(f.summary(evening) == ["notification disconnect_deferred P1"])
        #expect(try f.balance("P1").credit == -380)
        #expect(try f.bill(["run", "--now", "2026-06-01T23:00:00Z"]).stdout.isEmpty)
        // 08:30 the next morning (Tuesday) is not friendly: the disconnect goes out. The standing
        // charge of 2 June (1.00) is debited once that day's data arrives.
        try f.readings("M1", from: "2026-06-01T20:00:00Z", kwh: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let morning = try f.bill(["run", "--now", "2026-06-02T08:30:00Z"])
        #expect(f.summary(morning) == ["command disconnect P1", "notification disconnected P1"])
        #expect(try f.balance("P1").credit == -480)
    }

    @Test func aTopUpPaysDebtFirstThenReconnects() throws {
        let f = try prepaidFixture(debt: "40.00")
        // The opening payment of 20.00 gave 5.00 to the debt: credit 15.00, debt 35.00.
        #expect(try f.balance("P1") == (1500, 3500))
        // 90 kWh (18.00) and standing 1.00: −4.00 at 11:00 on a Monday: disconnected.
        try f.readings("M1", from: "2026-06-01T00:00:00Z", kwh: Array(repeating: 9, count: 10))
        #expect(f.summary(try f.bill(["run", "--now", "2026-06-01T11:00:00Z"])).first == "command disconnect P1")
        // 8.00 paid: 2.00 to the debt, credit 2.00: not above the 5.00 threshold, still off.
        let small = try f.bill(["pay", "P1", "8", "--reference", "T2", "--at", "2026-06-01T12:00:00Z"])
        #expect(small.status == 0)
        #expect(small.stdout.isEmpty)
        #expect(small.stderr == "ami-bill: P1: paid 8.00 EUR, debt recovered 2.00, balance 2.00\n")
        // 20.00 more: 5.00 to the debt, credit 17.00: reconnect.
        let top = try f.bill(["pay", "P1", "20.00", "--reference", "T3", "--at", "2026-06-01T12:30:00Z"])
        #expect(f.summary(top) == ["command reconnect P1", "notification reconnected P1"])
        #expect(try f.balance("P1") == (1700, 2800))
        // The same reference twice is refused and changes nothing.
        let twice = try f.bill(["pay", "P1", "20.00", "--reference", "T3"])
        #expect(twice.status == 65)
        #expect(twice.stderr == "ami-bill: payment T3 is already on account P1's ledger\n")
        #expect(try f.balance("P1") == (1700, 2800))
        // The balance at a past time reads the ledger up to then.
        let o = f.objects(try f.bill(["balance", "P1", "--at", "2026-06-01T12:00:00Z"])).first ?? [:]
        #expect(o["credit"] as? Int == 200)
        // Figures for June: one prepaid account, in credit, one payment of each size… and its energy.
        let figures = f.objects(try f.bill(["figures", "--from", "2026-06-01", "--to", "2026-07-01"])).first ?? [:]
        #expect(figures["accounts"] as? Int == 1)
        #expect(figures["in_credit"] as? Int == 1)
        #expect(figures["payments"] as? Int == 3)
        #expect(figures["paid"] as? Int == 4800)
        #expect(figures["energy"] as? Int == 90)
        // ami-report's prepaid segments are the same figures (June in Europe/Amsterdam, as UTC instants).
        let report = try Binaries.run("ami-report", ["prepaid", "--db", f.db, "--format", "jsonl",
                                                     "--from", "2026-05-31T22:00:00Z", "--to", "2026-06-30T22:00:00Z"])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdoutLines == [#"{"type":"prepaid_segments","v":1,"tariff":"credit","start":"2026-05-31T22:00:00Z","end":"2026-06-30T22:00:00Z","accounts":1,"prepaid":1,"invoiced":0,"in_credit":1,"in_warning":0,"disconnected":0,"without_energy":0,"payments":3,"paid":4800,"currency":"EUR","minor_units":2,"energy":90.000000000,"unit":"kWh"}"#])
        // The ledger cannot be rewritten.
        guard let sqlite = ["/usr/bin/sqlite3", "/bin/sqlite3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        for sql in ["UPDATE ledger SET credit = 0", "DELETE FROM ledger"] {
            let rewrite = try Binaries.shell("\(sqlite) \(f.db) \"\(sql)\"")
            #expect(rewrite.status != 0)
            #expect(rewrite.stderr.contains("the ledger is append-only"))
        }
        #expect(try f.balance("P1") == (1700, 2800))
    }

    @Test func postpaidBillsAreStoredOnceAndUnknownAccountsBillNothing() throws {
        let f = try Fixture()
        try f.readings("M2", from: "2026-06-01T00:00:00Z", kwh: Array(repeating: 2, count: 24))
        let tariff = try f.file("home.json", try String(contentsOf: Binaries.packageRoot.appendingPathComponent("samples/tariffs/home-tou.json"), encoding: .utf8))
        #expect(try f.bill(["tariff", "add", tariff]).status == 0)
        #expect(try f.bill(["account", "add", "A2", "--meter", "M2", "--tariff", "home-tou"]).status == 0)
        // An unknown account among the named ones: an error, and no bill at all.
        let bad = try f.bill(["bill", "--from", "2026-06-01", "--to", "2026-06-02", "--account", "A2", "--account", "NOPE"])
        #expect(bad.status == 65)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderr == "ami-bill: no account 'NOPE'\n")
        // 2026-06-01 (Monday) in Amsterdam is 2026-05-31T22:00Z–06-01T22:00Z: the stored hours 00:00Z–22:00Z
        // are 02:00–24:00 local: 02:00–07:00 and 23:00–24:00 night (6 h = 12 kWh × 0.20 = 2.40),
        // 07:00–23:00 day (16 h = 32 kWh × 0.30 = 9.60); standing 0.50: 12.50; VAT 2.625 → 2.63; 15.13.
        let r = try f.bill(["bill", "--from", "2026-06-01", "--to", "2026-06-02"])
        #expect(r.status == 0, "\(r.stderr)")
        let b = f.objects(r).first ?? [:]
        #expect(b["type"] as? String == "bill")
        #expect(b["total"] as? Int == 1513)
        #expect(b["bill"] as? Int == 1)
        #expect(b["revision"] as? Int == 1)
        // Again: the same bill, not a new one.
        let again = f.objects(try f.bill(["bill", "--from", "2026-06-01", "--to", "2026-06-02"])).first ?? [:]
        #expect(again["bill"] as? Int == 1)
        #expect(again["revision"] as? Int == 1)
        // Late data changes it: revision 2.
        try f.readings("M2", from: "2026-05-31T22:00:00Z", kwh: [2, 2])
        let late = f.objects(try f.bill(["bill", "--from", "2026-06-01", "--to", "2026-06-02"])).first ?? [:]
        #expect(late["revision"] as? Int == 2)
        // 4 kWh more at night (00:00–02:00 local) = 0.80: 13.30, VAT 2.793 → 2.79, total 16.09.
        #expect(late["total"] as? Int == 1609)
    }

    @Test func aReplacedMeterIsBilledWithItsSuccessor() throws {
        let f = try Fixture()
        try f.readings("M5", from: "2026-06-01T00:00:00Z", kwh: Array(repeating: 1, count: 12))
        try f.readings("M6", from: "2026-06-01T12:00:00Z", kwh: Array(repeating: 2, count: 12))
        #expect(try Binaries.run("ami-store", ["replace-meter", "--db", f.db, "M5", "M6", "--at", "2026-06-01T12:00:00Z"]).status == 0)
        let tariff = try f.file("credit.json", Self.prepaidTariff)
        #expect(try f.bill(["tariff", "add", tariff]).status == 0)
        #expect(try f.bill(["account", "add", "OLD", "--meter", "M5", "--tariff", "credit"]).status == 0)
        #expect(try f.bill(["account", "add", "NEW", "--meter", "M6", "--tariff", "credit"]).status == 0)
        // 12 × 1 kWh on M5 and 12 × 2 kWh on M6: 36 kWh × 0.20 = 7.20, standing 1.00: 8.20 either way.
        let bills = f.objects(try f.bill(["bill", "--from", "2026-06-01", "--to", "2026-06-02"]))
        #expect(bills.map { $0["total"] as? Int } == [820, 820])
        #expect(bills.map { $0["usage"] as? Int } == [36, 36])
    }

    @Test func aBadTariffIsRefusedNamingFileAndFieldAndNothingIsStored() throws {
        let f = try Fixture()
        let good = try f.file("good.json", Self.prepaidTariff)
        let gap = try f.file("gap.json", """
            {"tariff": "gap", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
             "time_of_use": [{"period": "a", "hours": [["00:00", "12:00"]]}, {"period": "b", "hours": [["12:15", "24:00"]]}],
             "prices": [{"from": "2026-01-01", "energy": {"a": "0.1", "b": "0.2"}}]}
            """)
        let r = try f.bill(["tariff", "add", good, gap])
        #expect(r.status == 78)
        #expect(r.stderr == "ami-bill: \(gap): time_of_use: gap in the calendar: no period covers season all on mondays at 12:00\n")
        #expect(try f.bill(["tariff", "list"]).stdout.isEmpty)
        let check = try Binaries.run("ami-bill", ["tariff", "check", gap])
        #expect(check.status == 78)
    }

    @Test func billsFromReadingsOnStdinWithABadLine() throws {
        let f = try Fixture()
        let tariff = try f.file("credit.json", Self.prepaidTariff)
        let lines = [
            #"{"type":"reading","v":1,"meter":"S1","quantity":"energy","value":1500,"unit":"Wh","interval":900,"time":"2026-06-01T00:15:00Z","protocol":"mbus"}"#,
            #"{"type":"reading","v":1,"meter":"S1""#,
            #"{"type":"reading","v":1,"meter":"S1","quantity":"energy","value":2.5,"unit":"kWh","interval":900,"time":"2026-06-01T00:30:00Z","protocol":"mbus","quality":["3.8.0"]}"#,
            #"{"type":"reading","v":1,"meter":"S2","quantity":"energy","value":1,"unit":"m3","interval":900,"time":"2026-06-01T00:30:00Z","protocol":"mbus"}"#,
        ]
        let input = Array((lines.joined(separator: "\n") + "\n").utf8)
        let r = try Binaries.run("ami-bill", ["bill", "--tariff", tariff, "--from", "2026-06-01", "--to", "2026-06-02"], stdin: input)
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 2)
        #expect(r.stderrLines.first?.hasPrefix("ami-bill: stdin:2 byte 36: json: ") == true)
        #expect(r.stderrLines.last == "ami-bill: stdin:4: meter S2: unit 'm3' cannot be billed in this tariff's unit")
        // S1: 4 kWh × 0.20 = 0.80 (2.5 kWh estimated), standing 1.00: 1.80.
        let bills = f.objects(r)
        #expect(bills.count == 1)
        #expect(bills.first?["total"] as? Int == 180)
        #expect(bills.first?["estimated"] as? Bool == true)
        #expect(bills.first?["estimated_usage"] as? Double == 2.5)
        // --strict: the first bad line stops the run and nothing is billed.
        let strict = try Binaries.run("ami-bill", ["bill", "--strict", "--tariff", tariff, "--from", "2026-06-01", "--to", "2026-06-02"], stdin: input)
        #expect(strict.status == 65)
        #expect(strict.stdout.isEmpty)
    }

    @Test func aURDBRateIsConvertedAndBillsFromStdin() throws {
        guard let corpus = Binaries.corpus else { return }
        let f = try Fixture()
        let urdb = corpus.appendingPathComponent("formats/urdb/tiered_tou_demand_urdb_response.json").path
        let r = try Binaries.run("ami-bill", ["tariff", "import-urdb", urdb, "--name", "tiered", "--time-zone", "America/New_York"])
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let tariff = try f.file("tiered.json", r.stdout)
        #expect(try Binaries.run("ami-bill", ["tariff", "check", tariff]).stdout == "\(tariff): tariff tiered: 1 periods, 1 price versions, 12 seasons, 0 holidays\n")
        // One hour of 15-minute intervals of 20 kWh (80 kW): 80 kWh at 0.10 = 8.00 (the 40,000 kWh
        // tier is far); demand 80 kW: the first 50 kW free, 30 kW at 12.00 = 360.00.
        let lines = ["04:15", "04:30", "04:45", "05:00"].map { hm in
            #"{"type":"reading","v":1,"meter":"U1","quantity":"energy","value":20000,"unit":"Wh","interval":900,"time":"2026-06-01T\#(hm):00Z","protocol":"mbus"}"#
        }
        let bill = try Binaries.run("ami-bill", ["bill", "--tariff", tariff, "--from", "2026-06-01", "--to", "2026-06-02"],
                                    stdin: Array((lines.joined(separator: "\n") + "\n").utf8))
        #expect(bill.status == 0, "\(bill.stderr)")
        let b = f.objects(bill).first ?? [:]
        #expect(b["total"] as? Int == 800 + 36_000)
        #expect((b["lines"] as? [[String: Any]])?.compactMap { $0["amount"] as? Int } == [800, 0, 36_000])
    }

    @Test func anAccountMovedToAnotherTariffIsAudited() throws {
        let f = try Fixture()
        try f.readings("M3", from: "2026-06-01T00:00:00Z", kwh: [1])
        let a = try f.file("a.json", Self.prepaidTariff)
        let b = try f.file("b.json", Self.prepaidTariff.replacingOccurrences(of: "\"credit\"", with: "\"credit2\""))
        #expect(try f.bill(["tariff", "add", a, b]).status == 0)
        #expect(try f.bill(["account", "add", "A3", "--meter", "M3", "--tariff", "credit"]).status == 0)
        #expect(try f.bill(["account", "set-tariff", "A3", "credit2"]).status == 0)
        let unknown = try f.bill(["account", "set-tariff", "A3", "nope"])
        #expect(unknown.status == 65)
        #expect(unknown.stderr == "ami-bill: no tariff 'nope' in the database\n")
        let adjust = try Binaries.run("ami-bill", ["adjust", "--db", f.db, "--reference", "goodwill", "A3", "--", "-2.50"])
        #expect(adjust.stderr == "ami-bill: A3: balance -2.50\n")
        let bad = try f.bill(["adjust", "A3", "1.005"])
        #expect(bad.status == 64)
        guard let sqlite = ["/usr/bin/sqlite3", "/bin/sqlite3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        let audit = try Binaries.shell("\(sqlite) \(f.db) \"SELECT action, entity, key, old, new FROM audit WHERE entity = 'account.tariff'\"")
        #expect(audit.stdout == "update|account.tariff|A3|credit|credit2\n")
    }

    @Test func aClosedOutputEndsQuietly() throws {
        let f = try Fixture()
        let tariff = try f.file("credit.json", Self.prepaidTariff)
        let lines = (0..<3000).map { m in
            #"{"type":"reading","v":1,"meter":"H\#(m)","quantity":"energy","value":1000,"unit":"Wh","interval":900,"time":"2026-06-01T00:15:00Z","protocol":"mbus"}"#
        }
        let input = try f.file("in.jsonl", lines.joined(separator: "\n") + "\n")
        let r = try Binaries.shell("ami-bill bill --tariff \(tariff) --from 2026-06-01 --to 2026-06-02 < \(input) | head -1 >/dev/null; echo ${PIPESTATUS[0]}")
        #expect(r.stdout == "0\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func pricingChangesAreInTheAuditLog() throws {
        let f = try Fixture()
        let v1 = try f.file("t.json", Self.prepaidTariff)
        #expect(try f.bill(["tariff", "add", v1]).stderr == "ami-bill: \(v1): tariff credit: stored\n")
        #expect(try f.bill(["tariff", "add", v1]).stderr == "ami-bill: \(v1): tariff credit: unchanged\n")
        let v2 = try f.file("t2.json", Self.prepaidTariff.replacingOccurrences(of: "\"0.20\"", with: "\"0.22\""))
        #expect(try f.bill(["tariff", "add", v2]).status == 0)
        #expect(try f.bill(["tariff", "list"]).stdout.hasPrefix("credit\t2 versions\t"))
        guard let sqlite = ["/usr/bin/sqlite3", "/bin/sqlite3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        let audit = try Binaries.shell("\(sqlite) \(f.db) \"SELECT action, entity, key, instr(old, '0.20') > 0, instr(new, '0.22') > 0 FROM audit WHERE entity = 'tariff' ORDER BY id\"")
        #expect(audit.stdout == "insert|tariff|credit||0\nupdate|tariff|credit|1|1\n")
    }
}
