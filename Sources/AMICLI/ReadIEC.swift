import AMICore

/// Everything `ami-read iec` needs to reach and read one IEC 62056-21 meter.
public struct IECReadSettings: Sendable {
    public var connection: MeterConnection
    public var client = IECClientSettings()
    /// The meter's name for messages and frame records.
    public var meterName: String?
    /// The programming-mode password (P1), from a key file or the environment.
    public var password: Secret?
    /// Read the data message (a readout session).
    public var readout = true
    /// Data sets to read in programming mode (R1), e.g. `1.8.0`.
    public var reads: [String] = []
    /// Set the meter's clock (W1 of 0.9.1 and 0.9.2 in programming mode), then read it back.
    public var setClock = false
    /// The zone of the meter's clock, for `setClock`.
    public var meterTimeZone: LocalTimeZone = .utc

    public init(connection: MeterConnection) {
        self.connection = connection
    }

    /// `tcp://host:port` or `serial:/dev/…`, the `source` of the frame records.
    public var source: String { connection.source }

    /// True when a programming-mode session is needed.
    public var programming: Bool { !reads.isEmpty || setClock }
}

/// The body of `ami-read iec`, callable in-process: a readout session, then a programming-mode
/// session when data sets are to be read or the clock set (it is read back after it is set), every message written as a `frame`
/// record (protocol `iec62056-21`) as it is sent or received.
public enum ReadIEC {
    public static func run(_ settings: IECReadSettings, output: RecordOutput) -> ExitStatus {
        let diagnostics = output.diagnostics
        let meter = settings.meterName ?? settings.source
        guard let transport = settings.connection.open(timeout: settings.client.timeout, for: meter, diagnostics) else {
            return output.finish(.unavailable)
        }
        defer { transport.close() }

        // Frames name the meter by --meter, else as ami-decode names the readout's readings, else
        // by the identification (`MAN:identification`) once it came.
        var frameMeter = settings.meterName
        let client = IECClient(transport: transport, settings: settings.client)
        client.observer = { [weak client] event in
            output.record(.frame(FrameRecord(bytes: event.bytes, time: event.time, protocolName: ProtocolID.iec62056_21.rawValue,
                                             source: settings.source, direction: event.direction,
                                             meter: frameMeter ?? client?.identification?.meterName)))
        }
        var status = ExitStatus.ok
        if settings.readout {
            do {
                let message = try client.readout()
                if frameMeter == nil { frameMeter = meterName(of: message, settings, identification: client.identification) }
            } catch {
                diagnostics.report(meter, "readout: \(error)")
                return output.finish(exitStatus(error))
            }
        }
        if settings.programming, output.failure == nil {
            do throws(IECClientError) {
                try client.program(password: settings.password) { (c: IECClient) throws(IECClientError) in
                    func read(_ addresses: [String]) throws(IECClientError) {
                        for address in addresses {
                            do throws(IECClientError) {
                                _ = try c.read(address)
                            } catch .refused(let why) {
                                diagnostics.report(meter, why)
                                status = max(status, .dataError)
                            }
                        }
                    }
                    try read(settings.reads)
                    if settings.setClock {
                        do throws(IECClientError) {
                            try c.setClock(zone: settings.meterTimeZone)
                        } catch .refused(let why) {
                            diagnostics.report(meter, "set clock: \(why)")
                            status = max(status, .dataError)
                        }
                        try read(["0.9.1", "0.9.2"])
                    }
                }
            } catch {
                diagnostics.report(meter, "programming mode: \(error)")
                status = max(status, exitStatus(error))
            }
        }
        return output.finish(status)
    }

    /// The meter name ami-decode gives the readout's readings (its equipment identifier, else
    /// `MAN:identification`), so that later frames carry the same name.
    static func meterName(of message: [UInt8], _ settings: IECReadSettings, identification: IECIdentification?) -> String? {
        var out = DecodeOutput()
        let context = FrameContext(source: settings.source, frameIndex: 0, meterHint: identification?.meterName,
                                   options: DecodeOptions())
        guard (try? IEC62056_21Decoder.decode(message, context: context, into: &out)) != nil else { return nil }
        for case .reading(let r) in out.records where r.meter != "unknown" { return r.meter }
        return nil
    }

    /// The exit status a failure gives (sysexits(3)).
    public static func exitStatus(_ error: IECClientError) -> ExitStatus {
        switch error {
        case .transport, .noAnswer: .unavailable
        case .protocolError, .unsupported, .checksum: .protocolError
        case .refused: .dataError
        case .passwordRefused: .noPermission
        }
    }
}
