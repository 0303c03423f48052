#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes that must never be shown: a key or a password. Every textual form says "withheld".
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret bytes, for the code that uses them (ciphers, authentication); never for output.
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var description: String { "withheld" }
    public var debugDescription: String { "Secret(withheld, \(bytes.count) bytes)" }
}

/// Why secrets (or security state such as invocation counters) could not be loaded or kept.
/// Messages name files, lines and entries, never secret values.
public struct SecretError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Keys and passwords from a key file and the environment.
///
/// A key file holds `name = value` lines (`#` starts a comment line), for example
/// `ek = 000102030405060708090A0B0C0D0E0F`, `ak = …`, `password = 12345678`. It is refused unless
/// it is a regular file that neither group nor others may read or write (mode 0600 or 0400), the
/// way ssh treats private keys. An environment variable named for an entry (e.g. `AMI_DLMS_EK`)
/// is used when the file lacks the entry or no file is given.
public struct Secrets: Sendable {
    private var entries: [String: Secret]
    private let environment: [String: String]
    /// Where the entries came from, for messages: the key file's path, or "environment".
    public let origin: String

    /// Secrets from the environment only.
    public init(environment: [String: String]) {
        entries = [:]
        self.environment = environment
        origin = "environment"
    }

    /// Loads `path` after checking its owner-only permissions; `environment` fills missing entries.
    public init(keyFile path: String, environment: [String: String]) throws(SecretError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SecretError("\(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SecretError("\(path): not a regular file")
        }
        let loose = info.st_mode & 0o077
        guard loose == 0 else {
            let mode = String(info.st_mode & 0o777, radix: 8)
            throw SecretError("\(path): refused: group or others may access it (mode \(mode)); chmod 600 \(path)")
        }
        guard let text = Secrets.readFile(path) else {
            throw SecretError("\(path): \(String(cString: strerror(errno)))")
        }
        var parsed: [String: Secret] = [:]
        var lineNumber = 0
        for rawLine in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let blanked = rawLine.map { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") ? UInt8(ascii: " ") : $0 }
            let line = String(decoding: blanked, as: UTF8.self).trimmingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw SecretError("\(path):\(lineNumber): expected name = value")
            }
            let name = String(line[..<eq]).trimmingSpaces.lowercased()
            let value = String(line[line.index(after: eq)...]).trimmingSpaces
            guard !name.isEmpty, !value.isEmpty else {
                throw SecretError("\(path):\(lineNumber): expected name = value")
            }
            guard parsed[name] == nil else {
                throw SecretError("\(path):\(lineNumber): \(name) given twice")
            }
            parsed[name] = Secret(Array(value.utf8))
        }
        entries = parsed
        self.environment = environment
        origin = path
    }

    /// The names of the file's entries (lowercase), sorted.
    public var names: [String] { entries.keys.sorted() }

    /// The entry `name` as text bytes (a password), from the file or else from `environmentName`.
    public func text(_ name: String, environmentName: String) -> Secret? {
        if let s = entries[name] { return s }
        if let v = environment[environmentName], !v.isEmpty { return Secret(Array(v.utf8)) }
        return nil
    }

    /// The entry `name` as a key of `byteCount` bytes written in hex, from the file or else from
    /// `environmentName` (when given); nil when neither has it.
    public func key(_ name: String, environmentName: String?, byteCount: Int) throws(SecretError) -> Secret? {
        let where_: String
        let digits: [UInt8]
        if let s = entries[name] {
            digits = s.bytes
            where_ = "\(origin): \(name)"
        } else if let e = environmentName, let v = environment[e], !v.isEmpty {
            digits = Array(v.utf8)
            where_ = e
        } else {
            return nil
        }
        guard let bytes = try? Hex.decode(digits), bytes.count == byteCount else {
            throw SecretError("\(where_): expected \(byteCount) bytes as \(byteCount * 2) hex digits")
        }
        return Secret(bytes)
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return nil }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
