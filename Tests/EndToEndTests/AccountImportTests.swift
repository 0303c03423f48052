import Foundation
import Testing

/// The built `ami-bill account import` and `account export` as an integrator loading a fleet runs
/// them: meters registered with `ami-store registry import`, accounts from CSV and JSON lines.
@Suite struct AccountImportEndToEndTests {
    typealias Fixture = BillEndToEndTests.Fixture

    static let flat = """
        {"tariff": "flat", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
         "prices": [{"from": "2026-01-01", "energy": "0.20"}]}
        """

    /// A database with meters M1–M3 and the tariffs flat (postpaid) and credit (with a prepaid policy).
    func fixture() throws -> Fixture {
        let f = try Fixture()
        let meters = try f.file("meters.csv", "meter,protocol,medium\nM1,mbus,electricity\nM2,mbus,electricity\nM3,mbus,electricity\n")
        let registry = try Binaries.run("ami-store", ["registry", "import", "--db", f.db, meters])
        #expect(registry.status == 0, "\(registry.stderr)")
        let tariffs = [try f.file("flat.json", Self.flat), try f.file("credit.json", BillEndToEndTests.prepaidTariff)]
        #expect(try f.bill(["tariff", "add"] + tariffs).status == 0)
        return f
    }

    static let accountsCSV = """
        account,meter,tariff,mode,contact,opened,debt
        A-1,M1,flat,postpaid,,2026-06-01T00:00:00Z,0
        P-2,M2,credit,prepaid,+31600000000,2026-06-01T00:00:00Z,4000
        X-3,NOPE,flat,postpaid,,2026-06-01T00:00:00Z,0
        X-4,M3,nope,postpaid,,2026-06-01T00:00:00Z,0
        X-5,M3,flat,prepaid,,2026-06-01T00:00:00Z,0
        X-6,M3,flat

        """

    @Test func aFleetFileIsImportedOnceBadLinesAreReportedAndSkipped() throws {
        let f = try fixture()
        let csv = try f.file("accounts.csv", Self.accountsCSV)
        let first = try f.bill(["account", "import", csv])
        #expect(first.status == 65)
        #expect(first.stdout == "")
        #expect(first.stderrLines == [
            "ami-bill: \(csv):4: no meter 'NOPE' in the registry",
            "ami-bill: \(csv):5: no tariff 'nope' in the database",
            "ami-bill: \(csv):6: tariff 'flat' has no prepaid section for a prepaid account",
            "ami-bill: \(csv):7: 3 fields, the header has 7",
            "ami-bill: accounts: 2 added, 0 updated, 0 unchanged, 4 refused",
        ])
        // The accounts work: the prepaid one owes its opening debt.
        let balance = f.objects(try f.bill(["balance", "P-2"])).first ?? [:]
        #expect(balance["credit"] as? Int == 0 && balance["debt"] as? Int == 4000)
        // The same file again changes nothing; the same lines are refused again.
        let again = try f.bill(["account", "import", csv])
        #expect(again.status == 65)
        #expect(again.stderrLines.last == "ami-bill: accounts: 0 added, 0 updated, 2 unchanged, 4 refused")
        #expect(try f.balance("P-2") == (credit: 0, debt: 4000))
        // --strict stops at the first bad line and imports nothing, not even the good lines before it.
        let g = try fixture()
        let strict = try g.bill(["account", "import", "--strict", csv])
        #expect(strict.status == 65)
        #expect(strict.stderrLines == [
            "ami-bill: \(csv):4: no meter 'NOPE' in the registry",
            "ami-bill: --strict: stopped at the first bad record; no account imported",
        ])
        #expect(try g.bill(["account", "export"]).stdout == "")
    }

    @Test func exportThenImportRoundTripsInCSVAndJSONLines() throws {
        let f = try fixture()
        let jsonl = """
            {"type":"account","v":1,"account":"A-1","meter":"M1","tariff":"flat","opened":"2026-06-01T00:00:00Z"}
            {"type":"account","v":1,"account":"P-2","meter":"M2","tariff":"credit","mode":"prepaid","contact":"p2@example.org","opened":"2026-06-01T00:00:00Z","debt":4000}

            """
        let imported = try f.bill(["account", "import"], stdin: jsonl)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr == "ami-bill: accounts: 2 added, 0 updated, 0 unchanged\n")
        let exported = try f.bill(["account", "export"])
        #expect(exported.status == 0)
        #expect(exported.stdoutLines == [
            #"{"type":"account","v":1,"account":"A-1","meter":"M1","tariff":"flat","mode":"postpaid","opened":"2026-06-01T00:00:00Z","debt":0}"#,
            #"{"type":"account","v":1,"account":"P-2","meter":"M2","tariff":"credit","mode":"prepaid","contact":"p2@example.org","opened":"2026-06-01T00:00:00Z","debt":4000}"#,
        ])
        let csv = try f.bill(["account", "export", "--format", "csv"])
        #expect(csv.stdout == """
            account,meter,tariff,mode,contact,opened,debt
            A-1,M1,flat,postpaid,,2026-06-01T00:00:00Z,0
            P-2,M2,credit,prepaid,p2@example.org,2026-06-01T00:00:00Z,4000

            """)
        // Back into the same database: unchanged.
        let same = try f.bill(["account", "import", "--format", "csv"], stdin: csv.stdout)
        #expect(same.status == 0)
        #expect(same.stderr == "ami-bill: accounts: 0 added, 0 updated, 2 unchanged\n")
        // Into another database: the same export, in both formats.
        for (text, format) in [(exported.stdout, "jsonl"), (csv.stdout, "csv")] {
            let g = try fixture()
            let copy = try g.bill(["account", "import", "--format", format], stdin: text)
            #expect(copy.status == 0, "\(copy.stderr)")
            #expect(try g.bill(["account", "export"]).stdout == exported.stdout)
        }
        // A changed tariff is an update; a changed meter is refused.
        let moved = try f.bill(["account", "import"], stdin: """
            {"type":"account","v":1,"account":"A-1","meter":"M1","tariff":"credit"}
            {"type":"account","v":1,"account":"P-2","meter":"M3","tariff":"credit","mode":"prepaid","contact":"p2@example.org","debt":4000}

            """)
        #expect(moved.status == 65)
        #expect(moved.stderrLines == [
            "ami-bill: stdin:2: account 'P-2' is on meter 'M2', not 'M3': import does not move an account",
            "ami-bill: accounts: 0 added, 1 updated, 0 unchanged, 1 refused",
        ])
    }

    @Test func usageAndUnreadableFiles() throws {
        let f = try fixture()
        let format = try f.bill(["account", "import", "--format", "xml"])
        #expect(format.status == 64)
        let missing = try f.bill(["account", "import", f.dir + "/none.csv"])
        #expect(missing.status == 66)
        #expect(missing.stderrLines.first == "ami-bill: \(f.dir)/none.csv: No such file or directory")
        #expect(try f.bill(["account", "export", "--format", "xlsx"]).status == 64)
    }
}
