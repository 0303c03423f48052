import Foundation
import Glibc
import Testing
@testable import AMICore

/// The DLMS frame corpus, the meter simulator and in-test peers (TCP listeners, a pseudo-terminal)
/// for the link-layer tests.
enum DLMSLinkTest {
    /// `../shared` beside the package.
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
    static let framesFile = shared.appendingPathComponent("corpus/dlms/frames.jsonl")
    static let simulator = shared.appendingPathComponent("peers/dlms/dlms_meter_sim.py")

    static let corpusExists = FileManager.default.fileExists(atPath: framesFile.path)
    /// The simulator's Python: `AMI_DLMS_SIM_PYTHON`, else the package's `.venv-dlms` (made by
    /// `scripts/python-env --set dlms`, which scripts/test runs).
    static let simulatorPython: String? = ProcessInfo.processInfo.environment["AMI_DLMS_SIM_PYTHON"]
        .flatMap { $0.isEmpty ? nil : $0 } ?? {
            let own = MBusTest.packageRoot.appendingPathComponent(".venv-dlms/bin/python").path
            return FileManager.default.isExecutableFile(atPath: own) ? own : nil
        }()
    static let simulatorAvailable = simulatorPython != nil && corpusExists
        && FileManager.default.fileExists(atPath: simulator.path)

    /// Bytes of a hex literal written in a test (spaces allowed).
    static func bytes(_ hex: String) -> [UInt8] {
        (try? Hex.decode(Array(hex.utf8))) ?? []
    }

    /// One line of `frames.jsonl`.
    struct CorpusFrame {
        var session: String
        var seq: Int
        var direction: String
        var framing: String
        var bytes: [UInt8]
        var pdu: [UInt8]?
        var link: JSONValue
        var step: String?
    }

    static let frames: [CorpusFrame] = {
        guard let text = try? String(contentsOf: framesFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let v = try? JSONValue.parse(Array(line.utf8)), let session = v["session"]?.stringValue,
                  let seq = v["seq"]?.numberText.flatMap({ Int($0) }), let hex = v["hex"]?.stringValue,
                  let bytes = try? Hex.decode(Array(hex.utf8)), let link = v["link"] else { return nil }
            return CorpusFrame(session: session, seq: seq, direction: v["direction"]?.stringValue ?? "",
                               framing: v["framing"]?.stringValue ?? "", bytes: bytes,
                               pdu: v["pdu_hex"]?.stringValue.flatMap { try? Hex.decode(Array($0.utf8)) },
                               link: link, step: v["step"]?.stringValue)
        }
    }()

    /// The frame `seq` of the session whose name starts with `prefix` (`s02`).
    static func frame(_ prefix: String, _ seq: Int) throws -> CorpusFrame {
        try #require(frames.first { $0.session.hasPrefix(prefix + "-") && $0.seq == seq })
    }

    // MARK: - the simulator

    /// A running `dlms_meter_sim.py`, stopped (SIGTERM) when released. Spawned and reaped with
    /// posix_spawn and waitpid: Foundation's `Process` loses track of the child in tests.
    final class Simulator {
        let pid: pid_t
        let port: UInt16
        let log: URL

        init(_ arguments: [String]) throws {
            let python = try #require(DLMSLinkTest.simulatorPython)
            port = try freePort()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-dlms-sim-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let ready = dir.appendingPathComponent("ready")
            log = dir.appendingPathComponent("log")
            let argv = [python, DLMSLinkTest.simulator.path, "--port", String(port), "--ready-file", ready.path,
                        "--max-seconds", "120"] + arguments
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            // The test thread may block signals; the child gets an empty mask and default handlers,
            // so that SIGTERM stops it.
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            var defaults = sigset_t()
            sigemptyset(&defaults)
            sigaddset(&defaults, SIGTERM)
            sigaddset(&defaults, SIGPIPE)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var cArgs = argv.map { strdup($0) } + [nil]
            defer { for a in cArgs { free(a) } }
            var child: pid_t = 0
            let rc = posix_spawn(&child, python, &actions, &attributes, &cArgs, environ)
            guard rc == 0 else { throw SimulatorError(message: "posix_spawn \(python): \(rc)") }
            pid = child
            let start = ContinuousClock.now
            while !FileManager.default.fileExists(atPath: ready.path) {
                var status: Int32 = 0
                guard waitpid(pid, &status, WNOHANG) == 0, ContinuousClock.now - start < .seconds(30) else {
                    stop()
                    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                    throw SimulatorError(message: "simulator did not start: \(text)")
                }
                usleep(20_000)
            }
        }

        /// SIGTERM, then SIGKILL after 10 s, and reaps the child.
        func stop() {
            var status: Int32 = 0
            guard waitpid(pid, &status, WNOHANG) == 0 else { return }
            kill(pid, SIGTERM)
            let start = ContinuousClock.now
            while waitpid(pid, &status, WNOHANG) == 0 {
                if ContinuousClock.now - start > .seconds(10) {
                    kill(pid, SIGKILL)
                    _ = waitpid(pid, &status, 0)
                    return
                }
                usleep(10_000)
            }
        }

        deinit { stop() }
    }

    struct SimulatorError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    // MARK: - in-test TCP peers

    /// A port nobody listens on right now (bound to port 0, read back, released).
    static func freePort() throws -> UInt16 {
        let listener = try Listener()
        return listener.port
    }

    /// A TCP listener on 127.0.0.1 (or ::1) whose first connection is handed to `serve` on a
    /// thread of its own.
    final class Listener: @unchecked Sendable {
        let fd: Int32
        let port: UInt16

        init(ipv6: Bool = false) throws {
            let family = ipv6 ? AF_INET6 : AF_INET
            let sock = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard sock >= 0 else { throw SimulatorError(message: "socket: \(errno)") }
            var storage = sockaddr_storage()
            var length: socklen_t
            if ipv6 {
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
                withUnsafeMutableBytes(of: &storage) { raw in
                    let a = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                    a.pointee.sin6_family = sa_family_t(AF_INET6)
                    a.pointee.sin6_addr = in6addr_loopback
                }
            } else {
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
                withUnsafeMutableBytes(of: &storage) { raw in
                    let a = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                    a.pointee.sin_family = sa_family_t(AF_INET)
                    a.pointee.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
                }
            }
            let ok = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(sock, $0, length) == 0 && listen(sock, 4) == 0 && getsockname(sock, $0, &length) == 0
                }
            }
            guard ok else {
                Glibc.close(sock)
                throw SimulatorError(message: "bind/listen: \(errno)")
            }
            // sin_port and sin6_port are at the same place.
            port = withUnsafeBytes(of: &storage) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
            fd = sock
        }

        /// Accepts one connection on a new thread and runs `serve` with it; the connection is closed
        /// when `serve` returns.
        func serve(_ serve: @escaping @Sendable (DescriptorTransport) -> Void) {
            let fd = self.fd
            Thread.detachNewThread {
                let conn = accept(fd, nil, nil)
                guard conn >= 0, fcntl(conn, F_SETFL, fcntl(conn, F_GETFL) | O_NONBLOCK) == 0 else { return }
                let io = DescriptorTransport(endpoint: "test", fd: conn, isSocket: true)
                serve(io)
                io.close()
            }
        }

        deinit {
            shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
    }

    /// Collects link frames from an observer.
    final class FrameLog: @unchecked Sendable {
        private(set) var events: [LinkFrameEvent] = []
        func add(_ e: LinkFrameEvent) { events.append(e) }
        var sent: [[UInt8]] { events.filter { $0.direction == .tx }.map(\.bytes) }
        var received: [[UInt8]] { events.filter { $0.direction == .rx }.map(\.bytes) }
    }

    /// HDLC frames decoded from a list of frame bytes (those that decode).
    static func hdlc(_ frames: [[UInt8]]) -> [HDLCFrame] {
        frames.compactMap { try? HDLCFrame(decoding: $0) }
    }
}

// MARK: - an HDLC server for tests

extension DLMSLinkTest {
    /// Reads HDLC frames from `io` and writes back the frames `answer` returns, until the stream
    /// ends or stays silent for `idle`.
    static func serveHDLC(_ io: DescriptorTransport, idle: Duration = .seconds(10), answer: (HDLCFrame) -> [[UInt8]]) {
        var buffer: [UInt8] = []
        while let chunk = try? io.read(maxCount: 4096, deadline: .after(idle)) {
            buffer += chunk
            var at = 0
            scanning: while at < buffer.count {
                switch HDLCFrame.scan(buffer, at: at, end: buffer.count, atEnd: false) {
                case .frame(let length):
                    if let frame = try? HDLCFrame(decoding: buffer, at: at) {
                        for reply in answer(frame) { try? io.write(reply, deadline: .after(.seconds(2))) }
                    }
                    at += length
                case .needMore:
                    break scanning
                case .invalid:
                    at += 1
                }
            }
            buffer.removeFirst(at)
        }
    }

    /// A frame from the management logical device to the public client.
    static func reply(_ control: HDLCFrame.Control, segmented: Bool = false, _ information: [UInt8] = [],
                      to client: HDLCAddress = .publicClient) -> [UInt8] {
        (try? HDLCFrame(destination: client, source: .managementLogicalDevice, control: control, segmented: segmented,
                        information: information).encoded()) ?? []
    }

    /// A meter that sends its answers in windows of `window` I frames of at most `maxInfo` bytes,
    /// and takes requests in frames of at most `maxReceive` bytes. It answers an APDU with
    /// `response(to:)`.
    final class WindowedMeter: @unchecked Sendable {
        let maxInfo: Int
        let maxReceive: Int
        let window: Int
        private var sendSequence: UInt8 = 0
        private var receiveSequence: UInt8 = 0
        private var request: [UInt8] = []
        private var outgoing: [[UInt8]] = []
        private(set) var requests: [[UInt8]] = []

        init(maxInfo: Int, maxReceive: Int, window: Int) {
            self.maxInfo = maxInfo
            self.maxReceive = maxReceive
            self.window = window
        }

        static func response(to apdu: [UInt8]) -> [UInt8] {
            [0xC4] + apdu.reversed() + (0..<200).map { UInt8($0) }
        }

        func answer(_ frame: HDLCFrame) -> [[UInt8]] {
            switch frame.control {
            case .snrm:
                sendSequence = 0
                receiveSequence = 0
                let offer = HDLCParameters(maxInfoTransmit: maxInfo, maxInfoReceive: maxReceive, windowTransmit: window,
                                           windowReceive: 1)
                return [DLMSLinkTest.reply(.ua(pf: true), offer.encoded)]
            case .disc:
                return [DLMSLinkTest.reply(.ua(pf: true))]
            case .i(let ns, _, _):
                guard ns == receiveSequence else { return [] }
                receiveSequence = (ns + 1) & 7
                request += frame.information
                if frame.segmented { return [DLMSLinkTest.reply(.rr(nr: receiveSequence, pf: true))] }
                let apdu = Array(request.dropFirst(3))
                requests.append(apdu)
                request = []
                let information = HDLCFrame.llcResponse + WindowedMeter.response(to: apdu)
                outgoing = stride(from: 0, to: information.count, by: maxInfo).map {
                    Array(information[$0..<min($0 + maxInfo, information.count)])
                }
                return nextWindow()
            case .rr:
                return nextWindow()
            default:
                return []
            }
        }

        private func nextWindow() -> [[UInt8]] {
            var out: [[UInt8]] = []
            for k in 0..<window where !outgoing.isEmpty {
                let information = outgoing.removeFirst()
                let final = outgoing.isEmpty || k == window - 1
                out.append(DLMSLinkTest.reply(.i(ns: sendSequence, nr: receiveSequence, pf: final),
                                              segmented: !outgoing.isEmpty, information))
                sendSequence = (sendSequence + 1) & 7
            }
            return out
        }
    }
}

extension DLMSLinkTest {
    /// A new pseudo-terminal: the master's descriptor and the slave's path. posix_openpt and its
    /// companions are looked up in libc at run time (the Glibc module does not export them).
    static func openPseudoTerminal() throws -> (master: Int32, path: String) {
        typealias IntOfInt = @convention(c) (Int32) -> Int32
        typealias Name = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int) -> Int32
        guard let open = dlsym(nil, "posix_openpt"), let grant = dlsym(nil, "grantpt"),
              let unlock = dlsym(nil, "unlockpt"), let name = dlsym(nil, "ptsname_r") else {
            throw SimulatorError(message: "no pseudo-terminal functions in libc")
        }
        let master = unsafeBitCast(open, to: IntOfInt.self)(O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw SimulatorError(message: "posix_openpt: \(errno)") }
        var path = [CChar](repeating: 0, count: 128)
        guard unsafeBitCast(grant, to: IntOfInt.self)(master) == 0, unsafeBitCast(unlock, to: IntOfInt.self)(master) == 0,
              unsafeBitCast(name, to: Name.self)(master, &path, path.count) == 0 else {
            Glibc.close(master)
            throw SimulatorError(message: "pseudo-terminal set-up: \(errno)")
        }
        return (master, String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
