#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Thrown when stdout's reader has gone away (`| head`): the tool stops quietly.
public struct OutputClosed: Error {}

/// Thrown when writing stdout fails for another reason.
public struct OutputFailed: Error, CustomStringConvertible {
    public let errno: Int32
    public var description: String { String(cString: strerror(errno)) }
}

/// The lock of a descriptor several threads write to through `CheckedOutput`.
public final class OutputLock: Sendable {
    let mutex = Mutex(())
    public init() {}
}

/// Checked writing to a file descriptor: every `write(2)` result is looked at; `EPIPE` becomes
/// `OutputClosed`, other failures `OutputFailed`. SIGPIPE must be ignored (see `ToolMain`).
/// Unbuffered: callers hand it whole blocks (see `RecordOutput`).
public struct CheckedOutput: Sendable {
    public let fd: Int32
    /// Taken around each block when several threads write to the same descriptor, so that their
    /// blocks (whole lines) never interleave.
    public let lock: OutputLock?

    public init(fd: Int32 = 1) {
        self.fd = fd
        self.lock = nil
    }

    /// An output whose writes are serialized by `lock`.
    public init(fd: Int32 = 1, lock: OutputLock) {
        self.fd = fd
        self.lock = lock
    }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try write($0) }
    }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if let lock { try lock.mutex.withLock { _ in try writeAll(bytes) } } else { try writeAll(bytes) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
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
/// Safe to share between threads; a session's own `Diagnostics(forwardingTo:)` passes its reports
/// on and remembers the last one (the reason a meter failed, for `ami-read fleet`).
public final class Diagnostics: Sendable {
    public let program: String
    public let stderrIsTTY: Bool
    private let parent: Diagnostics?
    private struct State {
        var progressShown = false
        var last: String?
    }
    private let state = Mutex(State())

    public init(program: String) {
        self.program = program
        self.stderrIsTTY = isatty(2) == 1
        self.parent = nil
    }

    /// Diagnostics that go to `parent`, remembering the last message.
    public init(forwardingTo parent: Diagnostics) {
        self.program = parent.program
        self.stderrIsTTY = parent.stderrIsTTY
        self.parent = parent
    }

    /// The message of the last report, without program and location.
    public var lastMessage: String? { state.withLock { $0.last } }

    /// Writes `prog: where: message` (or `prog: message` without a where).
    public func report(_ location: String?, _ message: String) {
        state.withLock { $0.last = message }
        if let parent { return parent.report(location, message) }
        var line = program + ": "
        if let w = location, !w.isEmpty { line += w + ": " }
        line += message + "\n"
        write(line)
    }

    /// A one-line progress note, redrawn in place; nothing when stderr is not a terminal.
    public func progress(_ text: String) {
        if let parent { return parent.progress(text) }
        guard stderrIsTTY else { return }
        state.withLock {
            Diagnostics.writeStderr("\r\u{1B}[K" + program + ": " + text)
            $0.progressShown = true
        }
    }

    public func clearProgress() {
        if let parent { return parent.clearProgress() }
        state.withLock { Diagnostics.clear(&$0) }
    }

    /// Writes `text` to stderr as it is (for machine-readable summaries).
    public func write(_ text: String) {
        if let parent { return parent.write(text) }
        state.withLock {
            Diagnostics.clear(&$0)
            Diagnostics.writeStderr(text)
        }
    }

    private static func clear(_ state: inout State) {
        guard state.progressShown else { return }
        writeStderr("\r\u{1B}[K")
        state.progressShown = false
    }

    private static func writeStderr(_ s: String) {
        var bytes = Array(s.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
