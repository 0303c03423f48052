import Glibc

/// The operation a transport failure happened in.
public enum TransportOperation: String, Sendable, Equatable {
    case connect, open, configure, read, write, bind
}

/// A failure talking to a meter over a byte stream. `description` is the message part of a
/// `prog: where: message` diagnostic, `where` being the transport's `endpoint`.
public enum TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A host name could not be resolved (`reason` from gai_strerror).
    case resolveFailed(host: String, reason: String)
    /// An operation failed with an errno: connection refused or unreachable, a device that cannot be
    /// opened or configured, a read or write error.
    case failed(TransportOperation, errno: Int32, address: String? = nil)
    /// Nothing happened within the time allowed.
    case timedOut(TransportOperation, after: Duration)
    /// The other end closed the connection (or the device hung up).
    case closedByPeer
    /// The transport was used after `close()`.
    case notOpen
    /// Settings the system cannot apply (for example a baud rate termios does not know).
    case unsupported(String)

    public var description: String {
        switch self {
        case .resolveFailed(let host, let reason):
            return "resolve \(host): \(reason)"
        case .failed(let operation, let code, let address):
            let what = address.map { "\(operation.rawValue) \($0)" } ?? operation.rawValue
            return "\(what): \(TransportError.errnoText(code))"
        case .timedOut(let operation, let after):
            return "\(operation.rawValue): timed out after \(after.diagnosticText)"
        case .closedByPeer:
            return "connection closed by the meter"
        case .notOpen:
            return "transport already closed"
        case .unsupported(let what):
            return what
        }
    }

    /// `strerror` text of an errno, locale-free under the tools' C locale.
    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
