import AMICLI
import AMICore
import ArgumentParser
import Foundation

extension AMIBill {
    struct TariffCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tariff", abstract: "Check, import and store tariffs.",
            subcommands: [Check.self, ImportURDB.self, Add.self, List.self])

        struct Check: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check tariff files (exit 78 at the first bad one).")

            @Argument(help: "Tariff files.")
            var files: [String]

            func run() throws {
                ToolMain.prepare()
                for f in files {
                    let t = readTariff(f).tariff
                    print("\(f): tariff \(t.name): \(t.periods.count) periods, \(t.versions.count) price versions, "
                          + "\(t.seasons.count) seasons, \(t.holidays.count) holidays" + (t.prepaid != nil ? ", prepaid" : ""))
                }
            }
        }

        struct ImportURDB: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "import-urdb", abstract: "Write an OpenEI URDB rate record as an ami-tariff(5) file on stdout.")

            @Argument(help: "The URDB JSON file; '-' or none means stdin.")
            var file: String = "-"
            @Option(name: .long, help: "The tariff's name.")
            var name: String
            @Option(name: .long, help: "The IANA time zone of the schedules, e.g. America/Denver.")
            var timeZone: String
            @Option(name: .long, help: "Currency (default USD).")
            var currency = "USD"
            @Option(name: .long, help: "The date the prices take effect when the record has no startdate.")
            var effective = "2000-01-01"
            @Option(name: .long, help: "Demand window in minutes (default 15).")
            var demandWindow = 15

            func run() throws {
                ToolMain.prepare()
                let input = InputFile(file)
                var bytes: [UInt8] = []
                do {
                    try input.read { bytes += $0; return true }
                } catch {
                    diagnostics.report(input.displayName, "\(error)")
                    ToolMain.exit(.noInput)
                }
                var options = URDBImport.Options(name: name, timeZone: timeZone)
                options.currency = currency
                options.effective = effective
                options.demandWindow = demandWindow
                var importer = URDBImport(file: input.displayName)
                do {
                    let text = try importer.convert(bytes, options: options)
                    for w in importer.warnings { diagnostics.report(input.displayName, "warning: " + w) }
                    try text.utf8.withContiguousStorageIfAvailable { try CheckedOutput().write(UnsafeRawBufferPointer($0)) }
                } catch let e as TariffError {
                    diagnostics.report(nil, e.description)
                    ToolMain.exit(.dataError)
                } catch is OutputClosed {
                } catch {
                    diagnostics.report("stdout", "\(error)")
                    ToolMain.exit(.ioError)
                }
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Store tariff files as new versions (recorded in the audit log); all checked before any is stored.")

            @Argument(help: "Tariff files.")
            var files: [String]
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                ToolMain.prepare()
                let tariffs = files.map { ($0, readTariff($0)) }
                let billing = database.open()
                recorded(billing) { run in
                    for (file, t) in tariffs {
                        let changed = try billing.addTariff(t.text, file: file, run: run)
                        diagnostics.report(file, "tariff \(t.tariff.name): " + (changed ? "stored" : "unchanged"))
                    }
                    return .ok
                }
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List stored tariffs.")
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                ToolMain.prepare()
                let billing = database.open()
                reporting(billing) {
                    for t in try billing.tariffs() { print("\(t.name)\t\(t.versions) versions\tlatest \(t.added)") }
                    return .ok
                }
            }
        }
    }

    struct AccountCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "account", abstract: "Open accounts, import and export them, change their tariff.",
            subcommands: [Add.self, Import.self, Export.self, SetTariff.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Open an account on a registered meter.")

            @Argument(help: "The account's name.")
            var name: String
            @Option(name: .long, help: "The meter's identity (registered in the store).")
            var meter: String
            @Option(name: .long, help: "A stored tariff's name.")
            var tariff: String
            @Flag(name: .long, help: "A prepaid (credit) account; the tariff needs a prepaid section.")
            var prepaid = false
            @Option(name: .long, help: "Who to notify (e-mail, phone…), copied into notification records.")
            var contact: String?
            @Option(name: .long, help: "Debt owed at opening, recovered from top-ups.")
            var debt: String?
            @Option(name: .long, help: "When the account opens (ISO 8601; default now); prepaid debits start here.")
            var opened: String?
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                ToolMain.prepare()
                let opened = try time(self.opened, "--opened") ?? MeterStore.now()
                let billing = database.open()
                recorded(billing) { run in
                    let t = try billing.tariff(tariff).tariff
                    let d = try debt.map { try money($0, t, "--debt") } ?? 0
                    try billing.addAccount(name: name, meter: meter, tariff: tariff, prepaid: prepaid, contact: contact,
                                           opened: opened, debt: d, run: run)
                    return .ok
                }
            }
        }

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Open or update accounts from CSV or JSON-lines files, all in one transaction.")

            @Argument(help: "Account files; '-' or none means stdin.")
            var files: [String] = []
            @Option(name: .long, help: "csv or jsonl (default: from the file name, else jsonl).")
            var format: String?
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var common: CommonOptions

            func run() throws {
                ToolMain.prepare()
                var status = ExitStatus.ok
                let inputs = try RegistryFile.read(files, format: format, diagnostics: diagnostics, status: &status)
                let billing = database.open()
                recorded(billing) { run in
                    let r = try billing.importAccounts(inputs.map { ($0.text, $0.format) }, now: MeterStore.now(), run: run,
                                                       strict: common.strict) { index, line, message in
                        diagnostics.report("\(inputs[index].name):\(line)", message)
                    }
                    diagnostics.report(nil, "accounts: \(r.added) added, \(r.updated) updated, \(r.unchanged) unchanged"
                                       + (r.rejected > 0 ? ", \(r.rejected) refused" : ""))
                    return max(status, r.rejected > 0 ? .dataError : .ok)
                }
            }
        }

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the accounts to stdout, as account import reads them.")

            @Option(name: .long, help: "csv or jsonl.")
            var format: String = "jsonl"
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                ToolMain.prepare()
                guard let fmt = RegistryFormat(rawValue: format) else { throw ValidationError("--format is csv or jsonl") }
                let billing = BillingStore(store: database.open(diagnostics, readOnly: true))
                reporting(billing) {
                    let text = try billing.exportAccounts(format: fmt)
                    do {
                        try CheckedOutput().write(text)
                    } catch is OutputClosed {
                    } catch {
                        diagnostics.report("stdout", "\(error)")
                        return .ioError
                    }
                    return .ok
                }
            }
        }

        struct SetTariff: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "set-tariff", abstract: "Move an account to another stored tariff (recorded in the audit log).")

            @Argument(help: "The account.")
            var name: String
            @Argument(help: "The stored tariff.")
            var tariff: String
            @OptionGroup var database: DatabaseOptions

            func run() throws {
                ToolMain.prepare()
                let billing = database.open()
                recorded(billing) { run in
                    try billing.setTariff(account: name, tariff: tariff, run: run)
                    return .ok
                }
            }
        }
    }
}
