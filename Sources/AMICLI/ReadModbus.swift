import AMICore

/// Everything `ami-read modbus` needs to reach one device and read it by its profile.
public struct ModbusReadSettings: Sendable {
    public typealias Connection = MeterConnection

    /// What the session does after reading the identity register.
    public enum Task: Sendable, Equatable {
        /// Every register of the profile, in its block reads.
        case readAll
        /// A command's writes (function 16), as the profile defines them.
        case command(ModbusProfile.Command)
    }

    public var connection: Connection
    /// The unit (slave) id, 1 to 247 (0 for a TCP device that ignores it).
    public var unit: UInt8
    public var profile: ModbusProfile
    /// The profile as named on the command line (a built-in name or a file), written in the frame
    /// records so that ami-decode reads the registers with it.
    public var profileName: String
    public var meterName: String?
    public var timeout: Duration = .seconds(5)
    public var retries: Int = 2
    public var tasks: [Task] = [.readAll]

    public init(connection: Connection, unit: UInt8, profile: ModbusProfile, profileName: String) {
        self.connection = connection
        self.unit = unit
        self.profile = profile
        self.profileName = profileName
    }
}

/// The body of `ami-read modbus`, callable in-process and from many threads at once (one device
/// each): reads the profile's identity register first, then its other registers block by block (or
/// carries out a command), writing every frame as a `frame` record.
public enum ReadModbus {
    public static func run(_ settings: ModbusReadSettings, output: RecordOutput) -> ExitStatus {
        let diagnostics = output.diagnostics
        var meter = settings.meterName
        let place = { meter ?? settings.connection.source + "/\(settings.unit)" }
        guard let transport = settings.connection.open(timeout: settings.timeout, for: place(), diagnostics) else {
            return output.finish(.unavailable)
        }
        defer { transport.close() }
        var baud = 9600
        if case .serial(_, let s) = settings.connection { baud = s.baudRate }
        let client = ModbusClient(transport: transport, framing: settings.connection.modbusFraming, unit: settings.unit,
                                  timeout: settings.timeout, retries: settings.retries, baudRate: baud)
        client.observer = { f in
            output.record(.frame(FrameRecord(bytes: f.bytes, time: f.time, protocolName: "modbus", source: settings.connection.source,
                                             direction: f.direction, meter: meter, profile: settings.profileName)))
        }

        var status = ExitStatus.ok
        let profile = settings.profile
        var reads = profile.reads
        if !settings.tasks.contains(.readAll) {
            reads = reads.filter { r in profile.identity.map(r.covers) ?? false }
        }
        for request in reads {
            let values: [UInt16]
            do {
                guard case .registers(_, let v) = try client.perform(request) else { continue }
                values = v
            } catch {
                status = max(status, exitStatus(error))
                if case .exception = error {
                    diagnostics.report(place(), "\(error)")
                } else {
                    diagnostics.report(place(), "\(request): \(error)")
                }
                if case .exception(let e, _) = error, e.code <= 3 { continue }
                return output.finish(status)
            }
            if meter == nil, let id = profile.identity, request.covers(id), case .read(_, let start, _) = request {
                let at = id.span.lowerBound - Int(start)
                if let (v, _) = try? id.value(values[at..<(at + id.type.registers)]) { meter = "\(profile.name)-\(v)" }
            }
            if output.failure != nil { return output.finish(status) }
        }
        for case .command(let command) in settings.tasks {
            guard let writes = profile.commands[command] else {
                diagnostics.report(place(), "\(command.rawValue): profile \(profile.name) does not define it")
                return output.finish(max(status, .usage))
            }
            let clock = UTCTime.now().milliseconds / 1000
            for w in writes {
                guard let registers = w.registers(clock: clock) else {
                    diagnostics.report(place(), "\(command.rawValue): the value does not fit \(w.type.rawValue)")
                    return output.finish(max(status, .config))
                }
                do {
                    _ = try client.perform(.write(address: w.address, values: registers))
                } catch {
                    diagnostics.report(place(), "\(command.rawValue): \(error)")
                    return output.finish(max(status, exitStatus(error)))
                }
            }
        }
        return output.finish(status)
    }

    /// The exit status a failure gives (sysexits(3)): 69 when the device cannot be reached or does
    /// not answer (also a gateway's exceptions 0x0A and 0x0B, and a device failing or busy), 76 for
    /// answers that are not Modbus, 65 when it refuses a register (exceptions 1 to 3).
    public static func exitStatus(_ error: ModbusClientError) -> ExitStatus {
        switch error {
        case .transport, .noResponse: .unavailable
        case .malformed: .protocolError
        case .exception(let e, _):
            switch e.code {
            case 0x01, 0x02, 0x03: .dataError
            case 0x04, 0x05, 0x06, 0x0A, 0x0B: .unavailable
            default: .protocolError
            }
        }
    }
}

extension MeterConnection {
    /// Modbus: MBAP over TCP, RTU on a serial line.
    var modbusFraming: ModbusFraming {
        switch self {
        case .tcp: .tcp
        case .serial: .rtu
        }
    }
}
