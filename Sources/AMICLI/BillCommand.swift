import AMICore
import ArgumentParser

/// The bodies of `ami-bill` that read streams or write records, callable in-process.
public enum BillCommand {
    /// Bills interval readings read from `inputs` (JSON lines) with one tariff: a bill per meter.
    /// A bad line is reported (`NAME:LINE: message`) and skipped (exit 65); with `strict` the first
    /// one stops the run before anything is billed. Bills are written only once every input was read.
    public static func billStream(inputs: [InputFile], tariff: Tariff, from: UTCTime, to: UTCTime, strict: Bool,
                                  sink: RecordOutput) -> ExitStatus {
        let diagnostics = sink.diagnostics
        var status = ExitStatus.ok
        var billing: StreamBilling
        do {
            billing = try StreamBilling(tariff: tariff, from: from, to: to)
        } catch {
            diagnostics.report(nil, error.description)
            return .dataError
        }
        let reader = JSONLineReader()
        var stopped = false
        for input in inputs {
            var lineNumber = 0
            do {
                try LineSplitter.lines(of: input, { line in
                    lineNumber += 1
                    do {
                        if case .record(.reading(let r)) = try reader.parse(line, source: input.sourceName) {
                            _ = try billing.add(r)
                        }
                    } catch let e as DecodeError {
                        sink.diagnostic(Diagnostic(input: input.displayName, line: lineNumber, error: e, skipped: true))
                        status = max(status, .dataError)
                        if strict { stopped = true }
                    } catch {
                        diagnostics.report("\(input.displayName):\(lineNumber)", "\(error)")
                        status = max(status, .dataError)
                        if strict { stopped = true }
                    }
                    return !stopped
                }, idle: {})
            } catch let f as InputFile.Failure {
                diagnostics.report(input.displayName, f.description)
                return max(status, .noInput)
            } catch {
                diagnostics.report(input.displayName, "\(error)")
                return max(status, .ioError)
            }
            if stopped { return status }
        }
        do {
            let bills = try billing.bills()
            return max(status, write(bills.map(\.record), sink))
        } catch {
            diagnostics.report(nil, error.description)
            return max(status, .dataError)
        }
    }

    /// Writes records as JSON lines; a closed output ends quietly.
    public static func write(_ records: [JSONObjectText], _ sink: RecordOutput) -> ExitStatus {
        for r in records {
            sink.passThrough(ArraySlice(r.closed))
            if sink.failure != nil { break }
        }
        do {
            try sink.check()
        } catch is OutputClosed {
            return .ok
        } catch {
            sink.diagnostics.report("stdout", "\(error)")
            return .ioError
        }
        return .ok
    }

    /// The exit status of a failure, reported: tariff files 78, billing refusals 65, bad values 64, the database as
    /// `IngestCommand.fatal` does.
    public static func fail(_ error: Error, store: MeterStore?, diagnostics: Diagnostics) -> ExitStatus {
        switch error {
        case let e as TariffError:
            diagnostics.report(nil, e.description)
            return .config
        case let e as BillingError:
            diagnostics.report(nil, e.description)
            return .dataError
        case let e as ValidationError:
            diagnostics.report(nil, e.message)
            return .usage
        default:
            return IngestCommand.fatal(error, store: store, diagnostics: diagnostics)
        }
    }
}
