import Foundation
import Testing
@testable import AMICore

private typealias T = DLMSLinkTest

/// `HDLCLink` and `WrapperLink` over TCP against the Gurux-based meter simulator
/// (`../shared/peers/dlms/dlms_meter_sim.py`), sending APDUs captured in the corpus and comparing
/// the answers with the captured ones. Needs `AMI_DLMS_SIM_PYTHON` (the simulator's venv python);
/// skipped without it or without `../shared`.
@Suite(.serialized, .enabled(if: T.simulatorAvailable, "AMI_DLMS_SIM_PYTHON unset or ../shared absent"))
struct DLMSLinkSimulatorTests {
    static func deadline() -> Deadline { .after(.seconds(10)) }

    /// SNRM/UA, the AARQ of s02 answered by the AARE of s02, DISC/UA; the frames sent are the
    /// Gurux client's, byte for byte.
    @Test func hdlcAssociation() throws {
        let sim = try T.Simulator(["--framing", "hdlc"])
        let transport = try TCPTransport(host: "127.0.0.1", port: sim.port, deadline: Self.deadline())
        defer { transport.close() }
        let link = HDLCLink(transport: transport)
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: Self.deadline())
        #expect(link.negotiated == HDLCParameters())
        let aarq = try T.frame("s02", 2)
        try link.send(try #require(aarq.pdu), deadline: Self.deadline())
        let aare = try link.receive(deadline: Self.deadline())
        #expect(aare == (try T.frame("s02", 3)).pdu)
        #expect(aare.first == 0x61)
        try link.disconnect(deadline: Self.deadline())
        #expect(!link.isConnected)
        #expect(log.sent == [try T.frame("s02", 0).bytes, aarq.bytes, T.bytes("7EA00703215303C77E")])
        #expect(log.received.count == 3)
        #expect(log.received.first == (try T.frame("s02", 1)).bytes)
        #expect(T.hdlc(log.received).map(\.control.name) == ["UA", "I", "UA"])
    }

    /// 2- and 4-byte server addresses (upper 1, lower 17) and other client SAPs, with a simulator
    /// that accepts any server address and answers from the address it was called at.
    @Test(arguments: [(2, 16 as UInt8), (4, 1), (1, 17)])
    func hdlcAddressing(_ size: Int, _ sap: UInt8) throws {
        let sim = try T.Simulator(["--framing", "hdlc", "--server-address", "0"])
        let transport = try TCPTransport(host: "127.0.0.1", port: sim.port, deadline: Self.deadline())
        defer { transport.close() }
        let server = try #require(size == 1 ? HDLCAddress.server(logical: 1) : HDLCAddress.server(logical: 1, physical: 17, size: size))
        let link = HDLCLink(transport: transport, configuration: .init(client: try #require(.client(sap)), server: server))
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: Self.deadline())
        try link.send(try #require(try T.frame("s02", 2).pdu), deadline: Self.deadline())
        #expect(try link.receive(deadline: Self.deadline()).first == 0x61)
        try link.disconnect(deadline: Self.deadline())
        let sent = T.hdlc(log.sent), received = T.hdlc(log.received)
        #expect(sent.count == 3 && received.count == 3)
        #expect(sent.allSatisfy { $0.destination.bytes.count == size && $0.destination.lower == (size == 1 ? nil : 17) })
        #expect(received.allSatisfy { $0.source == server && $0.destination.value == UInt32(sap) })
    }

    /// The AARQ of s01 in a wrapper PDU, answered by the AARE of s01.
    @Test func wrapperAssociation() throws {
        let sim = try T.Simulator(["--framing", "wrapper"])
        let transport = try TCPTransport(host: "localhost", port: sim.port, deadline: Self.deadline())
        defer { transport.close() }
        let link = WrapperLink(transport: transport, clientPort: 16, serverPort: 1)
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: Self.deadline())
        let aarq = try T.frame("s01", 0)
        try link.send(try #require(aarq.pdu), deadline: Self.deadline())
        #expect(try link.receive(deadline: Self.deadline()) == (try T.frame("s01", 1)).pdu)
        try link.disconnect(deadline: Self.deadline())
        #expect(log.sent == [aarq.bytes])
        #expect(log.received == [(try T.frame("s01", 1)).bytes])
    }

    /// With a 64-byte maximum information field: the load profile (GET 1.0.99.1.0.255/2, first
    /// block and next block) comes back in segments that reassemble to the APDUs of s02, and the
    /// by-range request of s02 (76 bytes with its LLC header) goes out in two segments.
    @Test func hdlcSegmentation() throws {
        let sim = try T.Simulator(["--framing", "hdlc", "--hdlc-max-info", "64"])
        let transport = try TCPTransport(host: "127.0.0.1", port: sim.port, deadline: Self.deadline())
        defer { transport.close() }
        let link = HDLCLink(transport: transport, configuration: .init(frameTimeout: .seconds(5)))
        let log = T.FrameLog()
        link.observer = log.add
        try link.connect(deadline: Self.deadline())
        #expect(link.negotiated == HDLCParameters(maxInfoTransmit: 64, maxInfoReceive: 64))

        // request seq → response seq of s02: AARQ, by range, whole profile (block 1, next block).
        for (request, response) in [(2, 3), (44, 47), (50, 67), (68, 85)] {
            let req = try T.frame("s02", request)
            let first = log.events.count
            try link.send(try #require(req.pdu), deadline: Self.deadline())
            let apdu = try link.receive(deadline: Self.deadline())
            #expect(apdu == (try T.frame("s02", response)).pdu, "\(req.step ?? "")")
            let exchanged = log.events[first...]
            let sent = T.hdlc(exchanged.filter { $0.direction == .tx }.map(\.bytes))
            let received = T.hdlc(exchanged.filter { $0.direction == .rx }.map(\.bytes))
            #expect(sent.allSatisfy { $0.information.count <= 64 } && received.allSatisfy { $0.information.count <= 64 })
            let segmentsIn = received.filter(\.segmented).count
            let requestsForMore = sent.filter { if case .rr = $0.control { true } else { false } }.count
            #expect(requestsForMore == segmentsIn, "one RR per received segment")
            switch request {
            case 44: #expect(sent.filter(\.segmented).count == 1 && received.first?.control.name == "RR")
            case 50, 68: #expect(segmentsIn >= 10)
            default: #expect(segmentsIn == 0)
            }
        }
        try link.disconnect(deadline: Self.deadline())
    }
}
