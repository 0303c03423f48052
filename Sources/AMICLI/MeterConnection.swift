import AMICore

/// How a reader reaches one meter: a TCP connection or a serial line (`--tcp HOST:PORT`,
/// `--serial DEVICE` with `--baud` and `--serial-format`).
public enum MeterConnection: Sendable {
    case tcp(host: String, port: UInt16)
    case serial(path: String, SerialSettings)

    /// `tcp://host:port` or `serial:/dev/…`, the `source` of the frame records.
    public var source: String {
        switch self {
        case .tcp(let host, let port): "tcp://" + HostPort.text(host, port)
        case .serial(let path, _): "serial:\(path)"
        }
    }

    /// Connects (within `timeout` for TCP) or opens and configures the serial device.
    public func open(timeout: Duration) throws(TransportError) -> any Transport {
        switch self {
        case .tcp(let host, let port): try TCPTransport(host: host, port: port, deadline: .after(timeout))
        case .serial(let path, let settings): try SerialTransport(path: path, settings: settings)
        }
    }
}
