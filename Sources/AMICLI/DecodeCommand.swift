import AMICore

/// The body of `ami-decode`, callable in-process: decodes each input in turn into `sink` and
/// returns the exit status (65 when anything was skipped, 66 when an input could not be read).
public enum DecodeCommand {
    static let chunkSize = 1 << 20

    public static func run(inputs: [InputFile], format: InputFormat, options: DecodeOptions, strict: Bool,
                           sink: RecordOutput) -> ExitStatus {
        var status = ExitStatus.ok
        let diagnostics = sink.diagnostics
        for input in inputs {
            let session = DecodeSession(inputName: input.displayName, sourceName: input.sourceName, format: format,
                                        options: options, strict: strict, sink: sink)
            do {
                try input.read(chunkSize: chunkSize) { chunk in
                    session.feed(chunk)
                    // A short read: the input has nothing more for now (a pipe from ami-read listen).
                    if chunk.count < chunkSize { sink.flush() }
                    diagnostics.progress("\(input.displayName): \(session.frames) frames")
                    return !session.stopped && sink.failure == nil
                }
                // After a closed output the rest of the input was never read: nothing to finish.
                if sink.failure == nil { session.finish() }
            } catch let failure as InputFile.Failure {
                diagnostics.report(input.displayName, failure.description)
                status = max(status, .noInput)
                continue
            } catch {
                diagnostics.report(input.displayName, "\(error)")
                status = max(status, .ioError)
                continue
            }
            do {
                try sink.check()
            } catch is OutputClosed {
                diagnostics.clearProgress()
                return status
            } catch {
                diagnostics.report("stdout", "\(error)")
                return max(status, .ioError)
            }
            if session.skipped > 0 { status = max(status, .dataError) }
            if session.stopped { break }
        }
        diagnostics.clearProgress()
        return status
    }
}
