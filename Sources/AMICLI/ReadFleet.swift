import AMICore
import Foundation
import Synchronization

/// A session with one meter, ready to run: reads (or commands) it and writes its frames.
public typealias MeterSession = (RecordOutput) -> ExitStatus
/// Makes the session `ami-read PROTOCOL ARGUMENTS…` stands for; throws a message when the protocol
/// is unknown or the arguments are wrong.
public typealias SessionMaker = @Sendable (_ protocolName: String, _ arguments: [String]) throws -> MeterSession

/// One session of a fleet run: a meter and, for `ami-read exec`, the command to carry out.
public struct FleetJob: Sendable {
    public var meter: FleetMeter
    /// The command record's action (`disconnect`, `reconnect`, `set_clock`), nil for a reading.
    public var command: String?
    /// Arguments added to the meter's own (`--disconnect`).
    public var extra: [String]

    public init(meter: FleetMeter, command: String? = nil, extra: [String] = []) {
        self.meter = meter
        self.command = command
        self.extra = extra
    }
}

/// How one session ended.
public struct FleetOutcome: Sendable {
    public var job: FleetJob
    public var status: ExitStatus
    /// The last diagnostic of a failed session.
    public var reason: String?
    public var start: UTCTime
    public var milliseconds: Int64
}

/// The body of `ami-read fleet` and `ami-read exec`: many meter sessions at once on a bounded
/// number of threads (a session waits on its meter most of the time), the meters behind one
/// address (a serial line, a TCP gateway) one at a time in registry order. Each session's frames
/// reach standard output as one block, followed by its `session` record (ami-jsonl(5)); a
/// failed meter is reported and the run goes on. A closed standard output stops the run quietly
/// after the sessions under way.
public enum ReadFleet {
    public static func run(_ jobs: [FleetJob], concurrency: Int, diagnostics: Diagnostics, outputFD: Int32 = 1,
                           makeSession: @escaping SessionMaker) -> [FleetOutcome] {
        // Jobs by address, in order of first appearance.
        var lineOf: [String: Int] = [:]
        var lines: [[FleetJob]] = []
        for job in jobs {
            if let i = lineOf[job.meter.address] {
                lines[i].append(job)
            } else {
                lineOf[job.meter.address] = lines.count
                lines.append([job])
            }
        }
        let shared = Shared(lines: lines, total: jobs.count)
        let output = CheckedOutput(fd: outputFD, lock: OutputLock())
        let workers = min(max(concurrency, 1), lines.count)
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<workers {
            let thread = Thread {
                while let line = shared.nextLine() {
                    for job in line {
                        guard !shared.stopped else { break }
                        let outcome = session(job, stdout: output, diagnostics: diagnostics, makeSession: makeSession,
                                              stop: shared.stop)
                        let (count, failed) = shared.add(outcome)
                        diagnostics.progress("\(count)/\(shared.total) sessions, \(failed) failed")
                    }
                }
                done.signal()
            }
            // Sessions need little stack; hundreds of threads at the default 8 MiB would reserve GiBs.
            thread.stackSize = 1 << 20
            thread.start()
        }
        for _ in 0..<workers { done.wait() }
        diagnostics.clearProgress()
        return shared.outcomes
    }

    /// `ami-read fleet`: the selected meters of the registry (`defaults` before each one's own
    /// options, which win), under a lock (nil: none) so that an
    /// overlapping run of the same fleet stops (75) instead of reading them again; the summary on
    /// standard error. The status is the worst of the registry's and the sessions'.
    public static func read(registry inputs: [InputFile], selection: FleetSelection, concurrency: Int,
                            defaults: [String] = [], lockPath: String?, strict: Bool, diagnostics: Diagnostics,
                            makeSession: @escaping SessionMaker) -> ExitStatus {
        var lock: FileLock? = nil
        if let lockPath {
            do {
                lock = try FileLock(path: lockPath)
            } catch {
                diagnostics.report(nil, error.description)
                if case .held = error { return .tempFail }
                return .ioError
            }
        }
        defer { lock?.release() }
        let (meters, registryStatus) = FleetRegistry.load(inputs, defaults: defaults, strict: strict, diagnostics: diagnostics)
        if strict && registryStatus != .ok { return registryStatus }
        let chosen = meters.filter(selection.includes)
        let outcomes = runReporting(chosen.map { FleetJob(meter: $0) }, label: "fleet", concurrency: concurrency,
                                    diagnostics: diagnostics, makeSession: makeSession)
        return outcomes.reduce(registryStatus) { max($0, $1.status) }
    }

    /// `run`, then the summary on standard error as `ami-read: LABEL: …`.
    public static func runReporting(_ jobs: [FleetJob], label: String, concurrency: Int, diagnostics: Diagnostics,
                                    makeSession: @escaping SessionMaker) -> [FleetOutcome] {
        let clock = ContinuousClock()
        let began = clock.now
        let outcomes = run(jobs, concurrency: concurrency, diagnostics: diagnostics, makeSession: makeSession)
        let elapsed = clock.now - began
        let seconds = Double(elapsed.wholeMilliseconds) / 1000
        let addresses = Set(jobs.map(\.meter.address)).count
        diagnostics.report(label, summary(outcomes, seconds: seconds, concurrency: min(concurrency, addresses)))
        return outcomes
    }

    /// The default lock of a run: `fleet-HASH.lock` in the state folder, HASH standing for the
    /// registry files, groups, meters and shard, so that runs of other fleets or shards go on.
    public static func defaultLockPath(registry: [InputFile], selection: FleetSelection, stateDirectory: String) -> String {
        var key = registry.map { $0.isStdin ? "-" : URL(fileURLWithPath: $0.path).standardizedFileURL.path }
            .joined(separator: "\n") + "\n"
        key += selection.groups.joined(separator: ",") + "\n" + selection.meters.joined(separator: ",") + "\n"
        if let s = selection.shard { key += "\(s.index)/\(s.count)" }
        let hex = String(FleetSelection.fnv1a(key), radix: 16)
        return stateDirectory + "/fleet-" + String(repeating: "0", count: 16 - hex.count) + hex + ".lock"
    }

    /// Runs one session and writes its frames and its `session` record.
    static func session(_ job: FleetJob, stdout: CheckedOutput, diagnostics parent: Diagnostics,
                        makeSession: SessionMaker, stop: @Sendable () -> Void) -> FleetOutcome {
        let diagnostics = Diagnostics(forwardingTo: parent)
        let output = RecordOutput(holdingFor: stdout, diagnostics: diagnostics)
        let start = UTCTime.now()
        let clock = ContinuousClock()
        let began = clock.now
        var status: ExitStatus
        do {
            let run = try makeSession(job.meter.protocolName, job.meter.arguments(job.extra))
            status = run(output)
        } catch {
            diagnostics.report("\(job.meter.origin): \(job.meter.id)", "\(error)")
            status = .config
        }
        let elapsed = clock.now - began
        let milliseconds = elapsed.wholeMilliseconds
        let outcome = FleetOutcome(job: job, status: status, reason: status == .ok ? nil : diagnostics.lastMessage,
                                   start: start, milliseconds: milliseconds)
        var record = JSONObjectText(type: "session")
        record.string("meter", job.meter.id)
        record.string("protocol", job.meter.protocolName)
        record.string("address", job.meter.address)
        record.string("command", job.command)
        record.time("start", start)
        record.int("duration_ms", milliseconds)
        record.string("result", status == .ok ? "ok" : "failed")
        record.int("exit", Int64(status.rawValue))
        record.string("reason", outcome.reason)
        let line = record.closed
        line.withUnsafeBufferPointer { output.passThrough(ArraySlice($0)) }
        do {
            try output.check()
        } catch {
            // A closed pipe (`| head`) or a failed write: no further sessions start.
            if !(error is OutputClosed) { parent.report("stdout", "\(error)") }
            stop()
        }
        return outcome
    }

    /// The one-line summary: `N sessions: R ok, F failed (69 ×2, 76 ×1) in S s, concurrency C`.
    public static func summary(_ outcomes: [FleetOutcome], seconds: Double, concurrency: Int) -> String {
        let failed = outcomes.filter { $0.status != .ok }
        var byStatus: [Int32: Int] = [:]
        for f in failed { byStatus[f.status.rawValue, default: 0] += 1 }
        var text = "\(outcomes.count) sessions: \(outcomes.count - failed.count) ok, \(failed.count) failed"
        if !byStatus.isEmpty {
            text += " (" + byStatus.keys.sorted().map { "exit \($0) ×\(byStatus[$0]!)" }.joined(separator: ", ") + ")"
        }
        let tenths = Int((seconds * 10).rounded())
        return text + " in \(tenths / 10).\(tenths % 10) s, concurrency \(concurrency)"
    }

    /// The state the worker threads share.
    private final class Shared: Sendable {
        let total: Int
        private struct State {
            var lines: [[FleetJob]]
            var next = 0
            var outcomes: [FleetOutcome] = []
            var failed = 0
            var stopped = false
        }
        private let state: Mutex<State>

        init(lines: [[FleetJob]], total: Int) {
            self.total = total
            state = Mutex(State(lines: lines))
        }

        func nextLine() -> [FleetJob]? {
            state.withLock { s in
                guard !s.stopped, s.next < s.lines.count else { return nil }
                s.next += 1
                return s.lines[s.next - 1]
            }
        }

        var stopped: Bool { state.withLock { $0.stopped } }

        var stop: @Sendable () -> Void { { [self] in state.withLock { $0.stopped = true } } }

        /// Adds an outcome; returns the count so far and how many failed.
        func add(_ outcome: FleetOutcome) -> (Int, Int) {
            state.withLock { s in
                s.outcomes.append(outcome)
                if outcome.status != .ok { s.failed += 1 }
                return (s.outcomes.count, s.failed)
            }
        }

        var outcomes: [FleetOutcome] { state.withLock { $0.outcomes } }
    }
}
