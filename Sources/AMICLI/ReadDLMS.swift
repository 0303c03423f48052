#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AMICore

/// Everything `ami-read dlms` needs to reach and read one meter, from flags or a meter description.
public struct DLMSReadSettings: Sendable {
    public typealias Connection = MeterConnection

    public enum Framing: String, Sendable, CaseIterable {
        case wrapper, hdlc
    }

    public var connection: Connection
    public var framing: Framing
    /// Client SAP / wPort (16 public client, 17 reading with LLS, 1 management with HLS).
    public var clientAddress: UInt16
    /// Server logical address (wPort or HDLC upper address), and HDLC physical address if any.
    public var serverAddress: UInt16 = 1
    public var physicalAddress: UInt16?
    public var client = DLMSClientSettings()
    /// The meter's name for messages, frame records and its invocation counter file.
    public var meterName: String?
    public var stateDirectory: String
    public var hdlcMaxInformation: Int = 128
    public var hdlcWindow: Int = 1
    public var retries: Int = 2
    /// The meter's frame counter object to read first (through the public client), so that the
    /// invocation counter starts above it.
    public var frameCounter: OBISCode?
    public var tasks: [DLMSTask] = []

    public init(connection: Connection, framing: Framing, clientAddress: UInt16, stateDirectory: String) {
        self.connection = connection
        self.framing = framing
        self.clientAddress = clientAddress
        self.stateDirectory = stateDirectory
    }

    /// `tcp://host:port` or `serial:/dev/…`, the `source` of the frame records.
    public var source: String { connection.source }

    /// The key under which the client's invocation counters for this meter are kept.
    var counterKey: String {
        "\(meterName ?? source)-server\(serverAddress)-client\(Hex.string(client.systemTitle))"
    }
}

/// The body of `ami-read dlms`, callable in-process: one session with one meter, every frame
/// written as a `frame` record (line-buffered) with the deciphered APDU beside ciphered ones.
public enum ReadDLMS {
    public static func run(_ settings: DLMSReadSettings, output: RecordOutput) -> ExitStatus {
        let diagnostics = output.diagnostics
        let meter = settings.meterName ?? settings.source
        var status = ExitStatus.ok
        func fail(_ what: String, _ error: DLMSClientError) -> ExitStatus {
            diagnostics.report(meter, "\(what): \(error)")
            return exitStatus(error)
        }

        var meterIdentity = settings.meterName
        let write: (DLMSExchange) -> Void = { exchange in
            for (i, f) in exchange.frames.enumerated() {
                let last = i == exchange.frames.count - 1
                output.record(.frame(FrameRecord(bytes: f.bytes, time: f.time, protocolName: "dlms",
                                                 source: settings.source, direction: f.direction,
                                                 meter: meterIdentity, plain: last ? exchange.plaintext : nil)))
            }
        }
        let direct: (LinkFrameEvent) -> Void = { write(DLMSExchange(frames: [$0])) }

        var atLeast: UInt32 = 0
        if let counter = settings.frameCounter {
            switch readFrameCounter(counter, settings, observer: direct, write: write) {
            case .success(let value):
                atLeast = value == UInt32.max ? value : value + 1
            case .failure(let failure):
                diagnostics.report(meter, "frame counter \(counter): \(failure.message)")
                return failure.status
            }
        }

        let transport: any Transport
        let link: any DLMSLink
        switch open(settings, clientAddress: settings.clientAddress) {
        case .success(let opened): (transport, link) = opened
        case .failure(let failure):
            diagnostics.report(meter, failure.message)
            return failure.status
        }
        defer { transport.close() }
        link.observer = direct
        do {
            try link.connect(deadline: .after(settings.client.timeout * (settings.retries + 1)))
        } catch {
            return fail("link", .link(error))
        }

        var lease: InvocationCounterLease? = nil
        if settings.client.protection != .none || settings.client.authentication == .hlsGMAC {
            do {
                lease = try InvocationCounterStore(directory: settings.stateDirectory)
                    .lease(meter: settings.counterKey, atLeast: atLeast)
            } catch {
                diagnostics.report(meter, "invocation counter: \(error)")
                return .config
            }
        }
        defer {
            do { try lease?.finish() } catch { diagnostics.report(meter, "invocation counter: \(error)") }
        }

        let client: DLMSClient
        do {
            client = try DLMSClient(link: link, settings: settings.client, counters: lease)
        } catch {
            return fail("settings", error)
        }
        client.observer = write
        do {
            try client.associate()
        } catch {
            status = fail("association", error)
            link.observer = direct
            if case .link = error {} else { disconnect(link, settings, diagnostics, meter) }
            return status
        }
        var linkBroken = false
        for task in settings.tasks {
            do {
                let value = try client.perform(task)
                if task == .identity, meterIdentity == nil, let name = value.flatMap(DLMSInterpreter.text) {
                    meterIdentity = name
                }
            } catch {
                status = max(status, fail("\(task)", error))
                if case .dataAccess = error { continue }
                if case .actionFailed = error { continue }
                if case .link = error { linkBroken = true }
                break
            }
            if output.failure != nil { break }
        }
        if status == .ok || status == .dataError {
            do {
                try client.release()
            } catch {
                status = max(status, fail("release", error))
                if case .link = error { linkBroken = true }
            }
        }
        link.observer = direct
        if !linkBroken { disconnect(link, settings, diagnostics, meter) }
        return output.finish(status)
    }

    struct Failure: Error {
        var message: String
        var status: ExitStatus
    }

    /// The transport and link to the meter, not yet connected.
    static func open(_ settings: DLMSReadSettings, clientAddress: UInt16) -> Result<(any Transport, any DLMSLink), Failure> {
        let transport: any Transport
        do {
            transport = try settings.connection.open(timeout: settings.client.timeout)
        } catch {
            return .failure(Failure(message: "connect: \(error)", status: .unavailable))
        }
        switch settings.framing {
        case .wrapper:
            return .success((transport, WrapperLink(transport: transport, clientPort: clientAddress,
                                                    serverPort: settings.serverAddress)))
        case .hdlc:
            guard clientAddress <= 0x7F, let client = HDLCAddress.client(UInt8(clientAddress)),
                  let server = HDLCAddress.server(logical: settings.serverAddress, physical: settings.physicalAddress)
            else {
                transport.close()
                return .failure(Failure(message: "HDLC addresses out of range (client 1–127, server 0–16383)", status: .usage))
            }
            var c = HDLCLink.Configuration(client: client, server: server)
            c.proposal = HDLCParameters(maxInfoTransmit: settings.hdlcMaxInformation,
                                        maxInfoReceive: settings.hdlcMaxInformation,
                                        windowTransmit: settings.hdlcWindow, windowReceive: settings.hdlcWindow)
            c.frameTimeout = settings.client.timeout
            c.retries = settings.retries
            return .success((transport, HDLCLink(transport: transport, configuration: c)))
        }
    }

    /// Reads the meter's frame counter for this client (a Data object, e.g. `0-0:43.1.0*255`, which
    /// meters offer to the public client) in an association of its own, as meters that refuse
    /// invocation counters not above it ask clients to do before a ciphered association.
    static func readFrameCounter(_ obis: OBISCode, _ settings: DLMSReadSettings,
                                 observer: @escaping (LinkFrameEvent) -> Void,
                                 write: @escaping (DLMSExchange) -> Void) -> Result<UInt32, Failure> {
        let transport: any Transport
        let link: any DLMSLink
        switch open(settings, clientAddress: 16) {
        case .success(let opened): (transport, link) = opened
        case .failure(let f): return .failure(f)
        }
        defer { transport.close() }
        link.observer = observer
        var publicSettings = DLMSClientSettings()
        publicSettings.timeout = settings.client.timeout
        do {
            try link.connect(deadline: .after(settings.client.timeout * (settings.retries + 1)))
            let client = try DLMSClient(link: link, settings: publicSettings)
            client.observer = write
            try client.associate()
            let value = try client.get(AttributeDescriptor(classID: 1, instance: obis, attributeID: 2))
            try client.release()
            link.observer = observer
            try? link.disconnect(deadline: .after(settings.client.timeout))
            guard let n = value.integerValue, n >= 0, n <= Int64(UInt32.max) else {
                return .failure(Failure(message: "not a 32-bit counter: \(value)", status: .protocolError))
            }
            return .success(UInt32(n))
        } catch let error as DLMSLinkError {
            return .failure(Failure(message: error.description, status: .unavailable))
        } catch let error as DLMSClientError {
            return .failure(Failure(message: error.description, status: exitStatus(error)))
        } catch {
            return .failure(Failure(message: "\(error)", status: .software))
        }
    }

    private static func disconnect(_ link: any DLMSLink, _ settings: DLMSReadSettings, _ diagnostics: Diagnostics,
                                   _ meter: String) {
        do {
            try link.disconnect(deadline: .after(settings.client.timeout))
        } catch {
            diagnostics.report(meter, "disconnect: \(error)")
        }
    }

    /// The exit status a failure gives (sysexits(3)).
    public static func exitStatus(_ error: DLMSClientError) -> ExitStatus {
        switch error {
        case .link(.transport), .link(.noResponse): .unavailable
        case .link(.refused): .unavailable
        case .link: .protocolError
        case .associationRejected, .authenticationFailed, .security: .noPermission
        case .malformed, .unexpected: .protocolError
        case .dataAccess, .actionFailed: .dataError
        case .configuration: .config
        }
    }
}

extension SerialSettings {
    /// `baudRate` with a frame written `8N1`, `8E1`, `7E1`…; nil when it is not one.
    public init?(baudRate: Int, format: String) {
        let f = Array(format.uppercased())
        guard f.count == 3, let data = Int(String(f[0])), (5...8).contains(data),
              let parity = Parity(rawValue: String(f[1])), let stop = Int(String(f[2])), stop == 1 || stop == 2
        else { return nil }
        self.init(baudRate: baudRate, dataBits: data, parity: parity, stopBits: stop)
    }
}
