import Glibc

/// A byte stream to a meter: a TCP connection, a serial port. Link layers (DLMS HDLC and wrapper,
/// M-Bus, IEC 62056-21, Modbus) read and write through it and know nothing of sockets or ttys.
/// Not thread-safe: one task uses a transport at a time.
public protocol Transport: AnyObject {
    /// Where the bytes go, in the form of a `frame` record's `source`: `tcp://host:port`,
    /// `serial:/dev/ttyUSB0`. Also the "where" of diagnostics.
    var endpoint: String { get }
    /// Writes all of `bytes`, waiting for the stream to accept them up to `deadline`.
    func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError)
    /// Returns the bytes available now (1 to `maxCount`), waiting up to `deadline` for the first
    /// one; throws `timedOut(.read, …)` when none came, `closedByPeer` at end of stream.
    func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8]
    /// Releases the connection or device. Further reads and writes throw `notOpen`.
    func close()
}

/// A transport over a non-blocking file descriptor, read and written with poll(2) waits: what
/// `TCPTransport` and `SerialTransport` share. The descriptor is closed by `close()` or when the
/// transport is released.
public class DescriptorTransport: Transport {
    public let endpoint: String
    /// The descriptor, -1 once closed.
    private(set) var fd: Int32
    /// Sockets use recv/send (send with MSG_NOSIGNAL); ttys read/write.
    let isSocket: Bool

    /// Takes ownership of `fd`, which must be non-blocking.
    init(endpoint: String, fd: Int32, isSocket: Bool) {
        self.endpoint = endpoint
        self.fd = fd
        self.isSocket = isSocket
    }

    deinit { close() }

    public func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
        guard maxCount > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: maxCount)
        while true {
            let revents = try wait(for: Int16(POLLIN), deadline: deadline, .read)
            let n = buffer.withUnsafeMutableBytes { raw in
                isSocket ? recv(fd, raw.baseAddress, maxCount, 0) : Glibc.read(fd, raw.baseAddress, maxCount)
            }
            if n > 0 { return Array(buffer[0..<n]) }
            if n == 0 {
                // End of stream on a socket; on a tty a zero read is only an end when it hung up.
                if isSocket || revents & Int16(POLLHUP) != 0 { throw .closedByPeer }
                continue
            }
            let e = errno
            if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { continue }
            throw .failed(.read, errno: e)
        }
    }

    public func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
        var offset = 0
        while offset < bytes.count {
            _ = try wait(for: Int16(POLLOUT), deadline: deadline, .write)
            let n = bytes.withUnsafeBytes { raw in
                let p = raw.baseAddress.map { $0 + offset }
                return isSocket ? send(fd, p, bytes.count - offset, Int32(MSG_NOSIGNAL))
                                : Glibc.write(fd, p, bytes.count - offset)
            }
            if n >= 0 {
                offset += n
                continue
            }
            let e = errno
            if e == EINTR || e == EAGAIN || e == EWOULDBLOCK { continue }
            if e == EPIPE { throw .closedByPeer }
            throw .failed(.write, errno: e)
        }
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// Waits until `events` are ready (or an error or hang-up is pending) or `deadline` passes.
    func wait(for events: Int16, deadline: Deadline, _ operation: TransportOperation) throws(TransportError) -> Int16 {
        guard fd >= 0 else { throw .notOpen }
        return try DescriptorTransport.wait(fd, for: events, deadline: deadline, operation)
    }

    /// Waits on any descriptor (a socket still connecting, too).
    static func wait(_ fd: Int32, for events: Int16, deadline: Deadline,
                     _ operation: TransportOperation) throws(TransportError) -> Int16 {
        while true {
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, deadline.pollMilliseconds)
            if r > 0 {
                if p.revents & Int16(POLLNVAL) != 0 { throw .failed(operation, errno: EBADF) }
                return p.revents
            }
            if r == 0 {
                if deadline.hasPassed { throw .timedOut(operation, after: deadline.budget) }
                continue
            }
            let e = errno
            if e != EINTR { throw .failed(operation, errno: e) }
        }
    }
}
