import AMICLI
import AMICore
import ArgumentParser
import Foundation

/// A registry entry's options that do not make a valid session of its protocol.
struct SessionError: Error, CustomStringConvertible {
    var description: String
}

/// An `ami-read PROTOCOL` command that reads one meter: its settings from the options, the
/// secrets added from a key file or the environment, and the session that runs them.
protocol MeterReadCommand: ParsableCommand {
    associatedtype Settings
    /// Everything but the secrets; throws `ValidationError` on bad options.
    func settings() throws -> Settings
    /// Keys and passwords; throws `SecretError` for an unusable key file.
    func addSecrets(to s: inout Settings) throws
    static func session(_ s: Settings, output: RecordOutput) -> ExitStatus
}

extension MeterReadCommand {
    /// The one-meter command: one session, its status the exit status.
    func run() throws {
        try ReadSessionMain.run(settings: settings, addSecrets: addSecrets, session: Self.session)
    }

    /// The session these arguments stand for, made as `ami-read PROTOCOL ARGUMENTS` would run it.
    static func session(arguments: [String]) throws -> MeterSession {
        var settings: Settings
        do {
            let command = try parse(arguments)
            settings = try command.settings()
            try command.addSecrets(to: &settings)
        } catch let error as SecretError {
            throw error
        } catch {
            throw SessionError(description: message(for: error))
        }
        return { session(settings, output: $0) }
    }
}

/// The commands of the registry's protocol names.
let meterReaders: [String: any MeterReadCommand.Type] = [
    "dlms": DLMS.self, "iec62056-21": IEC.self, "mbus": MBus.self, "modbus": Modbus.self,
]

/// The session `ami-read PROTOCOL ARGUMENTS` stands for, by the registry's protocol name; made on
/// the thread that runs it.
let meterSession: SessionMaker = { protocolName, arguments in
    guard let command = meterReaders[protocolName] else {
        throw SessionError(description: "protocol \"\(protocolName)\" is not one ami-read reads (\(meterReaders.keys.sorted().joined(separator: ", ")))")
    }
    return try command.session(arguments: arguments)
}

struct Fleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Read the meters of a registry, many at once, each through its protocol.",
        discussion: "REGISTRY holds meter records (JSON lines, as ami-store registry export writes them) with protocol, address and read options. See ami-read(1)."
    )

    @Argument(help: "Registry files; '-' or none means stdin.") var registry: [String] = []
    @Option(help: "Read only the meters of this group (or hierarchy node and below); repeatable.") var group: [String] = []
    @Option(help: "Read only this meter; repeatable.") var meter: [String] = []
    @Option(help: "Read only shard K of N (1 ≤ K ≤ N), so N hosts share the fleet.") var shard: String?
    @Option(help: "Sessions at once (meters behind one address are always read one at a time).") var concurrency: Int = 64
    @Option(help: "Lock file that keeps overlapping runs of this fleet apart (default: in the state folder).") var lock: String?
    @Flag(help: "Take no lock.") var noLock = false
    @OptionGroup var defaults: SessionDefaults
    @OptionGroup var common: CommonOptions

    func selection() throws -> FleetSelection {
        var s = FleetSelection()
        s.groups = group
        s.meters = meter
        if let shard {
            guard let k = FleetSelection.parseShard(shard) else { throw ValidationError("--shard wants K/N with 1 ≤ K ≤ N, not '\(shard)'") }
            s.shard = k
        }
        return s
    }

    func validate() throws {
        _ = try selection()
        guard (1...4096).contains(concurrency) else { throw ValidationError("--concurrency wants 1 to 4096") }
        if noLock && lock != nil { throw ValidationError("give --lock or --no-lock, not both") }
    }

    func run() throws {
        ToolMain.prepare()
        let diagnostics = Diagnostics(program: "ami-read")
        let inputs = (registry.isEmpty ? ["-"] : registry).map(InputFile.init)
        let selection = try selection()
        var lockPath = lock
        if lock == nil && !noLock {
            let state = StateDirectory.path(environment: ProcessInfo.processInfo.environment)
            do {
                try StateDirectory.make(state)
            } catch {
                diagnostics.report(nil, error.description)
                ToolMain.exit(.ioError)
            }
            lockPath = ReadFleet.defaultLockPath(registry: inputs, selection: selection, stateDirectory: state)
        }
        ToolMain.exit(ReadFleet.read(registry: inputs, selection: selection, concurrency: concurrency,
                                     defaults: defaults.arguments, lockPath: lockPath,
                                     strict: common.strict, diagnostics: diagnostics, makeSession: meterSession))
    }
}

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Carry out command records (disconnect, reconnect, set_clock) on the meters of a registry.",
        discussion: "ami-bill run | ami-read exec --registry meters.jsonl | ami-decode | ami-store ingest. See ami-read(1)."
    )

    @Option(help: "Registry file of the meters (JSON lines).") var registry: String
    @Argument(help: "JSON-lines files of command records; '-' or none means stdin.") var files: [String] = []
    @Option(help: "Sessions at once (commands on one meter and meters behind one address run in order).") var concurrency: Int = 16
    @OptionGroup var defaults: SessionDefaults
    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard (1...4096).contains(concurrency) else { throw ValidationError("--concurrency wants 1 to 4096") }
    }

    func run() throws {
        ToolMain.prepare()
        let diagnostics = Diagnostics(program: "ami-read")
        let (meters, registryStatus) = FleetRegistry.load([InputFile(registry)], defaults: defaults.arguments,
                                                          strict: common.strict, diagnostics: diagnostics)
        if registryStatus != .ok && (common.strict || meters.isEmpty) { ToolMain.exit(registryStatus) }
        let inputs = (files.isEmpty ? ["-"] : files).map(InputFile.init)
        let status = ReadExec.run(inputs: inputs, registry: meters, concurrency: concurrency, strict: common.strict,
                                  diagnostics: diagnostics, makeSession: meterSession)
        ToolMain.exit(max(status, registryStatus))
    }
}

/// `--description FILE`, shown in the help of the one-meter commands; `AMIRead.main` puts the
/// file's options in its place before the command line is parsed, so it is never set here.
struct DescriptionOption: ParsableArguments {
    @Option(help: "Meter description: a JSON object of these long options, read first; the command line overrides it.")
    var description: String?
}

/// `--timeout` and `--retries` for the meters whose registry entry does not set them.
struct SessionDefaults: ParsableArguments {
    @Option(help: "Seconds to wait for each answer, for meters whose registry entry sets none.") var timeout: Double?
    @Option(help: "Retries after a timeout, for meters whose registry entry sets none.") var retries: Int?

    /// The options put before each meter's own, which win over them.
    var arguments: [String] {
        (timeout.map { ["--timeout", String($0)] } ?? []) + (retries.map { ["--retries", String($0)] } ?? [])
    }
}
