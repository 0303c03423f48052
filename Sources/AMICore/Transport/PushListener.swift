import Glibc

/// Where pushed frames arrive: a UDP or TCP port that modules and meters send to, or a serial port
/// (an optical head, a wireless M-Bus receiver) read in raw capture mode.
public enum PushEndpoint: Sendable, Equatable, CustomStringConvertible {
    case udp(host: String, port: UInt16)
    case tcp(host: String, port: UInt16)
    case serial(path: String, settings: SerialSettings)

    /// `udp://ADDR:PORT`, `tcp://ADDR:PORT` (an IPv6 address in brackets) or `serial:DEVICE`.
    public init?(_ text: String, serial settings: SerialSettings) {
        if text.hasPrefix("serial:") {
            let path = String(text.dropFirst("serial:".count))
            guard !path.isEmpty else { return nil }
            self = .serial(path: path, settings: settings)
            return
        }
        let udp = text.hasPrefix("udp://")
        guard udp || text.hasPrefix("tcp://") else { return nil }
        guard let (host, port) = HostPort.parse(text.dropFirst(6)) else { return nil }
        self = udp ? .udp(host: host, port: port) : .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .udp(let h, let p): "udp://" + HostPort.text(h, p)
        case .tcp(let h, let p): "tcp://" + HostPort.text(h, p)
        case .serial(let path, _): "serial:" + path
        }
    }
}

/// How a byte stream (a TCP connection, a serial port) is cut into frames. A UDP datagram is always
/// one frame.
public enum FrameSplit: Sendable, Equatable {
    /// By the protocols' start bytes, lengths and end marks (`FrameScanner`).
    case protocols(Set<ProtocolID>)
    /// What arrives before a pause of this many milliseconds (receivers that output frames without
    /// anything to find them by, such as wireless M-Bus sticks).
    case idle(milliseconds: Int)
}

/// A stop request from a signal: `install` makes SIGTERM and SIGINT write to a pipe that the
/// listener polls, so it finishes the frame in hand, flushes and returns.
public final class StopSignal: @unchecked Sendable {
    /// The read end of the pipe the handler writes to.
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Installs the handlers for `signals` (SIGTERM and SIGINT by default); call once per process.
    public static func install(_ signals: [Int32] = [SIGTERM, SIGINT]) -> StopSignal {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds { PushListener.nonBlocking(fd) }
        stopPipeWriteEnd = fds[1]
        // A parent may have left them blocked (Foundation's Process does): a service must hear them.
        var set = sigset_t()
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for s in signals {
            signal(s) { _ in
                var byte: UInt8 = 1
                _ = write(stopPipeWriteEnd, &byte, 1)
            }
        }
        return StopSignal(fd: fds[0])
    }

    /// True once a signal came (reads the pipe without waiting).
    var raised: Bool {
        var byte: UInt8 = 0
        return read(fd, &byte, 1) == 1
    }
}

/// Written only by `StopSignal.install`, before any handler can run; read by the handlers.
nonisolated(unsafe) private var stopPipeWriteEnd: Int32 = -1

/// What a listener hands over: each frame, and each problem with where it happened.
public protocol PushSink: AnyObject {
    /// A frame received; false stops the listener (the output is gone).
    func frame(_ record: FrameRecord) -> Bool
    /// A piece of a stream that is no frame (`skipped`), or a note (a device gone and back, a
    /// connection accepted); false stops the listener (`--strict`).
    func problem(_ location: String, _ message: String, skipped: Bool) -> Bool
}

/// Receives pushed frames on one endpoint until stopped: accepts any number of TCP connections,
/// reads UDP datagrams, or reads a serial port and opens it again when it comes back after it went
/// away. Single-threaded, one poll(2) loop.
public final class PushListener {
    public let endpoint: PushEndpoint
    public let split: FrameSplit
    /// The protocol written in frame records whose protocol the splitter does not know (UDP
    /// datagrams, idle-split frames); nil leaves it out unless a datagram is one whole frame.
    public let protocolName: String?
    /// How often a serial device that is not there is tried again.
    public let reopenInterval: Duration
    /// Stop after this many frames (nil: until a signal).
    public let maxFrames: Int?

    /// One byte stream being cut into frames.
    final class Stream {
        let source: String
        var fd: Int32
        var buffer: [UInt8] = []
        var base = 0          // absolute offset of buffer[0]
        var scanFrom = 0
        var scanner = FrameScanner()
        var lastByte = ContinuousClock.now
        init(source: String, fd: Int32) {
            self.source = source
            self.fd = fd
        }
    }

    private var frames = 0
    private var stopped = false
    /// What each read(2) or recvfrom(2) fills, made once.
    private var readBuffer = [UInt8](repeating: 0, count: 65_536)

    public init(endpoint: PushEndpoint, split: FrameSplit, protocolName: String? = nil,
                reopenInterval: Duration = .seconds(1), maxFrames: Int? = nil) {
        self.endpoint = endpoint
        self.split = split
        self.protocolName = protocolName
        self.reopenInterval = reopenInterval
        self.maxFrames = maxFrames
    }

    /// Listens until `stop` is raised, `maxFrames` frames came, or the sink says stop. Throws when
    /// the endpoint cannot be opened (a port in use, an address not on this machine); a serial
    /// device that is missing is waited for instead.
    public func run(stop: StopSignal?, sink: PushSink) throws(TransportError) {
        switch endpoint {
        case .udp(let host, let port):
            let fd = try PushListener.bind(host: host, port: port, udp: true)
            defer { close(fd) }
            _ = sink.problem(endpoint.description, "listening on udp://\(PushListener.localAddress(fd))", skipped: false)
            try udpLoop(fd, stop: stop, sink: sink)
        case .tcp(let host, let port):
            let fd = try PushListener.bind(host: host, port: port, udp: false)
            defer { close(fd) }
            _ = sink.problem(endpoint.description, "listening on tcp://\(PushListener.localAddress(fd))", skipped: false)
            try tcpLoop(fd, stop: stop, sink: sink)
        case .serial(let path, let settings):
            serialLoop(path: path, settings: settings, stop: stop, sink: sink)
        }
    }

    // MARK: - loops

    private func udpLoop(_ fd: Int32, stop: StopSignal?, sink: PushSink) throws(TransportError) {
        while !stopped {
            let ready = wait([fd, stop?.fd ?? -1], timeout: -1)
            if let stop, ready.contains(stop.fd), stop.raised { return }
            guard ready.contains(fd) else { continue }
            // Drain every datagram queued, so a burst does not overflow the socket's buffer.
            while !stopped {
                var from = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let n = readBuffer.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT), $0, &length)
                        }
                    }
                }
                if n < 0 {
                    let e = errno
                    if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { break }
                    throw .failed(.read, errno: e)
                }
                let peer = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { TCPTransport.numericAddress($0, length) }
                }
                datagram(Array(readBuffer[0..<n]), source: "udp://" + peer, sink: sink)
            }
        }
    }

    private func tcpLoop(_ listening: Int32, stop: StopSignal?, sink: PushSink) throws(TransportError) {
        var streams: [Stream] = []
        defer { for s in streams { close(s.fd) } }
        while !stopped {
            let ready = wait([listening, stop?.fd ?? -1] + streams.map(\.fd), timeout: idleTimeout(streams))
            if let stop, ready.contains(stop.fd), stop.raised {
                for s in streams { finish(s, sink: sink) }
                return
            }
            if ready.contains(listening) {
                var from = sockaddr_storage()
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let fd = withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        accept(listening, $0, &length)
                    }
                }
                if fd >= 0 {
                    PushListener.nonBlocking(fd)
                    let peer = withUnsafeMutablePointer(to: &from) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { TCPTransport.numericAddress($0, length) }
                    }
                    streams.append(Stream(source: "tcp://" + peer, fd: fd))
                }
            }
            for s in streams where ready.contains(s.fd) {
                if !pull(s, sink: sink) {
                    finish(s, sink: sink)
                    close(s.fd)
                    s.fd = -1
                }
            }
            streams.removeAll { $0.fd < 0 }
            for s in streams { splitIdle(s, sink: sink) }
        }
    }

    private func serialLoop(path: String, settings: SerialSettings, stop: StopSignal?, sink: PushSink) {
        var reportedMissing = false
        while !stopped {
            let port: SerialTransport
            do {
                port = try SerialTransport(path: path, settings: settings)
            } catch {
                if !reportedMissing {
                    _ = sink.problem("serial:" + path, "\(error); waiting for it", skipped: false)
                    reportedMissing = true
                }
                let ready = wait([stop?.fd ?? -1], timeout: Deadline.after(reopenInterval).pollMilliseconds)
                if let stop, ready.contains(stop.fd), stop.raised { return }
                continue
            }
            if reportedMissing { _ = sink.problem("serial:" + path, "open again", skipped: false) }
            reportedMissing = false
            let s = Stream(source: "serial:" + path, fd: port.fd)
            while !stopped {
                let ready = wait([s.fd, stop?.fd ?? -1], timeout: idleTimeout([s]))
                if let stop, ready.contains(stop.fd), stop.raised {
                    finish(s, sink: sink)
                    port.close()
                    return
                }
                if ready.contains(s.fd), !pull(s, sink: sink) {
                    finish(s, sink: sink)
                    _ = sink.problem(s.source, "gone; waiting for it to come back", skipped: false)
                    reportedMissing = true
                    break
                }
                splitIdle(s, sink: sink)
            }
            port.close()
        }
    }

    // MARK: - frames

    /// Reads what the stream has; false at its end (closed, hung up, or failed).
    private func pull(_ s: Stream, sink: PushSink) -> Bool {
        let n = readBuffer.withUnsafeMutableBytes { Glibc.read(s.fd, $0.baseAddress, $0.count) }
        if n < 0 {
            let e = errno
            return e == EAGAIN || e == EWOULDBLOCK || e == EINTR
        }
        if n == 0 { return false }
        s.buffer.append(contentsOf: readBuffer[0..<n])
        s.lastByte = .now
        if case .protocols(let p) = split { scan(s, atEnd: false, protocols: p, sink: sink) }
        return true
    }

    /// Cuts frames out of the stream's buffer by the protocols' framing.
    private func scan(_ s: Stream, atEnd: Bool, protocols: Set<ProtocolID>, sink: PushSink) {
        s.scanFrom = s.scanner.scan(s.buffer, from: s.scanFrom, atEnd: atEnd, base: s.base, protocols: protocols,
                                    endOf: "stream") { piece in
            switch piece {
            case .frame(let p, let range):
                emit(Array(s.buffer[(range.lowerBound - s.base)..<(range.upperBound - s.base)]), protocolName: p.rawValue,
                     source: s.source, sink: sink)
            case .skip(let e):
                if !sink.problem("\(s.source) byte \(e.offset)", e.description, skipped: true) { stopped = true }
            }
            return !stopped
        }
        if s.scanFrom > 0 {
            s.buffer.removeSubrange(0..<s.scanFrom)
            s.base += s.scanFrom
            s.scanFrom = 0
        }
    }

    /// The end of a stream: what is left is a truncated frame (split by protocols) or a frame
    /// (split by pauses).
    private func finish(_ s: Stream, sink: PushSink) {
        switch split {
        case .protocols(let p): scan(s, atEnd: true, protocols: p, sink: sink)
        case .idle:
            if !s.buffer.isEmpty { emit(s.buffer, protocolName: protocolName, source: s.source, sink: sink) }
        }
        s.buffer.removeAll()
    }

    /// Under `.idle`, the bytes before a pause are a frame.
    private func splitIdle(_ s: Stream, sink: PushSink) {
        guard case .idle(let ms) = split, !s.buffer.isEmpty,
              ContinuousClock.now - s.lastByte >= .milliseconds(ms) else { return }
        emit(s.buffer, protocolName: protocolName, source: s.source, sink: sink)
        s.base += s.buffer.count
        s.buffer.removeAll()
    }

    /// Milliseconds until the first idle stream's pause is long enough; -1 (no timeout) otherwise.
    private func idleTimeout(_ streams: [Stream]) -> Int32 {
        guard case .idle(let ms) = split else { return -1 }
        var soonest: Int32 = -1
        for s in streams where !s.buffer.isEmpty {
            let gap = Duration.milliseconds(ms)
            let t = Deadline(instant: s.lastByte.advanced(by: gap), budget: gap).pollMilliseconds
            soonest = soonest < 0 ? t : min(soonest, t)
        }
        return soonest
    }

    /// A datagram is one frame; its protocol is the one given, or the one whose framing covers it whole.
    private func datagram(_ bytes: [UInt8], source: String, sink: PushSink) {
        guard !bytes.isEmpty else { return }
        var name = protocolName
        if name == nil, case .protocols(let p) = split,
           case .frame(let found, let length)? = Codecs.scan(bytes, at: 0, end: bytes.count, atEnd: true, protocols: p),
           length == bytes.count {
            name = found.rawValue
        }
        emit(bytes, protocolName: name, source: source, sink: sink)
    }

    private func emit(_ bytes: [UInt8], protocolName: String?, source: String, sink: PushSink) {
        guard !stopped else { return }
        let record = FrameRecord(bytes: bytes, time: UTCTime.now(), protocolName: protocolName, source: source,
                                 direction: .rx)
        frames += 1
        if !sink.frame(record) || (maxFrames.map { frames >= $0 } ?? false) { stopped = true }
    }

    // MARK: - sockets

    /// The descriptors of `fds` (negatives ignored) that are readable or hung up, waiting up to
    /// `timeout` milliseconds (-1: without limit).
    private func wait(_ fds: [Int32], timeout: Int32) -> Set<Int32> {
        var polls = fds.filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let r = poll(&polls, nfds_t(polls.count), timeout)
        guard r > 0 else { return [] }
        return Set(polls.filter { $0.revents != 0 }.map(\.fd))
    }

    /// A bound socket (listening, for TCP) on `host:port`; port 0 takes any free port.
    static func bind(host: String, port: UInt16, udp: Bool) throws(TransportError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>? = nil
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let ai = list else {
            let reason = rc == EAI_SYSTEM ? TransportError.errnoText(errno) : String(cString: gai_strerror(rc))
            throw .resolveFailed(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        let address = (udp ? "udp://" : "tcp://") + HostPort.text(host, port)
        let type = ai.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(ai.pointee.ai_family, type, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw .failed(.bind, errno: errno, address: address) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if udp {
            // Room for a burst of datagrams while the records of the ones before are written.
            var size: Int32 = 8 << 20
            if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        guard Glibc.bind(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0,
              udp || listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            throw .failed(.bind, errno: e, address: address)
        }
        return fd
    }

    /// Sets O_NONBLOCK and FD_CLOEXEC.
    static func nonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
    }

    /// `ADDR:PORT` a socket is bound to (the port chosen when 0 was asked for).
    static func localAddress(_ fd: Int32) -> String {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(fd, $0, &length) == 0 ? TCPTransport.numericAddress($0, length) : "?"
            }
        }
    }
}
