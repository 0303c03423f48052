import AMICore

/// A `DecodeSink` that writes records as JSON lines to a `CheckedOutput` and diagnostics to stderr.
/// Output failures are kept and rethrown by `check()`, since the sink's callbacks cannot throw.
public final class RecordOutput: DecodeSink {
    public let output: CheckedOutput
    public let diagnostics: Diagnostics
    private var writer = JSONLineWriter()
    public private(set) var failure: Error?

    public init(output: CheckedOutput, diagnostics: Diagnostics) {
        self.output = output
        self.diagnostics = diagnostics
    }

    public func record(_ record: Record) {
        guard failure == nil else { return }
        writer.write(record)
        push()
    }

    public func passThrough(_ line: ArraySlice<UInt8>) {
        guard failure == nil else { return }
        writer.buffer.append(contentsOf: line)
        writer.buffer.append(0x0A)
        push()
    }

    public func diagnostic(_ d: Diagnostic) {
        diagnostics.report(d.location, (d.skipped ? "" : "warning: ") + d.error.description)
    }

    private func push() {
        do {
            try output.write(writer.buffer)
            writer.buffer.removeAll(keepingCapacity: true)
            try output.endRecord()
        } catch {
            failure = error
        }
    }

    /// Flushes, then rethrows the first output failure, if any.
    public func check() throws {
        if let f = failure { throw f }
        do { try output.flush() } catch { failure = error; throw error }
    }
}
