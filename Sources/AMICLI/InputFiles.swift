#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An input named on the command line: a path, or `-` for standard input.
public struct InputFile: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var isStdin: Bool { path == "-" }
    /// The name shown in diagnostics.
    public var displayName: String { isStdin ? "stdin" : path }
    /// The `source` written into records decoded from it.
    public var sourceName: String { isStdin ? "stdin" : "file:" + path }

    /// Why an input could not be opened or read.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads the input in chunks of up to `chunkSize` bytes, handing each to `body`; `body` returns
    /// false to stop early.
    public func read(chunkSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Bool) throws {
        let fd: Int32 = isStdin ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw Failure(description: String(cString: strerror(errno))) }
        defer { if !isStdin { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: String(cString: strerror(errno)))
            }
            if n == 0 { return }
            let more = try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            if !more { return }
        }
    }
}
