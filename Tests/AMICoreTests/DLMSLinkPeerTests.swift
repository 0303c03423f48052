import Foundation
import Glibc
import Testing
@testable import AMICore

private typealias T = DLMSLinkTest

/// Transports and links against peers written here: silent and babbling TCP listeners, refused and
/// closed connections, IPv6, HDLC servers that refuse, and a pseudo-terminal serial line.
@Suite(.serialized) struct DLMSLinkPeerTests {
    /// Reads and discards until the client goes away: a meter that never answers.
    static func silent(_ io: DescriptorTransport) {
        while (try? io.read(maxCount: 4096, deadline: .after(.seconds(10)))) != nil {}
    }

    static func elapsed(_ body: () throws -> Void) -> Duration {
        let start = ContinuousClock.now
        try? body()
        return ContinuousClock.now - start
    }

    @Test func transportReadTimeout() throws {
        let listener = try T.Listener()
        listener.serve(Self.silent)
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        #expect(t.endpoint == "tcp://127.0.0.1:\(listener.port)")
        #expect(t.peerAddress == "127.0.0.1:\(listener.port)")
        let took = Self.elapsed {
            #expect(throws: TransportError.timedOut(.read, after: .milliseconds(200))) {
                try t.read(maxCount: 10, deadline: .after(.milliseconds(200)))
            }
        }
        #expect(took >= .milliseconds(200) && took < .seconds(2))
        #expect(TransportError.timedOut(.read, after: .milliseconds(200)).description == "read: timed out after 200 ms")
        t.close()
        #expect(throws: TransportError.notOpen) { try t.read(maxCount: 1, deadline: .after(.seconds(1))) }
    }

    /// Each frame waits `frameTimeout` and is sent again `retries` times, then a clear error.
    @Test func hdlcRetriesThenNoResponse() throws {
        let listener = try T.Listener()
        listener.serve(Self.silent)
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = HDLCLink(transport: t, configuration: .init(frameTimeout: .milliseconds(200), retries: 2))
        let log = T.FrameLog()
        link.observer = log.add
        let took = Self.elapsed {
            #expect(throws: DLMSLinkError.noResponse(attempts: 3, timeout: .milliseconds(200))) {
                try link.connect(deadline: .after(.seconds(5)))
            }
        }
        #expect(took >= .milliseconds(600) && took < .seconds(3))
        #expect(log.sent.count == 3 && Set(log.sent).count == 1 && log.received.isEmpty)
        #expect(DLMSLinkError.noResponse(attempts: 3, timeout: .milliseconds(200)).description
                == "no answer from the meter: sent 3 times, waited 200 ms each")
    }

    /// The whole operation's deadline wins over the retries.
    @Test func hdlcDeadline() throws {
        let listener = try T.Listener()
        listener.serve(Self.silent)
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = HDLCLink(transport: t, configuration: .init(frameTimeout: .seconds(1), retries: 5))
        let took = Self.elapsed {
            #expect(throws: DLMSLinkError.transport(.timedOut(.read, after: .milliseconds(300)))) {
                try link.connect(deadline: .after(.milliseconds(300)))
            }
        }
        #expect(took < .seconds(2))
    }

    @Test func wrapperTimeout() throws {
        let listener = try T.Listener()
        listener.serve(Self.silent)
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = WrapperLink(transport: t)
        try link.send([0x60, 0x00], deadline: .after(.seconds(1)))
        #expect(throws: DLMSLinkError.transport(.timedOut(.read, after: .milliseconds(300)))) {
            try link.receive(deadline: .after(.milliseconds(300)))
        }
    }

    /// A peer that answers everything with noise: HDLC drops it, retries, and ends with the
    /// framing error; it never hangs.
    @Test func hdlcGarbage() throws {
        let listener = try T.Listener()
        listener.serve { io in
            var rng = SplitMix64(state: 7)
            while (try? io.read(maxCount: 4096, deadline: .after(.seconds(10)))) != nil {
                var noise = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                noise[10] = 0x7E
                noise[11] = 0xA0
                noise += T.reply(.ua(pf: true)).dropLast(2) + [0x00, 0x7E]  // a UA with a bad FCS
                try? io.write(noise, deadline: .after(.seconds(2)))
            }
        }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = HDLCLink(transport: t, configuration: .init(frameTimeout: .milliseconds(200), retries: 1))
        let took = Self.elapsed {
            do {
                try link.connect(deadline: .after(.seconds(5)))
                Issue.record("connected to noise")
            } catch {
                guard case .framing(let e) = error as? DLMSLinkError else {
                    Issue.record("\(error)")
                    return
                }
                #expect(e.layer == .hdlc)
            }
        }
        #expect(took < .seconds(3))
    }

    @Test func wrapperGarbage() throws {
        let listener = try T.Listener()
        listener.serve { io in
            _ = try? io.read(maxCount: 4096, deadline: .after(.seconds(5)))
            try? io.write(Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8), deadline: .after(.seconds(2)))
            T.serveHDLC(io) { _ in [] }
        }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = WrapperLink(transport: t)
        try link.send([0x60, 0x00], deadline: .after(.seconds(1)))
        let took = Self.elapsed {
            #expect(throws: DLMSLinkError.framing(DecodeError(.dlmsWrapper, at: 0, .malformed, "wrapper version 0x4854, not 0x0001"))) {
                try link.receive(deadline: .after(.seconds(5)))
            }
        }
        #expect(took < .seconds(2))
    }

    @Test func wrapperWrongPort() throws {
        let listener = try T.Listener()
        listener.serve { io in
            _ = try? io.read(maxCount: 4096, deadline: .after(.seconds(5)))
            if let reply = try? WrapperFrame(source: 2, destination: 16, payload: [0x61, 0x00]).encoded() {
                try? io.write(reply, deadline: .after(.seconds(2)))
            }
            Self.silent(io)
        }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = WrapperLink(transport: t)
        try link.send([0x60, 0x00], deadline: .after(.seconds(1)))
        #expect(throws: DLMSLinkError.unexpected("wrapper PDU from wPort 2 to 16, expected from 1 to 16")) {
            try link.receive(deadline: .after(.seconds(5)))
        }
    }

    @Test func connectionRefused() throws {
        let port = try T.freePort()
        let error = #expect(throws: TransportError.self) {
            try TCPTransport(host: "127.0.0.1", port: port, deadline: .after(.seconds(5)))
        }
        #expect(error == .failed(.connect, errno: ECONNREFUSED, address: "127.0.0.1:\(port)"))
        #expect(error?.description == "connect 127.0.0.1:\(port): Connection refused")
    }

    @Test func closedByPeer() throws {
        let listener = try T.Listener()
        listener.serve { io in try? io.write([0x01, 0x02], deadline: .after(.seconds(1))) }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        var got: [UInt8] = []
        while got.count < 2 { got += try t.read(maxCount: 10, deadline: .after(.seconds(5))) }
        #expect(got == [0x01, 0x02])
        #expect(throws: TransportError.closedByPeer) { try t.read(maxCount: 10, deadline: .after(.seconds(5))) }
        let link = WrapperLink(transport: t)
        #expect(throws: DLMSLinkError.transport(.closedByPeer)) { try link.receive(deadline: .after(.seconds(5))) }
    }

    @Test func ipv6Literal() throws {
        guard let listener = try? T.Listener(ipv6: true) else { return }  // no IPv6 loopback here
        listener.serve { io in
            if let b = try? io.read(maxCount: 100, deadline: .after(.seconds(5))) { try? io.write(b, deadline: .after(.seconds(1))) }
        }
        let t = try TCPTransport(host: "::1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        #expect(t.endpoint == "tcp://[::1]:\(listener.port)" && t.peerAddress == "[::1]:\(listener.port)")
        try t.write([0x7E, 0x7E], deadline: .after(.seconds(1)))
        var got: [UInt8] = []
        while got.count < 2 { got += try t.read(maxCount: 10, deadline: .after(.seconds(5))) }
        #expect(got == [0x7E, 0x7E])
    }

    /// SNRM answered by DM, FRMR or RNR: the link is refused.
    @Test(arguments: [
        (HDLCFrame.Control.dm(pf: true), "the meter answered SNRM with DM (disconnected mode)"),
        (.frmr(pf: true), "the meter rejected SNRM with FRMR 930000"),
        (.rnr(nr: 0, pf: true), "the meter answered SNRM with RNR (receive not ready)"),
    ])
    func refused(_ control: HDLCFrame.Control, _ message: String) throws {
        let listener = try T.Listener()
        listener.serve { io in
            T.serveHDLC(io) { _ in [T.reply(control, control.name == "FRMR" ? [0x93, 0x00, 0x00] : [])] }
        }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = HDLCLink(transport: t)
        #expect(throws: DLMSLinkError.refused(message)) { try link.connect(deadline: .after(.seconds(5))) }
    }

    /// Noise before the answer and a frame for another client are passed over; fill flags and a
    /// flag shared between two frames are fine.
    @Test func hdlcToleratesNoiseAndOtherStations() throws {
        let listener = try T.Listener()
        listener.serve { io in
            T.serveHDLC(io) { frame in
                switch frame.control {
                case .snrm:
                    let other = T.reply(.ua(pf: true), to: .client(17) ?? .publicClient)
                    let ua = T.reply(.ua(pf: true))
                    return [[0x00, 0x13, 0x7E, 0xA0, 0x05] + [0x7E, 0x7E] + other + ua.dropFirst()]
                default:
                    return [[0x7E] + T.reply(.ua(pf: true))]
                }
            }
        }
        let t = try TCPTransport(host: "127.0.0.1", port: listener.port, deadline: .after(.seconds(5)))
        defer { t.close() }
        let link = HDLCLink(transport: t, configuration: .init(frameTimeout: .seconds(2), retries: 0))
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: .after(.seconds(5)))
        try link.disconnect(deadline: .after(.seconds(5)))
        #expect(log.sent.count == 2 && log.received.count == 3)
    }

    // MARK: - serial

    /// SerialTransport on the slave side of a pseudo-terminal, a `WindowedMeter` on the master
    /// side: SNRM/UA (the meter sends 16-byte segments in windows of 2, takes 32 bytes), a 70-byte
    /// request sent in 3 segments, a 274-byte answer received in 18 segments and 9 windows, DISC/UA.
    @Test func serialHDLCOverPseudoTerminal() throws {
        let (master, path) = try T.openPseudoTerminal()
        let serial = try SerialTransport(path: path, settings: .hdlc)
        defer { serial.close() }
        #expect(serial.endpoint == "serial:" + path && serial.settings.description == "9600 8N1")
        try #require(fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK) == 0)
        let meter = T.WindowedMeter(maxInfo: 16, maxReceive: 32, window: 2)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let io = DescriptorTransport(endpoint: "pty", fd: master, isSocket: false)
            T.serveHDLC(io, answer: meter.answer)
            io.close()
            done.signal()
        }
        let link = HDLCLink(transport: serial, configuration: .init(frameTimeout: .seconds(2), retries: 1))
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: .after(.seconds(5)))
        #expect(link.negotiated == HDLCParameters(maxInfoTransmit: 32, maxInfoReceive: 16, windowTransmit: 1, windowReceive: 2))
        let request: [UInt8] = [0xC0, 0x01, 0xC1] + (0..<67).map { UInt8(255 - $0) }
        try link.send(request, deadline: .after(.seconds(5)))
        #expect(try link.receive(deadline: .after(.seconds(5))) == T.WindowedMeter.response(to: request))
        try link.disconnect(deadline: .after(.seconds(5)))
        #expect(meter.requests == [request])
        let sent = T.hdlc(log.sent), received = T.hdlc(log.received)
        #expect(sent.map(\.control.name) == ["SNRM", "I", "I", "I"] + Array(repeating: "RR", count: 8) + ["DISC"])
        #expect(sent.filter(\.segmented).count == 2)
        #expect(received.filter { $0.control.name == "I" }.count == 18)
        #expect(received.filter { $0.control.name == "RR" }.count == 2)
        serial.close()
        #expect(done.wait(timeout: .now() + 5) == .success)
    }

    @Test func serialSettings() {
        #expect(SerialSettings.mbus.description == "2400 8E1")
        #expect(throws: TransportError.unsupported("baud rate 1234 is not one of 300 to 921600 the system knows")) {
            try SerialTransport(path: "/dev/null", settings: SerialSettings(baudRate: 1234))
        }
        #expect(throws: TransportError.unsupported("9 data bits (5 to 8 are possible)")) {
            try SerialTransport(path: "/dev/null", settings: SerialSettings(baudRate: 9600, dataBits: 9))
        }
        #expect(throws: TransportError.failed(.configure, errno: ENOTTY, address: "/dev/null")) {
            try SerialTransport(path: "/dev/null", settings: .hdlc)
        }
        #expect(throws: TransportError.failed(.open, errno: ENOENT, address: "/dev/ami-no-such-tty")) {
            try SerialTransport(path: "/dev/ami-no-such-tty", settings: .hdlc)
        }
    }
}
