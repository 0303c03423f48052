#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thrown when stdout's reader has gone away (`| head`): the tool stops quietly.
public struct OutputClosed: Error {}

/// Thrown when writing stdout fails for another reason.
public struct OutputFailed: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}

/// Checked writing to a file descriptor: every `write(2)` result is looked at; `EPIPE` becomes
/// `OutputClosed`, other failures `OutputFailed`. SIGPIPE must be ignored (see `ToolMain`).
/// Unbuffered: callers hand it whole blocks (see `RecordOutput`).
public struct CheckedOutput: Sendable {
    public let fd: Int32

    public init(fd: Int32 = 1) { self.fd = fd }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try write($0) }
    }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EPIPE { throw OutputClosed() }
                throw OutputFailed(errno: e)
            }
            offset += n
        }
    }
}

/// Diagnostics on stderr in the form `prog: where: message`, and progress only when stderr is a TTY.
public final class Diagnostics: @unchecked Sendable {
    public let program: String
    public let stderrIsTTY: Bool
    private var progressShown = false

    public init(program: String) {
        self.program = program
        self.stderrIsTTY = isatty(2) == 1
    }

    /// Writes `prog: where: message` (or `prog: message` without a where).
    public func report(_ location: String?, _ message: String) {
        clearProgress()
        var line = program + ": "
        if let w = location, !w.isEmpty { line += w + ": " }
        line += message + "\n"
        writeStderr(line)
    }

    /// A one-line progress note, redrawn in place; nothing when stderr is not a terminal.
    public func progress(_ text: String) {
        guard stderrIsTTY else { return }
        writeStderr("\r\u{1B}[K" + program + ": " + text)
        progressShown = true
    }

    public func clearProgress() {
        guard progressShown else { return }
        writeStderr("\r\u{1B}[K")
        progressShown = false
    }

    /// Writes `text` to stderr as it is (for machine-readable summaries).
    public func write(_ text: String) {
        clearProgress()
        writeStderr(text)
    }

    private func writeStderr(_ s: String) {
        var bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
