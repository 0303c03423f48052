import AMICore

/// The body of `ami-read exec`: carries out the `command` records of ami-jsonl(5) (`disconnect`,
/// `reconnect` as ami-bill writes them, `set_clock`) on each meter through its protocol and its
/// registry entry, as `ami-read PROTOCOL … --disconnect` would, writing every frame exchanged and
/// a `session` record per command. Other records are passed over. All commands are read first;
/// a meter's commands run in their order, different meters' at once (`ReadFleet`).
public enum ReadExec {
    /// The option of `ami-read PROTOCOL` each command stands for.
    public static let actions = ["disconnect": "--disconnect", "reconnect": "--reconnect", "set_clock": "--set-clock"]

    public static func run(inputs: [InputFile], registry: [FleetMeter], concurrency: Int, strict: Bool,
                           diagnostics: Diagnostics, makeSession: @escaping SessionMaker) -> ExitStatus {
        let meters = Dictionary(registry.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var jobs: [FleetJob] = []
        var status = ExitStatus.ok
        let read = LineSplitter.numberedLines(of: inputs, diagnostics: diagnostics) { line, location, _ in
            func refuse(_ message: String) -> Bool {
                diagnostics.report(location, message)
                status = max(status, .dataError)
                return !strict
            }
            let record: JSONValue
            do {
                record = try JSONValue.parse(line)
            } catch {
                return refuse("\(error)")
            }
            guard record["type"]?.stringValue == "command" else { return true }
            let action = record["command"]?.stringValue ?? ""
            guard let option = actions[action] else {
                return refuse("command \"\(action)\" is not one of \(actions.keys.sorted().joined(separator: ", "))")
            }
            guard let id = record["meter"]?.stringValue, let meter = meters[id] else {
                return refuse("meter \"\(record["meter"]?.stringValue ?? "")\" is not in the registry")
            }
            jobs.append(FleetJob(meter: meter, command: action, extra: [option]))
            return true
        }
        status = max(status, read)
        if strict && status != .ok { return status }
        let outcomes = ReadFleet.runReporting(jobs, label: "exec", concurrency: concurrency, diagnostics: diagnostics,
                                              makeSession: makeSession)
        return outcomes.reduce(status) { max($0, $1.status) }
    }
}
