/// A DLMS/COSEM link over the wrapper of the TCP-UDP profile (IEC 62056-47; DLMS UA 1000-2, the
/// TCP-UDP based transport layer): each APDU travels whole in one wrapper PDU. There is no link
/// set-up: `connect` and `disconnect` do nothing (the association is opened and released with
/// AARQ/RLRQ APDUs, and the TCP connection by the transport).
public final class WrapperLink: DLMSLink {
    public let transport: any Transport
    public var observer: ((LinkFrameEvent) -> Void)?
    /// The client's wPort: the source of requests (16 public client, 1 management, 17 LLS, …).
    public let clientPort: UInt16
    /// The server's wPort (the logical device, 1 for the management logical device).
    public let serverPort: UInt16
    private var buffer = ReceiveBuffer()

    public init(transport: any Transport, clientPort: UInt16 = 16, serverPort: UInt16 = 1) {
        self.transport = transport
        self.clientPort = clientPort
        self.serverPort = serverPort
    }

    public func connect(deadline: Deadline) throws(DLMSLinkError) {}

    public func send(_ apdu: [UInt8], deadline: Deadline) throws(DLMSLinkError) {
        try transmit(WrapperFrame(source: clientPort, destination: serverPort, payload: apdu).encoded(), deadline: deadline)
    }

    /// Reads one wrapper PDU, exactly as many bytes as its header announces, and returns its APDU.
    /// Bytes that are not a wrapper header fail at once (TCP does not corrupt bytes, so the peer
    /// does not speak the wrapper). A PDU between other wPorts is an error too.
    public func receive(deadline: Deadline) throws(DLMSLinkError) -> [UInt8] {
        let header = WrapperFrame.headerLength
        while buffer.count < header {
            try buffer.fill(from: transport, maxCount: header - buffer.count, deadline: deadline)
        }
        if case .invalid(let error, _) = WrapperFrame.scan(buffer.bytes, at: buffer.start, end: buffer.end, atEnd: false) {
            throw .framing(error.shifted(by: -buffer.start))
        }
        let total = header + (Int(buffer[6]) << 8 | Int(buffer[7]))
        while buffer.count < total {
            try buffer.fill(from: transport, maxCount: total - buffer.count, deadline: deadline)
        }
        let frame = try received(buffer.consume(total)) { b throws(DecodeError) in try WrapperFrame(decoding: b) }
        guard frame.source == serverPort && frame.destination == clientPort else {
            throw .unexpected("wrapper PDU from wPort \(frame.source) to \(frame.destination), "
                              + "expected from \(serverPort) to \(clientPort)")
        }
        return frame.payload
    }

    public func disconnect(deadline: Deadline) throws(DLMSLinkError) {}
}
