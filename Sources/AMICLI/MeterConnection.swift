import AMICore

/// Where `ami-read` reaches a meter: a TCP port (the meter's own, or a gateway's) or a serial device.
public enum MeterConnection: Sendable {
    case tcp(host: String, port: UInt16)
    case serial(path: String, SerialSettings)

    /// `tcp://host:port` or `serial:/dev/…`, the `source` of the frame records.
    public var source: String {
        switch self {
        case .tcp(let host, let port): "tcp://" + HostPort.text(host, port)
        case .serial(let path, _): "serial:" + path
        }
    }

    /// Opens the connection for a session; a failure is reported as `connect: …` for `meter`.
    public func open(timeout: Duration, for meter: String, _ diagnostics: Diagnostics) -> (any Transport)? {
        do {
            return try open(timeout: timeout)
        } catch {
            diagnostics.report(meter, "connect: \(error)")
            return nil
        }
    }

    /// Connects within `timeout` (TCP), or opens and configures the device.
    public func open(timeout: Duration) throws(TransportError) -> any Transport {
        switch self {
        case .tcp(let host, let port): try TCPTransport(host: host, port: port, deadline: .after(timeout))
        case .serial(let path, let settings): try SerialTransport(path: path, settings: settings)
        }
    }
}

/// The end of the one-meter `ami-read` commands (`dlms`, `iec`, `mbus`, `modbus`): the process set up, the secrets
/// added to the settings (an unusable key file is exit 78), one session written line by line, and
/// its status as the exit status.
public enum ReadSessionMain {
    public static func run<S>(settings: () throws -> S, addSecrets: (inout S) throws -> Void,
                              session: (S, RecordOutput) -> ExitStatus) throws -> Never {
        ToolMain.prepare()
        let diagnostics = Diagnostics(program: "ami-read")
        var s = try settings()
        do {
            try addSecrets(&s)
        } catch let error as SecretError {
            diagnostics.report(nil, error.description)
            ToolMain.exit(.config)
        }
        ToolMain.exit(session(s, RecordOutput(diagnostics: diagnostics, lineBuffered: true)))
    }
}
