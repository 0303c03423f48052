import AMICLI
import AMICore
import ArgumentParser
import Foundation

@main
struct AMIReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-report",
        abstract: "Reports from an ami-store database, as JSON lines or a table.",
        discussion: "The database is --db FILE, else $AMI_DB. See ami-report(1).",
        subcommands: [Consumption.self, LoadProfile.self, Peak.self, Completeness.self, NotRead.self, Events.self,
                      Anomalies.self, Reactive.self, Top.self, VEE.self, Prepaid.self, Chart.self]
    )
}

/// What every report takes: the database, the selection, the grouping, the zone and the format.
struct ReportOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var selection: SelectionOptions
    @Option(name: .long, help: "Group by: meter, all, or a hierarchy level (region, substation…); default meter.")
    var by: String?
    @Option(name: .long, help: "IANA time zone of period boundaries and nights.")
    var tz: String = "UTC"
    @Option(name: .long, help: "jsonl or table (default: table when stdout is a terminal).")
    var format: String?

    func validate() throws {
        if let f = format, f != "jsonl" && f != "table" { throw ValidationError("--format is jsonl or table") }
        guard LocalTimeZone(tz) != nil else { throw ValidationError("--tz wants an IANA time zone like Europe/Amsterdam, not '\(tz)'") }
        let f = try selection.filter()
        if let from = f.from, let to = f.to, from >= to { throw ValidationError("--from must be before --to") }
    }

    func scope(period: ReportPeriod = .total, by defaultBy: String = "meter") throws -> ReportScope {
        var s = ReportScope()
        s.filter = try selection.filter()
        s.by = by ?? defaultBy
        s.period = period
        s.zone = LocalTimeZone(tz)!
        return s
    }

    /// Opens the database read-only, runs `report` and writes its rows; exits.
    func run(period: ReportPeriod = .total, _ report: (ReportContext) throws -> [ReportRow]) throws -> Never {
        ToolMain.prepare()
        let diagnostics = Diagnostics(program: "ami-report")
        let scope = try self.scope(period: period)
        let store = database.open(diagnostics, readOnly: true)
        do {
            let rows = try report(try ReportContext(store: store, scope: scope))
            let table = format.map { $0 == "table" } ?? (isatty(1) == 1)
            let text = table ? ReportTable.render(rows) : rows.map { $0.jsonLine + "\n" }.joined()
            try CheckedOutput().write(text)
        } catch is OutputClosed {
            ToolMain.exit(.ok)
        } catch {
            ToolMain.exit(AMIReport.fail(error, store: store, diagnostics: diagnostics))
        }
        ToolMain.exit(.ok)
    }
}

extension AMIReport {
    /// Reports a failure and returns its status: 65 for a selection that fails, 69 when the data
    /// a report needs is not in the database, else as ami-store.
    static func fail(_ error: Error, store: MeterStore, diagnostics: Diagnostics) -> ExitStatus {
        if let e = error as? ReportError {
            diagnostics.report(nil, e.description)
            return e.unavailable ? .unavailable : .dataError
        }
        return IngestCommand.fatal(error, store: store, diagnostics: diagnostics)
    }
}

/// `--period hour|day|month|total`.
struct PeriodOption: ParsableArguments {
    @Option(name: .long, help: "hour, day, month or total.")
    var period: String = "total"

    func validate() throws {
        guard ReportPeriod(rawValue: period) != nil else { throw ValidationError("--period is hour, day, month or total") }
    }

    var value: ReportPeriod { ReportPeriod(rawValue: period)! }
}

func decimalOption(_ text: String, _ name: String) throws -> ExactDecimal {
    guard let d = ExactDecimal(text), d.significand >= 0 else { throw ValidationError("\(name) wants a decimal number ≥ 0") }
    return d
}

extension AMIReport {
    struct Consumption: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Consumption per group and period.")
        @OptionGroup var options: ReportOptions
        @OptionGroup var period: PeriodOption
        func run() throws { try options.run(period: period.value) { try $0.consumption() } }
    }

    struct LoadProfile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "load-profile", abstract: "Intervals summed per group.")
        @OptionGroup var options: ReportOptions
        func run() throws { try options.run { try $0.loadProfile() } }
    }

    struct Peak: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Peak interval (demand) per group and period.")
        @OptionGroup var options: ReportOptions
        @OptionGroup var period: PeriodOption
        func run() throws { try options.run(period: period.value) { try $0.peakDemand() } }
    }

    struct Completeness: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Expected against received intervals per group.")
        @OptionGroup var options: ReportOptions
        func run() throws { try options.run { try $0.completeness() } }
    }

    struct NotRead: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "not-read", abstract: "Meters not read for some days.")
        @OptionGroup var options: ReportOptions
        @Option(name: .long, help: "Days without a reading.")
        var days: Int = 3
        @Option(name: .long, help: "The time to count from (ISO 8601; default now).")
        var now: String?
        func validate() throws { guard days >= 0 else { throw ValidationError("--days wants a whole number ≥ 0") } }
        func run() throws {
            let t = try now.map { try parseTime($0, "--now") } ?? MeterStore.now()
            try options.run { try $0.notRead(days: days, now: t) }
        }
    }

    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The events and alarms archive.")
        @OptionGroup var options: ReportOptions
        @Option(name: .long, help: "Only this class (repeatable): tamper, fault, power, other, alarm.")
        var `class`: [String] = []
        func validate() throws {
            for c in `class` where !["tamper", "fault", "power", "other", "alarm"].contains(c) {
                throw ValidationError("--class is tamper, fault, power, other or alarm, not '\(c)'")
            }
        }
        func run() throws { try options.run { try $0.eventArchive(classes: Set(`class`)) } }
    }

    struct Anomalies: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Leaks, reverse flow, tamper, faults, zero use, sudden changes.")
        @OptionGroup var options: ReportOptions
        @Option(name: .long, help: "Kinds, comma-separated (default all): \(AnomalyOptions.allKinds.joined(separator: ", ")).")
        var kind: String?
        @Option(name: .long, help: "Nights in a row with flow for a leak.")
        var nights: Int = 3
        @Option(name: .long, help: "The night, local hours START-END.")
        var night: String = "1-5"
        @Option(name: .long, help: "Days of history a day is compared with.")
        var history: Int = 7
        @Option(name: .long, help: "Sudden change factor.")
        var factor: String = "3"

        func anomalyOptions() throws -> AnomalyOptions {
            var o = AnomalyOptions()
            if let k = kind {
                o.kinds = Set(k.split(separator: ",").map(String.init))
                for x in o.kinds where !AnomalyOptions.allKinds.contains(x) {
                    throw ValidationError("--kind names \(AnomalyOptions.allKinds.joined(separator: ", ")), not '\(x)'")
                }
            }
            let hours = night.split(separator: "-").compactMap { Int($0) }
            guard hours.count == 2, 0 <= hours[0], hours[0] < hours[1], hours[1] <= 24 else {
                throw ValidationError("--night wants local hours START-END with START < END, like 1-5")
            }
            guard nights > 0, history > 0 else { throw ValidationError("--nights and --history want a positive number") }
            o.nightStart = hours[0]
            o.nightEnd = hours[1]
            o.nights = nights
            o.history = history
            o.factor = try decimalOption(factor, "--factor")
            guard o.factor > ExactDecimal(1) else { throw ValidationError("--factor wants a number above 1") }
            return o
        }

        func validate() throws { _ = try anomalyOptions() }
        func run() throws {
            let o = try anomalyOptions()
            try options.run { try $0.anomalies(o) }
        }
    }

    struct Reactive: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Inductive and capacitive ratios against limits.")
        @OptionGroup var options: ReportOptions
        @OptionGroup var period: PeriodOption
        @Option(name: .long, help: "Largest inductive ratio varh/Wh allowed.")
        var inductiveLimit: String = "0.33"
        @Option(name: .long, help: "Largest capacitive ratio varh/Wh allowed.")
        var capacitiveLimit: String = "0.33"
        func validate() throws {
            _ = try decimalOption(inductiveLimit, "--inductive-limit")
            _ = try decimalOption(capacitiveLimit, "--capacitive-limit")
        }
        func run() throws {
            let i = try decimalOption(inductiveLimit, "--inductive-limit"), c = try decimalOption(capacitiveLimit, "--capacitive-limit")
            try options.run(period: period.value) { try $0.reactive(inductiveLimit: i, capacitiveLimit: c) }
        }
    }

    struct Top: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The largest consumers over the window.")
        @OptionGroup var options: ReportOptions
        @Option(name: .long, help: "How many per quantity.")
        var limit: Int = 10
        func validate() throws { guard limit > 0 else { throw ValidationError("--limit wants a positive number") } }
        func run() throws { try options.run { try $0.topConsumers(limit: limit) } }
    }

    struct VEE: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "vee", abstract: "VEE statistics from the quality flags.")
        @OptionGroup var options: ReportOptions
        func run() throws { try options.run { try $0.veeStatistics() } }
    }

    struct Prepaid: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prepaid segments (from ami-bill's tables).")
        @OptionGroup var options: ReportOptions
        func run() throws { try options.run { try $0.prepaidSegments() } }
    }

    struct Chart: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An SVG chart of a load profile or a consumption series.")
        @OptionGroup var options: ReportOptions
        @Argument(help: "load-profile or consumption.")
        var kind: String
        @Option(name: .long, help: "For consumption: hour, day or month.")
        var period: String = "day"
        @Option(name: .shortAndLong, help: "The SVG file ('-' for stdout).")
        var output: String

        func validate() throws {
            guard ["load-profile", "consumption"].contains(kind) else { throw ValidationError("the chart kind is load-profile or consumption") }
            guard let p = ReportPeriod(rawValue: period), p != .total else { throw ValidationError("--period is hour, day or month") }
        }

        func run() throws {
            ToolMain.prepare()
            let diagnostics = Diagnostics(program: "ami-report")
            let scope = try options.scope(period: ReportPeriod(rawValue: period)!, by: "all")
            let store = options.database.open(diagnostics, readOnly: true)
            let svg: String
            do {
                svg = SVGChart.render(try ReportContext(store: store, scope: scope).chartSeries(kind: kind))
            } catch {
                ToolMain.exit(AMIReport.fail(error, store: store, diagnostics: diagnostics))
            }
            do {
                if output == "-" {
                    try CheckedOutput().write(svg)
                } else {
                    // Written beside the target, then renamed over it: a reader never sees half a file.
                    let url = URL(fileURLWithPath: output)
                    let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
                    try Data(svg.utf8).write(to: temporary)
                    guard rename(temporary.path, url.path) == 0 else {
                        let e = String(cString: strerror(errno))
                        try? FileManager.default.removeItem(at: temporary)
                        throw ReportError(e)
                    }
                }
            } catch is OutputClosed {
                ToolMain.exit(.ok)
            } catch {
                diagnostics.report(output, "cannot write: \(error)")
                ToolMain.exit(.ioError)
            }
            ToolMain.exit(.ok)
        }
    }
}
