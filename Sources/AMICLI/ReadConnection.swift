import AMICore

/// The line to a meter that `ami-read dlms` and `ami-read mbus` open: a TCP connection or a serial
/// port.
public typealias ReadConnection = DLMSReadSettings.Connection

extension DLMSReadSettings.Connection {
    /// `tcp://host:port` or `serial:/dev/…`, the `source` of the frame records.
    public var source: String {
        switch self {
        case .tcp(let host, let port): "tcp://" + HostPort.text(host, port)
        case .serial(let path, _): "serial:\(path)"
        }
    }

    /// Connects (within `timeout`) or opens the port.
    public func open(timeout: Duration) throws(TransportError) -> any Transport {
        switch self {
        case .tcp(let host, let port): try TCPTransport(host: host, port: port, deadline: .after(timeout))
        case .serial(let path, let serial): try SerialTransport(path: path, settings: serial)
        }
    }
}
