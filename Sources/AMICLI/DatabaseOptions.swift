import AMICore
import ArgumentParser
import Foundation

/// The options of every command that opens an ami-store database: `--db` (else `$AMI_DB`), `--busy-timeout`.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The database file (default: $AMI_DB).")
    public var db: String?

    @Option(name: .long, help: "Seconds to wait for another process's write lock before giving up (exit 75).")
    public var busyTimeout: Int = 30

    public init() {}

    public func validate() throws {
        guard (0...86_400).contains(busyTimeout) else { throw ValidationError("--busy-timeout wants 0 to 86400 seconds") }
    }

    /// Opens the store, or reports why not and exits.
    public func open(_ diagnostics: Diagnostics, readOnly: Bool = false) -> MeterStore {
        let env = ProcessInfo.processInfo.environment
        guard let path = MeterStore.path(option: db, environment: env) else {
            diagnostics.report(nil, "no database: give --db FILE or set AMI_DB")
            ToolMain.exit(.usage)
        }
        do {
            return try MeterStore(path: path, who: MeterStore.user(environment: env),
                                  busyTimeout: Int32(busyTimeout * 1000), readOnly: readOnly)
        } catch let e as SQLiteError {
            diagnostics.report(path, e.explanation)
            ToolMain.exit(e.isBusy ? .tempFail : .ioError)
        } catch {
            diagnostics.report(path, "\(error)")
            ToolMain.exit(.ioError)
        }
    }
}

/// Which meters, quantities and times a command reads from the store (`ami-store query`, ami-report).
public struct SelectionOptions: ParsableArguments {
    @Option(name: .long, help: "Only this meter (repeatable); the meters it replaced come along.")
    public var meter: [String] = []
    @Option(name: .long, help: "Only meters under this hierarchy path.")
    public var node: String?
    @Option(name: .long, help: "Only this quantity (repeatable).")
    public var quantity: [String] = []
    @Option(name: .long, help: "From this time on (ISO 8601).")
    public var from: String?
    @Option(name: .long, help: "Before this time (ISO 8601).")
    public var to: String?

    public init() {}

    public func validate() throws { _ = try filter() }

    /// The selection as a store filter (all record kinds left as they are by default).
    public func filter() throws -> QueryFilter {
        var f = QueryFilter()
        f.meters = meter
        f.node = node
        f.quantities = quantity
        f.from = try from.map { try parseTime($0, "--from") }
        f.to = try to.map { try parseTime($0, "--to") }
        return f
    }
}

/// An ISO 8601 time option's value, or a usage error naming the option.
public func parseTime(_ text: String, _ option: String) throws -> UTCTime {
    guard let t = UTCTime(iso8601: text) else { throw ValidationError("\(option) wants an ISO 8601 time like 2026-01-05T00:00:00Z") }
    return t
}
