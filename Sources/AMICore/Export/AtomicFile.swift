#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where an exporter's bytes go: a file being written, or standard output.
public protocol ByteSink: AnyObject {
    /// Writes all of `bytes` or throws.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Why a file could not be written.
public struct FileFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String, _ path: String, errno e: Int32 = errno) {
        description = "\(path): cannot \(what): \(String(cString: strerror(e)))"
    }
    public init(_ description: String) { self.description = description }
}

/// A file written whole or not at all: bytes go to a temporary file in the same folder, which
/// `commit` renames over the target once complete; `abandon` (or dropping it uncommitted)
/// removes the temporary file, leaving any earlier file at the target untouched. The temporary
/// name is made with `O_EXCL` (`mkstemp`), and a file a library creates by name goes in a private
/// folder (`mkdtemp`, mode 0700): no other user can put a symbolic link where it will be written.
/// `rename` replaces a symbolic link at the target itself, never the file it points to.
public final class AtomicFile: ByteSink {
    public let path: String
    /// The temporary file's path (same folder, hidden name; with `create` false, inside a private folder).
    public let temporaryPath: String
    /// The private folder holding the temporary file, when the caller creates it.
    private let privateFolder: String?
    private var fd: Int32 = -1
    private var done = false

    /// Picks a temporary name beside `path`; `create` also creates it for `write` (formats
    /// written by a library that creates its own file pass false, and get a name in a private folder).
    public init(path: String, create: Bool = true) throws {
        self.path = path
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        var template = Array((folder + "." + name + ".tmp-XXXXXX").utf8CString)
        /// The name mkstemp or mkdtemp filled in.
        func made() -> String { String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        if create {
            let t = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard t >= 0 else { throw FileFailure("create a file in the folder of", path) }
            temporaryPath = made()
            privateFolder = nil
            fd = t
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        } else {
            guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
                throw FileFailure("create a folder in the folder of", path)
            }
            privateFolder = made()
            temporaryPath = made() + "/" + name
        }
    }

    deinit { if !done { abandon() } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileFailure("write", path)
            }
            offset += n
        }
    }

    /// Flushes the file to disk and renames it to `path`, readable as umask allows.
    public func commit() throws {
        if fd >= 0 {
            guard fsync(fd) == 0 else { throw FileFailure("write", path) }
            close(fd)
            fd = -1
        }
        let mask = umask(0)
        umask(mask)
        chmod(temporaryPath, 0o666 & ~mask)
        guard rename(temporaryPath, path) == 0 else { throw FileFailure("rename the temporary file to", path) }
        if let f = privateFolder { rmdir(f) }
        done = true
    }

    /// Removes the temporary file.
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(temporaryPath)
        if let f = privateFolder { rmdir(f) }
        done = true
    }
}

/// Bytes gathered in a buffer and handed to a sink in blocks.
public final class BlockWriter {
    public let sink: ByteSink
    public let buffer = ByteBuffer(capacity: 1 << 17)
    private let blockSize = 1 << 16

    public init(sink: ByteSink) { self.sink = sink }

    @inline(__always)
    public func append(_ s: String) {
        var s = s
        s.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    public func append(_ s: StaticString) {
        buffer.append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Hands the buffer to the sink once a block is full.
    @inline(__always)
    public func flushIfFull() throws {
        if buffer.count >= blockSize { try flush() }
    }

    public func flush() throws {
        try buffer.withUnsafeBytes { try sink.write($0) }
        buffer.removeAll()
    }
}
