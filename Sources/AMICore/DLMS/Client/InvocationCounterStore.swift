#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Keeps a DLMS client's invocation counters on disk, one file per meter, so that no counter value
/// is used twice with the same key and system title, across runs and concurrent processes.
///
/// Security suite 0 builds the AES-GCM initialisation vector from the system title and the
/// invocation counter (DLMS UA 1000-2 Ed. 10, "Security suite 0"; NIST SP 800-38D §8): a reused
/// counter breaks the cipher, and meters refuse counters they have seen. Counters are reserved in
/// blocks: the file always holds a value above every counter handed out, written and flushed before
/// the first of them is used, so a crash can skip values but never repeat one.
public struct InvocationCounterStore: Sendable {
    /// The folder holding one file per meter.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// The default folder: `dlms-invocation-counters` in the `StateDirectory`.
    public static func defaultDirectory(environment: [String: String]) -> String {
        StateDirectory.path(environment: environment) + "/dlms-invocation-counters"
    }

    /// Reserves `count` counters for `meter` (any name; characters other than letters, digits, `.`,
    /// `-` and `_` become `_` in the file name), starting no lower than `atLeast` (e.g. one above a
    /// frame counter the meter reported).
    public func lease(meter: String, count: UInt32 = 1000, atLeast: UInt32 = 0) throws(SecretError) -> InvocationCounterLease {
        let path = directory + "/" + InvocationCounterStore.fileName(meter)
        try StateDirectory.make(directory)
        let size = UInt64(max(count, 1))
        let reserved = try InvocationCounterStore.update(path) { (stored: UInt64) throws(SecretError) -> UInt64 in
            let first = max(stored, UInt64(atLeast))
            guard first + size <= UInt64(UInt32.max) + 1 else {
                throw SecretError("\(path): invocation counter exhausted; the meter needs new keys")
            }
            return first + size
        }
        return InvocationCounterLease(path: path, next: reserved.new - size, end: reserved.new, blockSize: max(count, 1))
    }

    static func fileName(_ meter: String) -> String {
        let safe = meter.unicodeScalars.map { c -> Character in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "." || c == "-" || c == "_"
                ? Character(c) : "_"
        }
        let name = String(safe)
        return name.isEmpty || name.hasPrefix(".") ? "_" + name : name
    }

    /// Runs `change` on the stored value under an exclusive lock and stores its result, flushed to
    /// disk before returning. A missing file holds 0.
    static func update(_ path: String, _ change: (UInt64) throws(SecretError) -> UInt64)
        throws(SecretError) -> (old: UInt64, new: UInt64) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SecretError("\(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SecretError("\(path): lock: \(String(cString: strerror(errno)))") }
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, $0.count, 0) }
        guard n >= 0 else { throw SecretError("\(path): \(String(cString: strerror(errno)))") }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        let old: UInt64
        if text.isEmpty {
            old = 0
        } else if let v = UInt64(text), v <= UInt64(UInt32.max) + 1 {
            old = v
        } else {
            throw SecretError("\(path): not an invocation counter; fix or remove the file only if no counter of it can have been used")
        }
        let new = try change(old)
        let out = Array("\(new)\n".utf8)
        let written = out.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
        guard written == out.count, ftruncate(fd, off_t(out.count)) == 0, fsync(fd) == 0 else {
            throw SecretError("\(path): \(String(cString: strerror(errno)))")
        }
        return (old, new)
    }
}

/// Counters reserved for one session with one meter; hands them out in order and reserves another
/// block when one runs out. `finish()` gives unused values back when no other process has reserved
/// after this one.
public final class InvocationCounterLease: @unchecked Sendable {
    /// The counter file.
    public let path: String
    private var nextValue: UInt64
    private var end: UInt64
    private let blockSize: UInt32

    init(path: String, next: UInt64, end: UInt64, blockSize: UInt32) {
        self.path = path
        nextValue = next
        self.end = end
        self.blockSize = blockSize
    }

    /// The next unused counter.
    public func next() throws(SecretError) -> UInt32 {
        if nextValue >= end {
            let size = UInt64(blockSize)
            let reserved = try InvocationCounterStore.update(path) { (stored: UInt64) throws(SecretError) -> UInt64 in
                guard stored + size <= UInt64(UInt32.max) + 1 else {
                    throw SecretError("\(path): invocation counter exhausted; the meter needs new keys")
                }
                return stored + size
            }
            nextValue = reserved.old
            end = reserved.new
        }
        defer { nextValue += 1 }
        return UInt32(nextValue)
    }

    /// Stores the first unused counter when the file still holds this lease's end, so the next run
    /// continues right after the last counter used.
    public func finish() throws(SecretError) {
        let (reservedEnd, next) = (end, nextValue)
        _ = try InvocationCounterStore.update(path) { stored in stored == reservedEnd ? next : stored }
        end = next
    }
}
