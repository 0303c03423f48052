import AMICLI
import AMICore
import ArgumentParser
import Foundation

@main
struct AMIBill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-bill",
        abstract: "Bills from meter readings, and prepaid credit with disconnect and reconnect.",
        discussion: "The database is --db FILE, else $AMI_DB. See ami-bill(1) and ami-tariff(5).",
        subcommands: [Bill.self, Run.self, Pay.self, Adjust.self, Balance.self, Figures.self, TariffCommand.self,
                      AccountCommand.self]
    )
}

let diagnostics = Diagnostics(program: "ami-bill")

extension DatabaseOptions {
    /// Opens the store for billing, or reports why not and exits.
    func open() -> BillingStore { BillingStore(store: open(diagnostics)) }
}

func time(_ text: String?, _ option: String) throws -> UTCTime? {
    guard let text else { return nil }
    guard let t = UTCTime(iso8601: text) else { throw ValidationError("\(option) wants an ISO 8601 time like 2026-03-01T00:00:00Z") }
    return t
}

func billTime(_ text: String, _ option: String) throws -> BillTime {
    guard let t = BillTime(text) else {
        throw ValidationError("\(option) wants a local date YYYY-MM-DD or an ISO 8601 time")
    }
    return t
}

func readTariff(_ path: String) -> (text: String, tariff: Tariff) {
    let input = InputFile(path)
    var bytes: [UInt8] = []
    do {
        try input.read { bytes += $0; return true }
    } catch {
        diagnostics.report(input.displayName, "\(error)")
        ToolMain.exit(.noInput)
    }
    do {
        return (String(decoding: bytes, as: UTF8.self), try TariffParser.parse(bytes, file: input.displayName))
    } catch {
        diagnostics.report(nil, error.description)
        ToolMain.exit(.config)
    }
}

/// Runs `body` as one recorded run of the store (command line, status and summary in `run`), and
/// exits with the status of what failed.
func recorded(_ billing: BillingStore, _ body: (Int64) throws -> ExitStatus) -> Never {
    let command = (["ami-bill"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    do {
        let run = try billing.store.beginRun(command: command)
        do {
            let status = try body(run)
            try billing.store.finishRun(run, failed: false, summary: "{\"status\":\(status.rawValue)}")
            ToolMain.exit(status)
        } catch {
            try? billing.store.finishRun(run, failed: true, summary: "{\"error\":\(JSONObjectText.quoted("\(error)"))}")
            throw error
        }
    } catch {
        ToolMain.exit(BillCommand.fail(error, store: billing.store, diagnostics: diagnostics))
    }
}

/// Runs `body` (which changes nothing) and exits with its status, or with the status of what failed.
func reporting(_ billing: BillingStore, _ body: () throws -> ExitStatus) -> Never {
    do {
        ToolMain.exit(try body())
    } catch {
        ToolMain.exit(BillCommand.fail(error, store: billing.store, diagnostics: diagnostics))
    }
}

/// What a payment or an adjustment names: account, amount, reference, time.
struct LedgerEntryOptions: ParsableArguments {
    @Argument(help: "The account.")
    var account: String
    @Argument(help: "The amount, e.g. 20.00 (adjust: after --, -5.00 takes credit away).")
    var amount: String
    @Option(name: .long, help: "A reference kept on the ledger; a payment reference already there is refused.")
    var reference: String?
    @Option(name: .long, help: "When (ISO 8601; default now).")
    var at: String?
    @OptionGroup var database: DatabaseOptions

    /// The entry as one recorded run: `body` makes the ledger entries (with the amount in minor units
    /// of the account's tariff) and returns what to report on stderr.
    func record(_ body: (Prepaid, Int64, Tariff, UTCTime) throws -> String) throws -> Never {
        let at = try time(self.at, "--at") ?? MeterStore.now()
        let billing = database.open()
        recorded(billing) { run in
            let t = try billing.tariff(try billing.account(account).tariff).tariff
            let minor = try money(amount, t, "amount")
            let prepaid = Prepaid(billing: billing, run: run)
            diagnostics.report(account, try body(prepaid, minor, t, at))
            return output(prepaid.records)
        }
    }
}

func output(_ records: [JSONObjectText]) -> ExitStatus {
    BillCommand.write(records, RecordOutput(diagnostics: diagnostics))
}

func money(_ text: String, _ t: Tariff, _ what: String) throws -> Int64 {
    guard let m = Money.minor(text, minorUnits: t.minorUnits) else {
        throw ValidationError("\(what) '\(text)' is not an amount with at most \(t.minorUnits) decimals")
    }
    return m
}

extension AMIBill {
    struct Bill: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Postpaid bills for a span: from the store's accounts, or (with --tariff) from readings on stdin.")

        @Argument(help: "With --tariff: input files of JSON lines; '-' or none means stdin.")
        var files: [String] = []
        @Option(name: .long, help: "Start: a local date YYYY-MM-DD (midnight in the tariff's zone) or an ISO 8601 time.")
        var from: String
        @Option(name: .long, help: "End (not included), as --from.")
        var to: String
        @Option(name: .long, help: "Only this account (repeatable); default every postpaid account.")
        var account: [String] = []
        @Option(name: .long, help: "Bill readings from the input with this tariff file (one bill per meter); no database.")
        var tariff: String?
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var common: CommonOptions

        func run() throws {
            ToolMain.prepare()
            let from = try billTime(self.from, "--from"), to = try billTime(self.to, "--to")
            if let path = tariff {
                guard account.isEmpty else { throw ValidationError("--account is for bills from the database, not with --tariff") }
                let t = readTariff(path).tariff
                let status = BillCommand.billStream(inputs: (files.isEmpty ? ["-"] : files).map(InputFile.init), tariff: t,
                                                    from: from.resolve(t), to: to.resolve(t), strict: common.strict,
                                                    sink: RecordOutput(diagnostics: diagnostics))
                ToolMain.exit(status)
            }
            guard files.isEmpty else { throw ValidationError("input files are read only with --tariff") }
            let billing = database.open()
            recorded(billing) { run in
                output(try billing.billAccounts(account, from: from, to: to, run: run).map(\.record))
            }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prepaid: debit consumption since the last run, warn, disconnect or reconnect.")

        @Option(name: .long, help: "The run's time (ISO 8601; default now).")
        var now: String?
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            ToolMain.prepare()
            let now = try time(self.now, "--now") ?? MeterStore.now()
            let billing = database.open()
            recorded(billing) { run in
                let prepaid = Prepaid(billing: billing, run: run)
                do {
                    try prepaid.runAll(now: now)
                } catch {
                    // What was done for earlier accounts is committed: say so on stdout too.
                    _ = output(prepaid.records)
                    throw error
                }
                return output(prepaid.records)
            }
        }
    }

    struct Pay: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a payment (top-up) on an account's ledger.")

        @OptionGroup var entry: LedgerEntryOptions

        func run() throws {
            ToolMain.prepare()
            try entry.record { prepaid, minor, t, at in
                let r = try prepaid.pay(account: entry.account, amount: minor, reference: entry.reference, at: at)
                return "paid \(Money.text(minor, minorUnits: t.minorUnits)) \(t.currency)"
                    + (r.recovered > 0 ? ", debt recovered \(Money.text(r.recovered, minorUnits: t.minorUnits))" : "")
                    + ", balance \(Money.text(r.balance, minorUnits: t.minorUnits))"
            }
        }
    }

    struct Adjust: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Adjust an account's credit (or, with --debt, its debt).")

        @OptionGroup var entry: LedgerEntryOptions
        @Flag(name: .long, help: "Change the debt owed instead of the credit.")
        var debt = false

        func run() throws {
            ToolMain.prepare()
            try entry.record { prepaid, minor, t, at in
                let balance = try prepaid.adjust(account: entry.account, amount: minor, debt: debt, reference: entry.reference, at: at)
                return "balance \(Money.text(balance, minorUnits: t.minorUnits))"
            }
        }
    }

    struct Balance: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An account's credit and debt (a balance record).")

        @Argument(help: "The account.")
        var accountName: String
        @Option(name: .long, help: "The balance at this time (ISO 8601; default: every entry).")
        var at: String?
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            ToolMain.prepare()
            let at = try time(self.at, "--at")
            let billing = database.open()
            reporting(billing) { output([try billing.balanceRecord(account: accountName, at: at)]) }
        }
    }

    struct Figures: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Segments and figures per tariff for a span.")

        @Option(name: .long, help: "Start: a local date YYYY-MM-DD or an ISO 8601 time.")
        var from: String
        @Option(name: .long, help: "End (not included), as --from.")
        var to: String
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            ToolMain.prepare()
            let from = try billTime(self.from, "--from"), to = try billTime(self.to, "--to")
            let billing = database.open()
            reporting(billing) { output(try billing.figures(from: from, to: to).map(\.record)) }
        }
    }
}
