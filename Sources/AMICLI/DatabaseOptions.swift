import AMICore
import ArgumentParser
import Foundation

/// Options every subcommand that opens the database takes.
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
        } catch {
            diagnostics.report(path, "\(error)")
            ToolMain.exit((error as? SQLiteError)?.isBusy == true ? .tempFail : .ioError)
        }
    }
}
