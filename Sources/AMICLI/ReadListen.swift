#if canImport(Glibc)
import Glibc
#endif
import AMICore

/// The body of `ami-read listen`, callable in-process: frames pushed to a UDP or TCP port or read
/// from a serial port, each written at once as a `frame` record, until SIGTERM or SIGINT.
public enum ReadListen {
    /// Writes frames to `output`, problems to its diagnostics; stops the listener when the output
    /// is gone or, under `strict`, at the first skipped piece.
    final class Sink: PushSink {
        let output: RecordOutput
        let strict: Bool
        var skipped = 0

        init(output: RecordOutput, strict: Bool) {
            self.output = output
            self.strict = strict
        }

        func frame(_ record: FrameRecord) -> Bool {
            output.record(.frame(record))
            return output.failure == nil
        }

        func problem(_ location: String, _ message: String, skipped isSkip: Bool) -> Bool {
            output.diagnostics.report(location, message)
            if isSkip { skipped += 1 }
            return !(isSkip && strict)
        }
    }

    public static func run(_ listener: PushListener, output: RecordOutput, strict: Bool, stop: StopSignal?) -> ExitStatus {
        let sink = Sink(output: output, strict: strict)
        var status = ExitStatus.ok
        do {
            try listener.run(stop: stop, sink: sink)
        } catch {
            output.diagnostics.report(listener.endpoint.description, "\(error)")
            if case .failed(_, let e, _) = error, e == EACCES { status = .noPermission } else { status = .unavailable }
        }
        return output.finish(sink.skipped > 0 ? max(status, .dataError) : status)
    }
}
