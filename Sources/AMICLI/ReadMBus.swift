import AMICore

/// Everything `ami-read mbus` needs for one session on a wired M-Bus line: read one meter by
/// primary or secondary address, or scan the line.
public struct MBusReadSettings: Sendable {
    public enum Target: Sendable, Equatable {
        /// Read the meter at a primary address (0–250, or 254 for the only slave on the line).
        case primary(UInt8)
        /// Read the one meter a secondary address (wildcards allowed) selects.
        case secondary(MBusSecondaryAddress)
        /// Find the meters at these primary addresses.
        case scanPrimary(ClosedRange<UInt8>)
        /// Find the meters whose secondary addresses match (wildcard digits are searched).
        case scanSecondary(MBusSecondaryAddress)
    }

    public var connection: MeterConnection
    public var target: Target
    public var link: MBusLinkSettings
    /// The meter's name for messages and frame records.
    public var meterName: String?
    /// The most telegrams of a multi-telegram answer to read.
    public var maxTelegrams = 16
    /// Set the meter's clock to this machine's time (in `meterTimeZone`) before reading.
    public var setClock = false
    /// The zone of the meter's clock, for `setClock`.
    public var meterTimeZone: LocalTimeZone = .utc

    public init(connection: MeterConnection, target: Target, link: MBusLinkSettings) {
        self.connection = connection
        self.target = target
        self.link = link
    }

    public var source: String { connection.source }
}

/// The body of `ami-read mbus`, callable in-process and from many threads at once (one session
/// each): every frame exchanged written as a `frame` record, protocol `mbus`, echoes stripped.
public enum ReadMBus {
    public static func run(_ settings: MBusReadSettings, output: RecordOutput) -> ExitStatus {
        let diagnostics = output.diagnostics
        let location = settings.meterName ?? settings.source
        guard let transport = settings.connection.open(timeout: settings.link.timeout, for: location, diagnostics) else {
            return output.finish(.unavailable)
        }
        defer { transport.close() }
        let master = MBusMaster(transport: transport, settings: settings.link)
        master.observer = { event in
            // A response names its meter by its long header; --meter names every frame.
            let meter = settings.meterName
                ?? (event.direction == .rx ? MBusSecondaryAddress(response: event.bytes)?.description : nil)
            output.record(.frame(FrameRecord(bytes: event.bytes, time: event.time, protocolName: "mbus",
                                             source: settings.source, direction: event.direction, meter: meter)))
        }
        var status = ExitStatus.ok
        do throws(MBusError) {
            switch settings.target {
            case .primary(let address):
                try master.reset(address)
                if settings.setClock {
                    try master.setClock(address, to: .now(), zone: settings.meterTimeZone)
                }
                status = check(try master.readTelegrams(address, maxTelegrams: settings.maxTelegrams),
                               settings, location, diagnostics)
            case .secondary(let mask):
                try master.resetAll()
                switch try master.select(mask, tries: settings.link.retries + 1) {
                case .nothing:
                    throw MBusError.noAnswer("selection of \(mask): no meter answers")
                case .collision:
                    throw MBusError.collision("selection of \(mask): several meters answer; give more digits")
                case .single:
                    break
                }
                if settings.setClock {
                    try master.setClock(MBusMaster.selectedAddress, to: .now(), zone: settings.meterTimeZone)
                }
                do {
                    status = check(try master.readTelegrams(MBusMaster.selectedAddress,
                                                            maxTelegrams: settings.maxTelegrams),
                                   settings, location, diagnostics)
                } catch .garbled(let why) {
                    throw .collision("\(why); several meters may answer the selection of \(mask): give more digits")
                }
            case .scanPrimary(let range):
                status = try scanPrimary(master, range, location, diagnostics)
            case .scanSecondary(let mask):
                var found = 0
                try master.scanSecondary(mask, found: { address, frame in
                    found += 1
                    diagnostics.report(location, "found \(address) at primary address \(frame[5])")
                }, unresolved: { mask in
                    status = max(status, .protocolError)
                    diagnostics.report(location, "several meters answer \(mask), which has no wildcard digit left")
                })
                if found == 0 && status == .ok {
                    diagnostics.report(location, "secondary scan of \(mask): no meter found")
                    status = .unavailable
                }
            }
        } catch {
            diagnostics.report(location, error.description)
            status = max(status, exitStatus(error))
        }
        return output.finish(status)
    }

    /// Reports application errors (CI 0x70) among `telegrams` and a multi-telegram answer cut at
    /// `maxTelegrams`; 65 for an application error.
    static func check(_ telegrams: [[UInt8]], _ settings: MBusReadSettings, _ location: String,
                      _ diagnostics: Diagnostics) -> ExitStatus {
        var status = ExitStatus.ok
        for t in telegrams {
            if let e = MBusDecoder.applicationError(t) {
                diagnostics.report(location, "application error \(Hex.byte(e.code)): \(e.text)")
                status = .dataError
            }
        }
        if let last = telegrams.last, MBusDecoder.moreRecordsFollow(last) {
            diagnostics.report(location, "warning: more records follow after \(telegrams.count) telegrams (--max-telegrams)")
        }
        return status
    }

    static func scanPrimary(_ master: MBusMaster, _ range: ClosedRange<UInt8>, _ location: String,
                            _ diagnostics: Diagnostics) throws(MBusError) -> ExitStatus {
        var status = ExitStatus.ok
        var found = 0
        for address in range {
            switch try master.probePrimary(address) {
            case .nothing:
                continue
            case .collision:
                status = max(status, .protocolError)
                diagnostics.report(location, "primary address \(address): several meters answer (collision)")
            case .found(let frame):
                found += 1
                let name = MBusSecondaryAddress(response: frame)?.description ?? "a meter without long header"
                diagnostics.report(location, "found \(name) at primary address \(address)")
            case .unreadable(let error):
                found += 1
                status = max(status, exitStatus(error))
                diagnostics.report(location, "primary address \(address) acknowledges but: \(error)")
            }
        }
        if found == 0 && status == .ok {
            diagnostics.report(location, "primary scan \(range.lowerBound)-\(range.upperBound): no meter found")
            return .unavailable
        }
        return status
    }

    /// The exit status a failure gives (sysexits(3)): 69 for a line that fails or a meter that does
    /// not answer, 76 for garbled answers, echoes that differ, wrong frames and collisions.
    public static func exitStatus(_ error: MBusError) -> ExitStatus {
        switch error {
        case .transport, .noAnswer: .unavailable
        case .garbled, .echo, .unexpected, .collision: .protocolError
        }
    }
}
