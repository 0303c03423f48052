#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The folder where ami keeps state between runs (DLMS invocation counters, fleet locks):
/// `$AMI_STATE_DIR`, else `$XDG_STATE_HOME/ami`, else `~/.local/state/ami`.
public enum StateDirectory {
    public static func path(environment: [String: String]) -> String {
        if let d = environment["AMI_STATE_DIR"], !d.isEmpty { return d }
        if let d = environment["XDG_STATE_HOME"], !d.isEmpty { return d + "/ami" }
        return (environment["HOME"] ?? ".") + "/.local/state/ami"
    }

    /// Creates `path` and the folders above it that are missing (mode 0700); the error names the
    /// folder that could not be made.
    public static func make(_ path: String) throws(SecretError) {
        var partial = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            partial += "/" + part
            if mkdir(partial, 0o700) != 0 && errno != EEXIST {
                throw SecretError("\(partial): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// An exclusive lock on a file (flock(2)), held until released or the process ends — also when
/// it is killed, so a crashed run never leaves a stale lock. `ami-read fleet` takes one so that an
/// overlapping cron run of the same fleet stops instead of reading the same meters again.
public final class FileLock {
    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds it (its pid when it wrote one).
        case held(path: String, pid: Int32?)
        case failed(path: String, errno: Int32)

        public var description: String {
            switch self {
            case .held(let path, let pid):
                "\(path): held by another run" + (pid.map { " (pid \($0))" } ?? "")
            case .failed(let path, let e): "\(path): \(String(cString: strerror(e)))"
            }
        }
    }

    private var fd: Int32

    /// Takes the lock without waiting, creating the file (and writing this process's pid in it).
    public init(path: String) throws(Failure) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .failed(path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            var buffer = [UInt8](repeating: 0, count: 16)
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
            let pid = n > 0 ? Int32(String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? "") : nil
            close(fd)
            fd = -1
            throw e == EWOULDBLOCK ? .held(path: path, pid: pid) : .failed(path: path, errno: e)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
    }

    public func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    deinit { release() }
}
