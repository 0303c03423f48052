import AMICore

/// A `DecodeSink` that writes records as JSON lines to stdout (in 64 KiB blocks, or a line at a time
/// when `lineBuffered`) and diagnostics to stderr. Output failures are kept and rethrown by
/// `check()`, since the sink's callbacks cannot throw.
public final class RecordOutput: DecodeSink {
    public let output: CheckedOutput
    public let diagnostics: Diagnostics
    /// Write each record as soon as it is made (for live streams).
    public let lineBuffered: Bool
    private let jsonWriter = JSONLineWriter(capacity: 1 << 17)
    private let blockSize: Int
    public private(set) var failure: Error?

    public init(output: CheckedOutput = CheckedOutput(), diagnostics: Diagnostics, lineBuffered: Bool = false) {
        self.output = output
        self.diagnostics = diagnostics
        self.lineBuffered = lineBuffered
        self.blockSize = 1 << 16
    }

    /// An output that holds every record until `flush()` or `finish(_:)`, so that one session's
    /// records reach `output` as one block (`ami-read fleet` runs many sessions at once).
    public init(holdingFor output: CheckedOutput, diagnostics: Diagnostics) {
        self.output = output
        self.diagnostics = diagnostics
        self.lineBuffered = false
        self.blockSize = Int.max
    }

    public func record(_ record: Record) {
        guard failure == nil else { return }
        jsonWriter.write(record)
        if lineBuffered || jsonWriter.output.count >= blockSize { flush() }
    }

    /// Decode sessions write records straight into this writer.
    public var writer: JSONLineWriter? { jsonWriter }

    public func wroteRecords() {
        if failure != nil {
            jsonWriter.removeAll()
        } else if lineBuffered || jsonWriter.output.count >= blockSize {
            flush()
        }
    }

    public func passThrough(_ line: ArraySlice<UInt8>) {
        guard failure == nil else { return }
        jsonWriter.appendLine(line)
        if lineBuffered || jsonWriter.output.count >= blockSize { flush() }
    }

    public func diagnostic(_ d: Diagnostic) {
        diagnostics.report(d.location, (d.skipped ? "" : "warning: ") + d.error.description)
    }

    /// Writes what is buffered now (when the input waits, so a live stream's records are not held back).
    public func flush() {
        guard failure == nil, jsonWriter.output.count > 0 else {
            jsonWriter.removeAll()
            return
        }
        do {
            try jsonWriter.output.withUnsafeBytes { try output.write($0) }
        } catch {
            failure = error
        }
        jsonWriter.removeAll()
    }

    /// Writes what is buffered and returns `status`, raised to 74 (and reported) when writing
    /// standard output failed; a closed output (`| head`) leaves it as it is.
    public func finish(_ status: ExitStatus) -> ExitStatus {
        do {
            try check()
        } catch is OutputClosed {
            return status
        } catch {
            diagnostics.report("stdout", "\(error)")
            return max(status, .ioError)
        }
        return status
    }

    /// Writes what is buffered, then rethrows the first output failure, if any.
    public func check() throws {
        if failure == nil { flush() }
        if let f = failure { throw f }
    }
}
