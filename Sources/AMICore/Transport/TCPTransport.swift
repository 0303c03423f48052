import Glibc

/// A TCP connection to a meter (DLMS wrapper on port 4059, HDLC over TCP, M-Bus or Modbus
/// gateways). Connects with a deadline (non-blocking connect and poll), sets TCP_NODELAY so small
/// frames leave at once, and never raises SIGPIPE (send with MSG_NOSIGNAL).
public final class TCPTransport: DescriptorTransport {
    /// The numeric address actually connected to (`127.0.0.1:4059`, `[::1]:4059`).
    public let peerAddress: String

    /// Resolves `host` (a name, or an IPv4 or IPv6 literal) with getaddrinfo and connects to the
    /// first address that answers before `deadline`. Name resolution itself is not bounded by the
    /// deadline (getaddrinfo has no timeout).
    public init(host: String, port: UInt16, deadline: Deadline) throws(TransportError) {
        let endpoint = "tcp://" + HostPort.text(host, port)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let reason = rc == EAI_SYSTEM ? TransportError.errnoText(errno) : String(cString: gai_strerror(rc))
            throw .resolveFailed(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var lastError = TransportError.resolveFailed(host: host, reason: "no address")
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let address = TCPTransport.numericAddress(ai.pointee.ai_addr, ai.pointee.ai_addrlen)
            do {
                let fd = try TCPTransport.connect(ai.pointee, address: address, deadline: deadline)
                peerAddress = address
                super.init(endpoint: endpoint, fd: fd, isSocket: true)
                return
            } catch {
                if case .timedOut = error { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// A connected non-blocking socket to one resolved address.
    private static func connect(_ ai: addrinfo, address: String, deadline: Deadline) throws(TransportError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(ai.ai_family, type, ai.ai_protocol)
        guard fd >= 0 else { throw .failed(.connect, errno: errno, address: address) }
        do throws(TransportError) {
            if Glibc.connect(fd, ai.ai_addr, ai.ai_addrlen) != 0 {
                let e = errno
                guard e == EINPROGRESS || e == EINTR else { throw .failed(.connect, errno: e, address: address) }
                _ = try DescriptorTransport.wait(fd, for: Int16(POLLOUT), deadline: deadline, .connect)
                var soError: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size) == 0 else {
                    throw .failed(.connect, errno: errno, address: address)
                }
                if soError != 0 { throw .failed(.connect, errno: soError, address: address) }
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// `127.0.0.1:4059` or `[::1]:4059` for a socket address.
    static func numericAddress(_ sa: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        guard getnameinfo(sa, length, &host, socklen_t(host.count), &service, socklen_t(service.count),
                          NI_NUMERICHOST | NI_NUMERICSERV) == 0 else { return "?" }
        let h = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let s = String(decoding: service.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return (h.contains(":") ? "[\(h)]" : h) + ":" + s
    }
}

/// `HOST:PORT` as written in endpoints and options, an IPv6 host in brackets (`[::1]:4059`).
public enum HostPort {
    /// Host and port of `HOST:PORT`; nil without a port number or a host.
    public static func parse<S: StringProtocol>(_ text: S) -> (host: String, port: UInt16)? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// `host:port`, an IPv6 host in brackets.
    public static func text(_ host: String, _ port: UInt16) -> String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }
}
