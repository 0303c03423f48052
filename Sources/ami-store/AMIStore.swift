import AMICLI
import AMICore
import ArgumentParser
import Foundation

@main
struct AMIStore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-store",
        abstract: "Validate, estimate and keep meter readings in an SQLite database.",
        discussion: "The database is --db FILE, else $AMI_DB. See ami-store(1).",
        subcommands: [Ingest.self, Query.self, VEE.self, Registry.self, ReplaceMeter.self, Prune.self, Setting.self, Check.self]
    )
}

/// `--config FILE` (else $AMI_STORE_CONFIG): the VEE parameters.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "VEE parameters file (default: $AMI_STORE_CONFIG, else built-in defaults).")
    var config: String?

    func load(_ diagnostics: Diagnostics) -> VEEConfig {
        guard let path = config ?? ProcessInfo.processInfo.environment["AMI_STORE_CONFIG"], !path.isEmpty else {
            return VEEConfig()
        }
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try VEEConfig(text: text, name: path)
        } catch let e as StoreError {
            diagnostics.report(nil, e.description)
        } catch {
            diagnostics.report(path, "cannot read: \(error.localizedDescription)")
        }
        ToolMain.exit(.config)
    }
}

extension AMIStore {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store reading, event and frame JSON lines, then run VEE.")

        @Argument(help: "Input files; '-' or none means stdin.")
        var files: [String] = []
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var vee: ConfigOptions
        @Option(name: .long, help: "Meters not in the registry: register or reject.")
        var unknownMeters: String = "register"
        @Option(name: .long, help: "Time (ISO 8601) for readings and events that carry none; without it they are not stored.")
        var readTime: String?
        @Option(name: .long, help: "Records per transaction.")
        var chunk: Int = 200_000
        @Flag(name: .long, help: "Store only; leave VEE queued for a later 'ami-store vee'.")
        var noVee = false
        @Flag(name: .long, help: "Write the summary to stderr as one JSON object.")
        var summaryJson = false
        @OptionGroup var common: CommonOptions

        func validate() throws {
            guard UnknownMeterPolicy(rawValue: unknownMeters) != nil else {
                throw ValidationError("--unknown-meters is register or reject, not '\(unknownMeters)'")
            }
            if let t = readTime { _ = try parseTime(t, "--read-time") }
            guard chunk > 0 else { throw ValidationError("--chunk wants a positive number") }
        }

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            let config = vee.load(diagnostics)
            let store = database.open(diagnostics)
            var settings = IngestCommand.Settings()
            settings.options.unknownMeters = UnknownMeterPolicy(rawValue: unknownMeters)!
            settings.options.readTime = try readTime.map { try parseTime($0, "--read-time") }
            settings.options.chunkSize = chunk
            settings.options.config = config
            settings.strict = common.strict
            settings.vee = !noVee
            settings.summaryJSON = summaryJson
            settings.command = (["ami-store"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let status = IngestCommand.run(store: store, inputs: (files.isEmpty ? ["-"] : files).map(InputFile.init),
                                           settings: settings, diagnostics: diagnostics)
            ToolMain.exit(status)
        }
    }

    struct Query: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write stored readings and events as JSON lines.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var selection: SelectionOptions
        @Flag(name: .long, help: "Leave out the readings of meters a --meter replaced.")
        var noPredecessors = false
        @Option(name: .long, help: "Record types, comma-separated: reading, event, frame (default reading,event).")
        var type: String = "reading,event"

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            var filter = try selection.filter()
            filter.followReplacements = !noPredecessors
            var kinds = Set<QueryFilter.Kind>()
            for name in type.split(separator: ",") {
                guard let k = QueryFilter.Kind(rawValue: String(name)) else {
                    throw ValidationError("--type names reading, event or frame, not '\(name)'")
                }
                kinds.insert(k)
            }
            filter.kinds = kinds
            let store = database.open(diagnostics, readOnly: true)
            let out = RecordOutput(diagnostics: diagnostics)
            do {
                struct Stop: Error {}
                do {
                    try store.query(filter) { record in
                        out.record(record)
                        if out.failure != nil { throw Stop() }
                    }
                } catch is Stop {}
                try out.check()
            } catch is OutputClosed {
                ToolMain.exit(.ok)
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
            ToolMain.exit(.ok)
        }
    }

    struct VEE: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vee", abstract: "Run validation and estimation on what is queued (or on everything).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var vee: ConfigOptions
        @Flag(name: .long, help: "Validate every channel's whole history again.")
        var all = false
        @Flag(name: .long, help: "Write the summary to stderr as one JSON object.")
        var summaryJson = false

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            let config = vee.load(diagnostics)
            let store = database.open(diagnostics)
            do {
                let run = try store.beginRun(command: "ami-store vee" + (all ? " --all" : ""))
                let v = Validation(store: store, config: config, run: run)
                let summary = try all ? v.runAll() : v.runPending()
                let json = StoreReport.json(IngestSummary(), summary)
                try store.finishRun(run, failed: false, summary: json)
                if summaryJson { diagnostics.write(json + "\n") } else { diagnostics.report(nil, StoreReport.text(IngestSummary(), summary)[2]) }
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
            ToolMain.exit(.ok)
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete archived frames older than frame_retention_days.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            let store = database.open(diagnostics)
            do {
                let n = try store.pruneFrames()
                diagnostics.report(nil, "prune: \(n) frames deleted")
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
            ToolMain.exit(.ok)
        }
    }

    struct Setting: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show or change a database setting (frame_retention_days).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The setting's name.")
        var name: String
        @Argument(help: "The new value; without it the current one is printed.")
        var value: String?

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            guard name == "frame_retention_days" else { throw ValidationError("unknown setting '\(name)' (frame_retention_days)") }
            if let v = value { guard let n = Int(v), n >= 0 else { throw ValidationError("\(name) wants whole days") } }
            let store = database.open(diagnostics, readOnly: value == nil)
            do {
                if let v = value { try store.setSetting(name, v) } else { print(try store.setting(name) ?? "") }
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
            ToolMain.exit(.ok)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the database: SQLite integrity, foreign keys, schema version.")
        @OptionGroup var database: DatabaseOptions

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            let store = database.open(diagnostics, readOnly: true)
            do {
                let integrity = try store.db.integrityCheck()
                let fk = try store.db.scalar("SELECT count(*) FROM pragma_foreign_key_check") ?? 0
                print("schema \(store.db.userVersion), integrity \(integrity.joined(separator: "; ")), foreign key errors \(fk)")
                ToolMain.exit(integrity == ["ok"] && fk == 0 ? .ok : .dataError)
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
        }
    }
}

extension AMIStore {
    struct Registry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import or export the meter registry and the hierarchy (CSV or JSON lines).",
            subcommands: [Import.self, Export.self])

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add or update meters and hierarchy nodes.")
            @Argument(help: "Registry files; '-' or none means stdin.")
            var files: [String] = []
            @OptionGroup var database: DatabaseOptions
            @Option(name: .long, help: "csv or jsonl (default: from the file name, else jsonl).")
            var format: String?

            func run() throws {
                ToolMain.prepare()
                let diagnostics = Diagnostics(program: "ami-store")
                var status = ExitStatus.ok
                let inputs = try RegistryFile.read(files, format: format, diagnostics: diagnostics, status: &status)
                let store = database.open(diagnostics)
                do {
                    let run = try store.beginRun(command: (["ami-store"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
                    var changed = 0
                    for input in inputs {
                        changed += try store.importRegistry(input.text, format: input.format, run: run) { line, message in
                            diagnostics.report("\(input.name):\(line)", message)
                            status = max(status, .dataError)
                        }
                    }
                    try store.finishRun(run, failed: false, summary: "{\"type\":\"summary\",\"v\":1,\"registry_changed\":\(changed)}")
                    diagnostics.report(nil, "registry: \(changed) entries added or changed")
                } catch {
                    ToolMain.exit(max(status, IngestCommand.fatal(error, store: store, diagnostics: diagnostics)))
                }
                ToolMain.exit(status)
            }
        }

        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Write the registry to stdout.")
            @OptionGroup var database: DatabaseOptions
            @Option(name: .long, help: "csv or jsonl.")
            var format: String = "jsonl"
            @Option(name: .long, help: "meters, nodes or all (jsonl only: CSV holds one kind).")
            var kind: String = "all"

            func run() throws {
                ToolMain.prepare()
                let diagnostics = Diagnostics(program: "ami-store")
                guard let fmt = RegistryFormat(rawValue: format) else { throw ValidationError("--format is csv or jsonl") }
                guard ["meters", "nodes", "all"].contains(kind) else { throw ValidationError("--kind is meters, nodes or all") }
                if fmt == .csv && kind == "all" { throw ValidationError("CSV holds one kind: give --kind meters or --kind nodes") }
                let store = database.open(diagnostics, readOnly: true)
                do {
                    let text = try store.exportRegistry(format: fmt, nodes: kind != "meters", meters: kind != "nodes")
                    try CheckedOutput().write(text)
                } catch is OutputClosed {
                    ToolMain.exit(.ok)
                } catch {
                    ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
                }
                ToolMain.exit(.ok)
            }
        }
    }

    struct ReplaceMeter: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a meter replacement: OLD removed and NEW installed at --at; NEW continues OLD's channels.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The meter taken out.")
        var old: String
        @Argument(help: "The meter put in.")
        var new: String
        @Option(name: .long, help: "When (ISO 8601).")
        var at: String

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-store")
            let time = try parseTime(at, "--at")
            let store = database.open(diagnostics)
            do {
                let run = try store.beginRun(command: "ami-store replace-meter \(old) \(new) --at \(time)")
                try store.replaceMeter(old: old, new: new, at: time, run: run)
                try store.finishRun(run, failed: false, summary: "{\"type\":\"summary\",\"v\":1,\"replaced\":1}")
            } catch {
                ToolMain.exit(IngestCommand.fatal(error, store: store, diagnostics: diagnostics))
            }
            ToolMain.exit(.ok)
        }
    }
}
