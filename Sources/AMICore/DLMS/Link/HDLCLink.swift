/// A DLMS/COSEM link over HDLC (IEC 62056-46 MAC and LLC sublayers; DLMS UA 1000-2 Ed. 8 §8.4),
/// as the client (primary station) of one server, on a serial port or HDLC-over-TCP:
///
/// - `connect`: SNRM, answered by UA with the server's parameters (`negotiated`): the client sends
///   at most the smaller of its proposal and what the server can receive, and accepts what the
///   server says it will send.
/// - `send`: the APDU behind the LLC header E6 E6 00, cut into I frames of at most the negotiated
///   length; every frame carries the poll bit and the client waits for RR between segments
///   (window 1, which any server accepts).
/// - `receive`: I frames are checked for N(S) and N(R) and reassembled; when a segment (S bit)
///   carries the final bit, RR asks for the next window. Windows above 1 are received.
/// - `disconnect`: DISC, answered by UA or DM.
///
/// When the server does not answer a frame within `frameTimeout`, the frame is sent again, up to
/// `retries` times. Bytes that are not a valid frame (line noise) are dropped and count as no
/// answer; when retries run out after such bytes, the error is the framing error. Frames for other
/// addresses are ignored. DM, FRMR and RNR end the exchange with `refused`.
public final class HDLCLink: DLMSLink {
    public struct Configuration: Sendable, Equatable {
        /// The client's address (the client SAP).
        public var client: HDLCAddress
        /// The server's address: upper HDLC address (logical device) and optional lower one
        /// (physical device).
        public var server: HDLCAddress
        /// Parameters proposed in SNRM, as the client's (transmit = client to meter); nil sends
        /// SNRM without an information field, which proposes the defaults 128/128/1/1.
        public var proposal: HDLCParameters?
        /// How long the server has to answer each frame before it is sent again.
        public var frameTimeout: Duration
        /// How many times a frame is sent again after a timeout before giving up.
        public var retries: Int
        /// The longest APDU accepted from the server, a bound against a server that never stops.
        public var maxAPDULength: Int

        public init(client: HDLCAddress = .publicClient, server: HDLCAddress = .managementLogicalDevice,
                    proposal: HDLCParameters? = nil, frameTimeout: Duration = .seconds(3), retries: Int = 3,
                    maxAPDULength: Int = 1 << 17) {
            self.client = client
            self.server = server
            self.proposal = proposal
            self.frameTimeout = frameTimeout
            self.retries = retries
            self.maxAPDULength = maxAPDULength
        }
    }

    public let transport: any Transport
    public var observer: ((LinkFrameEvent) -> Void)?
    public let configuration: Configuration
    /// The parameters in force after `connect`, as the client's (transmit = client to meter).
    public private(set) var negotiated = HDLCParameters()
    /// True between a successful `connect` and `disconnect`.
    public private(set) var isConnected = false

    /// V(S): N(S) of the next I frame the client sends.
    private var sendSequence: UInt8 = 0
    /// V(R): N(S) expected on the next I frame from the server.
    private var receiveSequence: UInt8 = 0
    /// What a timeout sends again: the last frame sent, or RR(V(R)) while a window is arriving.
    private var repeatFrame: [UInt8] = []
    private var buffer = ReceiveBuffer()

    public init(transport: any Transport, configuration: Configuration = Configuration()) {
        self.transport = transport
        self.configuration = configuration
    }

    public func connect(deadline: Deadline) throws(DLMSLinkError) {
        let ours = configuration.proposal ?? HDLCParameters()
        guard ours.maxInfoTransmit >= 1, ours.maxInfoReceive >= 1,
              (1...7).contains(ours.windowTransmit), (1...7).contains(ours.windowReceive) else {
            throw .invalidArgument("HDLC parameters need information lengths of at least 1 and windows of 1 to 7")
        }
        let reply = try command(.snrm(pf: true), information: configuration.proposal?.encoded ?? [], deadline: deadline)
        guard case .ua = reply.control else { throw unexpectedReply(reply, to: "SNRM") }
        let offered: HDLCParameters
        do {
            offered = try HDLCParameters(decoding: reply.information)
        } catch {
            throw .framing(error)
        }
        let fit = HDLCFrame.maxInformationLength(destination: configuration.server, source: configuration.client)
        negotiated = HDLCParameters(maxInfoTransmit: min(ours.maxInfoTransmit, offered.maxInfoReceive, fit),
                                    maxInfoReceive: offered.maxInfoTransmit,
                                    windowTransmit: min(ours.windowTransmit, offered.windowReceive),
                                    windowReceive: offered.windowTransmit)
        sendSequence = 0
        receiveSequence = 0
        isConnected = true
    }

    public func send(_ apdu: [UInt8], deadline: Deadline) throws(DLMSLinkError) {
        guard isConnected else { throw .invalidArgument("the HDLC link is not connected") }
        let information = HDLCFrame.llcCommand + apdu
        var offset = 0
        while true {
            let end = min(offset + negotiated.maxInfoTransmit, information.count)
            let last = end == information.count
            let ns = sendSequence
            try transmitNew(.i(ns: ns, nr: receiveSequence, pf: true), segmented: !last,
                            information: Array(information[offset..<end]), deadline: deadline)
            sendSequence = (ns + 1) & 7
            if last { return }
            let reply = try awaitReply(deadline: deadline)
            guard case .rr(let nr, _) = reply.control else { throw unexpectedReply(reply, to: "a segment") }
            guard nr == sendSequence else {
                throw .unexpected("RR with N(R)=\(nr) after the segment with N(S)=\(ns), expected \(sendSequence)")
            }
            offset = end
        }
    }

    public func receive(deadline: Deadline) throws(DLMSLinkError) -> [UInt8] {
        guard isConnected else { throw .invalidArgument("the HDLC link is not connected") }
        var apdu: [UInt8] = []
        var first = true
        while true {
            let frame = try awaitReply(deadline: deadline)
            guard case .i(let ns, let nr, let pf) = frame.control else {
                if case .ui = frame.control { continue }
                throw unexpectedReply(frame, to: "a request")
            }
            guard ns == receiveSequence else {
                // The frame before again (it crossed a repeated RR or request): already taken.
                if ns == (receiveSequence &+ 7) & 7 { continue }
                throw .unexpected("I frame with N(S)=\(ns), expected \(receiveSequence)")
            }
            guard nr == sendSequence else {
                throw .unexpected("I frame with N(R)=\(nr) does not acknowledge the client's frames (expected \(sendSequence))")
            }
            receiveSequence = (ns + 1) & 7
            var information = frame.information[...]
            if first {
                guard information.starts(with: HDLCFrame.llcResponse) else {
                    throw .unexpected("the first segment of the meter's APDU lacks the LLC header E6 E7 00")
                }
                information = information.dropFirst(HDLCFrame.llcResponse.count)
                first = false
            }
            guard information.count <= configuration.maxAPDULength - apdu.count else {
                throw .unexpected("the meter's APDU exceeds \(configuration.maxAPDULength) bytes")
            }
            apdu += information
            if !frame.segmented { return apdu }
            let rr = try HDLCFrame(destination: configuration.server, source: configuration.client,
                                   control: .rr(nr: receiveSequence, pf: true)).encoded()
            if pf { try transmit(rr, deadline: deadline) }
            repeatFrame = rr
        }
    }

    public func disconnect(deadline: Deadline) throws(DLMSLinkError) {
        let reply = try command(.disc(pf: true), deadline: deadline)
        isConnected = false
        switch reply.control {
        case .ua, .dm: return
        default: throw unexpectedReply(reply, to: "DISC")
        }
    }

    /// Sends a new frame to the server; it is what a timeout sends again.
    private func transmitNew(_ control: HDLCFrame.Control, segmented: Bool = false, information: [UInt8] = [],
                             deadline: Deadline) throws(DLMSLinkError) {
        let bytes = try HDLCFrame(destination: configuration.server, source: configuration.client, control: control,
                                  segmented: segmented, information: information).encoded()
        try transmit(bytes, deadline: deadline)
        repeatFrame = bytes
    }

    /// Sends a command frame and returns the server's answer.
    private func command(_ control: HDLCFrame.Control, information: [UInt8] = [],
                         deadline: Deadline) throws(DLMSLinkError) -> HDLCFrame {
        try transmitNew(control, information: information, deadline: deadline)
        return try awaitReply(deadline: deadline)
    }

    /// The next frame from the server, sending `repeatFrame` again after each `frameTimeout`
    /// without one.
    private func awaitReply(deadline: Deadline) throws(DLMSLinkError) -> HDLCFrame {
        var attempts = 1
        var noise: DecodeError? = nil
        while true {
            do throws(DLMSLinkError) {
                return try nextFrame(deadline: deadline.capped(at: configuration.frameTimeout), noise: &noise)
            } catch .transport(.timedOut(_, _)) {
                if deadline.hasPassed { throw .transport(.timedOut(.read, after: deadline.budget)) }
                guard attempts <= max(configuration.retries, 0) else {
                    throw noise.map(DLMSLinkError.framing)
                        ?? .noResponse(attempts: attempts, timeout: configuration.frameTimeout)
                }
                attempts += 1
                try transmit(repeatFrame, deadline: deadline)
            }
        }
    }

    /// Reads the next valid frame from the server to this client. Fill flags are skipped; a
    /// frame's closing flag is kept as a possible opening flag of the next (IEC 62056-46 lets
    /// frames share a flag). Invalid bytes are dropped, the last error kept in `noise`.
    private func nextFrame(deadline: Deadline, noise: inout DecodeError?) throws(DLMSLinkError) -> HDLCFrame {
        let flag = HDLCFrame.flag
        while true {
            while buffer.count >= 2 && buffer[0] == flag && buffer[1] == flag { buffer.consume(1) }
            if buffer.count > 0 && buffer[0] != flag {
                var n = 1
                while n < buffer.count && buffer[n] != flag { n += 1 }
                noise = DecodeError(.hdlc, at: 0, .malformed, "\(n) byte\(n == 1 ? "" : "s") outside any frame, "
                                    + "starting with \(Hex.byte(buffer[0]))")
                buffer.consume(n)
                continue
            }
            if buffer.count >= 2 {
                switch HDLCFrame.scan(buffer.bytes, at: buffer.start, end: buffer.end, atEnd: false) {
                case .frame(let length):
                    let bytes = Array(buffer.bytes[buffer.start..<buffer.start + length])
                    buffer.consume(length - 1)
                    let frame = try received(bytes) { b throws(DecodeError) in try HDLCFrame(decoding: b) }
                    if frame.destination == configuration.client && frame.source == configuration.server { return frame }
                    continue
                case .invalid(let error, _):
                    noise = error.shifted(by: -buffer.start)
                    buffer.consume(1)
                    continue
                case .needMore:
                    break
                }
            }
            try buffer.fill(from: transport, deadline: deadline)
        }
    }

    /// The error for a frame that is not the answer expected to `what`.
    private func unexpectedReply(_ frame: HDLCFrame, to what: String) -> DLMSLinkError {
        switch frame.control {
        case .dm: return .refused("the meter answered \(what) with DM (disconnected mode)")
        case .frmr:
            let detail = frame.information.isEmpty ? "" : " " + Hex.string(frame.information)
            return .refused("the meter rejected \(what) with FRMR\(detail)")
        case .rnr: return .refused("the meter answered \(what) with RNR (receive not ready)")
        default: return .unexpected("the meter answered \(what) with \(frame.control.name)")
        }
    }
}
