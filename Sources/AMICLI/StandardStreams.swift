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

/// Buffered, checked writing to a file descriptor: every `write(2)` result is looked at; `EPIPE`
/// becomes `OutputClosed`, other failures `OutputFailed`. SIGPIPE must be ignored (see `ToolMain`).
public final class CheckedOutput {
    public let fd: Int32
    private var buffer: [UInt8] = []
    private let limit: Int
    /// Flush after every `endRecord`: tools turn this on for live streams, so each record reaches
    /// the next tool in the pipe as soon as it is made.
    public var lineBuffered: Bool

    public init(fd: Int32 = 1, limit: Int = 1 << 16, lineBuffered: Bool = false) {
        self.fd = fd
        self.limit = limit
        self.lineBuffered = lineBuffered
        buffer.reserveCapacity(limit * 2)
    }

    /// Appends bytes; writes out when the buffer is full.
    public func write<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        buffer.append(contentsOf: bytes)
        if buffer.count >= limit { try flush() }
    }

    /// Call after each complete line: flushes when line-buffered.
    public func endRecord() throws {
        if lineBuffered { try flush() }
    }

    /// Writes everything buffered.
    public func flush() throws {
        var offset = 0
        defer {
            if offset > 0 { buffer.removeSubrange(0..<min(offset, buffer.count)) }
        }
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { p in
                Glibc.write(fd, p.baseAddress! + offset, p.count - offset)
            }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EPIPE { buffer.removeAll(); offset = 0; throw OutputClosed() }
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
