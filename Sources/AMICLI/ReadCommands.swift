import AMICore
import Foundation

/// The body of `ami-read commands`: carries out the `command` records of ami-jsonl(5) that
/// ami-bill writes (`disconnect`, `reconnect`) on each meter, through its meter description
/// `FOLDER/METER.json`, one DLMS session per command, writing every frame exchanged. Other records
/// are passed over.
public enum ReadCommands {
    /// `settings` turns a description's options plus the action (`--disconnect`) into the settings
    /// of a session, as `ami-read dlms` would; it throws a message when they are wrong.
    public static func run(inputs: [InputFile], meters folder: String, strict: Bool, output: RecordOutput,
                           settings: ([String]) throws -> DLMSReadSettings) -> ExitStatus {
        var status = ExitStatus.ok
        let diagnostics = output.diagnostics
        for input in inputs {
            var line = 0
            do {
                try LineSplitter.lines(of: input, { bytes in
                    line += 1
                    let location = "\(input.displayName):\(line)"
                    func refuse(_ message: String, _ s: ExitStatus) -> Bool {
                        diagnostics.report(location, message)
                        status = max(status, s)
                        return !strict
                    }
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
                    let record: JSONValue
                    do {
                        record = try JSONValue.parse(ArraySlice(bytes))
                    } catch {
                        return refuse("\(error)", .dataError)
                    }
                    guard record["type"]?.stringValue == "command" else { return true }
                    guard let action = record["command"]?.stringValue, action == "disconnect" || action == "reconnect" else {
                        return refuse("command \"\(record["command"]?.stringValue ?? "")\" is not disconnect or reconnect",
                                      .dataError)
                    }
                    guard let meter = record["meter"]?.stringValue, !meter.isEmpty, !meter.contains("/"),
                          !meter.hasPrefix(".") else {
                        return refuse("a command without a meter that can name a description file", .dataError)
                    }
                    let path = folder + "/" + meter + ".json"
                    guard FileManager.default.fileExists(atPath: path) else {
                        return refuse("\(meter): no meter description \(path)", .dataError)
                    }
                    let session: DLMSReadSettings
                    do {
                        session = try settings(try MeterDescription.arguments(path: path) + ["--" + action])
                    } catch {
                        return refuse("\(path): \(error)", .config)
                    }
                    let done = ReadDLMS.run(session, output: output)
                    status = max(status, done)
                    return output.failure == nil && !(strict && done != .ok)
                }, idle: {})
            } catch let failure as InputFile.Failure {
                diagnostics.report(input.displayName, failure.description)
                status = max(status, .noInput)
            } catch {
                diagnostics.report(input.displayName, "\(error)")
                status = max(status, .ioError)
            }
        }
        return output.finish(status)
    }
}
