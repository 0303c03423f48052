import AMICLI
import AMICore
import ArgumentParser
import Foundation

@main
struct AMIRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-read",
        abstract: "Talk to meters and write the frames exchanged as JSON lines.",
        discussion: "See ami-read(1). Pipe the output into ami-decode for readings.",
        subcommands: [DLMS.self, IEC.self, MBus.self, Modbus.self, Listen.self, Fleet.self, Exec.self]
    )

    /// Options from a meter description (`--description FILE`, a JSON object of long option
    /// names) go before those of the command line, so the command line overrides them.
    static func main() {
        var args = Array(CommandLine.arguments.dropFirst())
        if let i = args.firstIndex(where: { $0 == "--description" }), i + 1 < args.count {
            let path = args[i + 1]
            args.removeSubrange(i...(i + 1))
            do {
                let described = try MeterDescription.arguments(path: path)
                args = Array(args.prefix(1)) + described + Array(args.dropFirst())
            } catch {
                FileHandle.standardError.write(Data("ami-read: \(path): \(error)\n".utf8))
                ToolMain.exit(.config)
            }
        }
        do {
            var command = try parseAsRoot(args)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

struct DLMS: MeterReadCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlms",
        abstract: "Read a DLMS/COSEM meter over the TCP wrapper or HDLC (TCP or serial)."
    )

    @Option(help: "Meter at HOST:PORT over TCP.") var tcp: String?
    @Option(help: "Meter on a serial DEVICE (HDLC).") var serial: String?
    @Option(help: "Serial speed.") var baud: Int = 9600
    @Option(help: "Serial frame: data bits, parity (N, E, O), stop bits.") var serialFormat: String = "8N1"
    @Option(help: "wrapper or hdlc (default: wrapper over TCP, hdlc on serial).") var framing: String?
    @Option(help: "Client SAP (default: 16 without authentication, 17 with LLS, 1 with HLS).") var client: UInt16?
    @Option(help: "Server logical address.") var server: UInt16 = 1
    @Option(help: "HDLC physical (lower) address of the server.") var physical: UInt16?
    @Option(help: "none, low (LLS password) or hls-gmac.") var auth: String = "none"
    @Option(help: "Protection of xDLMS APDUs: none, auth or auth-enc (security suite 0).") var security: String = "none"
    @Option(help: "Key file (ek, ak, password; mode 0600).") var keyFile: String?
    @Option(help: "Client system title, 16 hex digits.") var systemTitle: String?
    @Option(help: "Meter name for messages, frame records and invocation counters.") var meter: String?
    @OptionGroup var described: DescriptionOption
    @Option(help: "Folder of the invocation counters.") var stateDir: String?
    @Option(help: "Read the meter's frame counter (e.g. 0-0:43.1.0*255) through the public client first; the invocation counter starts above it.")
    var frameCounter: String?
    @Option(help: "Seconds to wait for each answer.") var timeout: Double = 5
    @Option(help: "Times an HDLC frame is sent again after a timeout.") var retries: Int = 2
    @Option(help: "Largest APDU to accept.") var maxPdu: UInt16 = 0xFFFF
    @Option(help: "HDLC maximum information field length to propose.") var hdlcMaxInfo: Int = 128
    @Option(help: "HDLC window size to propose.") var hdlcWindow: Int = 1
    @Option(help: "Read an object: OBIS (e.g. 1-0:1.8.0*255) or CLASS/OBIS/ATTRIBUTE.") var get: [String] = []
    @Flag(help: "Read the --get objects (all given as CLASS/OBIS/ATTRIBUTE) in one GET with list.") var withList = false
    @Flag(help: "Read the clock.") var clock = false
    @Flag(help: "Set the meter clock to this machine's UTC time.") var setClock = false
    @Option(help: "Read a profile (e.g. 1-0:99.1.0*255).") var profile: [String] = []
    @Option(help: "Profile rows from this UTC time (ISO 8601).") var from: String?
    @Option(help: "Profile rows up to this UTC time (ISO 8601).") var to: String?
    @Option(help: "Profile rows by entry: FROM-TO, 1-based (TO 0 = last).") var entries: String?
    @Flag(help: "Read the disconnect control state.") var relayState = false
    @Flag(help: "Disconnect the supply (remote_disconnect).") var disconnect = false
    @Flag(help: "Reconnect the supply (remote_reconnect).") var reconnect = false

    func validate() throws {
        guard (tcp == nil) != (serial == nil) else { throw ValidationError("give one of --tcp HOST:PORT or --serial DEVICE") }
        _ = try settings()
    }

    /// Everything but the keys and the password (`addSecrets`).
    func settings() throws -> DLMSReadSettings {
        let env = ProcessInfo.processInfo.environment
        let connection: DLMSReadSettings.Connection
        if let tcp {
            guard let (host, port) = HostPort.parse(tcp), port > 0 else {
                throw ValidationError("--tcp wants HOST:PORT, not '\(tcp)'")
            }
            connection = .tcp(host: host, port: port)
        } else {
            guard let format = SerialSettings(baudRate: baud, format: serialFormat) else {
                throw ValidationError("--serial-format wants e.g. 8N1 or 8E1, not '\(serialFormat)'")
            }
            connection = .serial(path: serial ?? "", format)
        }
        let framingName = framing ?? (serial != nil ? "hdlc" : "wrapper")
        guard let framing = DLMSReadSettings.Framing(rawValue: framingName) else {
            throw ValidationError("--framing is wrapper or hdlc, not '\(framingName)'")
        }
        guard let authentication = DLMSClientSettings.Authentication(rawValue: auth) else {
            throw ValidationError("--auth is none, low or hls-gmac, not '\(auth)'")
        }
        guard let protection = DLMSClientSettings.Protection(rawValue: security) else {
            throw ValidationError("--security is none, auth or auth-enc, not '\(security)'")
        }
        let defaultClient: UInt16 = authentication == .none ? 16 : authentication == .low ? 17 : 1
        if framing == .hdlc {
            // Checked before any connection, so that a wrong address is a usage error, not a failed session.
            guard (client ?? defaultClient) <= 0x7F else { throw ValidationError("--client is 1 to 127 over HDLC") }
            guard HDLCAddress.server(logical: server, physical: physical) != nil else {
                throw ValidationError(physical == nil
                    ? "--server is 0 to 127 over HDLC without --physical (with it, 0 to 16383)"
                    : "--server and --physical are 0 to 16383 over HDLC")
            }
        }
        var s = DLMSReadSettings(connection: connection, framing: framing, clientAddress: client ?? defaultClient,
                                 stateDirectory: stateDir ?? InvocationCounterStore.defaultDirectory(environment: env))
        s.serverAddress = server
        s.physicalAddress = physical
        s.meterName = meter
        if let frameCounter {
            guard let o = OBISCode(frameCounter) else { throw ValidationError("--frame-counter wants an OBIS code, not '\(frameCounter)'") }
            s.frameCounter = o
        }
        s.retries = retries
        s.hdlcMaxInformation = hdlcMaxInfo
        s.hdlcWindow = hdlcWindow
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout wants 0 to 3600 seconds") }
        s.client.timeout = .milliseconds(Int64(timeout * 1000))
        s.client.authentication = authentication
        s.client.protection = protection
        s.client.maxReceivePDUSize = maxPdu
        if let systemTitle {
            guard let t = try? Hex.decode(Array(systemTitle.utf8)), t.count == 8 else {
                throw ValidationError("--system-title wants 16 hex digits")
            }
            s.client.systemTitle = t
        }
        s.tasks = [.identity]
        // A clock set first is read back after it.
        if setClock { s.tasks.append(.setClock) }
        if clock { s.tasks.append(.clock) }
        var references: [DLMSObjectReference] = []
        for g in get {
            guard let r = DLMSObjectReference(g) else {
                throw ValidationError("--get wants an OBIS code (1-0:1.8.0*255) or CLASS/OBIS/ATTRIBUTE, not '\(g)'")
            }
            references.append(r)
        }
        if withList {
            let attributes = references.compactMap { r in
                r.classID.flatMap { c in r.attribute.map { AttributeDescriptor(classID: c, instance: r.obis, attributeID: $0) } }
            }
            guard attributes.count == references.count, !attributes.isEmpty else {
                throw ValidationError("--with-list wants every --get as CLASS/OBIS/ATTRIBUTE, e.g. 3/1-0:1.8.0*255/2")
            }
            s.tasks.append(.getList(attributes))
        } else {
            s.tasks += references.map { .get($0) }
        }
        let selection = try profileSelection()
        for p in profile {
            guard let o = OBISCode(p) else { throw ValidationError("--profile wants an OBIS code, not '\(p)'") }
            s.tasks.append(.profile(o, selection))
        }
        if relayState { s.tasks.append(.disconnectState) }
        if disconnect { s.tasks.append(.disconnect) }
        if reconnect { s.tasks.append(.reconnect) }
        return s
    }

    /// The keys and the password from --key-file or the environment, and a check that what the
    /// authentication and protection need is there. An unusable key file or key variable, or a key
    /// file without what is needed, throws `SecretError` (exit 78); keys missing with no key file
    /// given, a usage error.
    func addSecrets(to s: inout DLMSReadSettings) throws {
        let secrets = try DLMSSecrets(keyFile: keyFile, environment: ProcessInfo.processInfo.environment)
        s.client.encryptionKey = secrets.encryptionKey
        s.client.authenticationKey = secrets.authenticationKey
        s.client.password = secrets.password
        var missing: String? = nil
        if s.client.authentication == .low, s.client.password == nil {
            missing = "--auth low needs a password: 'password = …' in --key-file, or AMI_DLMS_PASSWORD"
        } else if s.client.authentication == .hlsGMAC || s.client.protection != .none,
                  s.client.encryptionKey == nil || s.client.authenticationKey == nil {
            missing = "--auth hls-gmac and --security need ek and ak: in --key-file, or AMI_DLMS_EK and AMI_DLMS_AK"
        }
        if let missing {
            guard let keyFile else { throw ValidationError(missing) }
            throw SecretError("\(keyFile): \(missing)")
        }
    }

    func profileSelection() throws -> DLMSProfileSelection {
        if let entries {
            guard from == nil, to == nil else { throw ValidationError("give --entries or --from/--to, not both") }
            let parts = entries.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = UInt32(parts[0]), let b = UInt32(parts[1]), a >= 1, b == 0 || b >= a else {
                throw ValidationError("--entries wants FROM-TO (1-based, TO 0 = last), not '\(entries)'")
            }
            return .entries(from: a, to: b)
        }
        if from == nil && to == nil { return .all }
        guard let f = from.flatMap(UTCTime.init(iso8601:)), let t = to.flatMap(UTCTime.init(iso8601:)), f <= t else {
            throw ValidationError("--from and --to want two ISO 8601 UTC times, the first not after the second")
        }
        return .range(from: f, to: t)
    }

    static func session(_ s: DLMSReadSettings, output: RecordOutput) -> ExitStatus {
        ReadDLMS.run(s, output: output)
    }
}

struct Listen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive frames pushed to a UDP or TCP port, or read from a serial port, until SIGTERM.",
        discussion: "ENDPOINT is udp://ADDR:PORT, tcp://ADDR:PORT (port 0: any free port) or serial:DEVICE. See ami-read(1)."
    )

    @Argument(help: "udp://ADDR:PORT, tcp://ADDR:PORT or serial:DEVICE.") var endpoint: String
    @Option(help: "Protocol of the frames: auto (any ami-decode finds by its framing) or one name; written in records.")
    var `protocol`: String = "auto"
    @Option(help: "Cut streams at pauses of this many milliseconds instead of by the protocol's framing.")
    var idleGap: Int?
    @Option(help: "Serial speed.") var baud: Int = 9600
    @Option(help: "Serial frame: data bits, parity (N, E, O), stop bits.") var serialFormat: String = "8N1"
    @Option(help: "Seconds between attempts to open a serial device that is missing.") var reopenInterval: Double = 1
    @Option(help: "Stop after this many frames.") var maxFrames: Int?
    @OptionGroup var common: CommonOptions

    func listener() throws -> PushListener {
        guard let format = SerialSettings(baudRate: baud, format: serialFormat) else {
            throw ValidationError("--serial-format wants e.g. 8N1 or 8E1, not '\(serialFormat)'")
        }
        guard let where_ = PushEndpoint(endpoint, serial: format) else {
            throw ValidationError("the endpoint is udp://ADDR:PORT, tcp://ADDR:PORT or serial:DEVICE, not '\(endpoint)'")
        }
        var protocols = Set(ProtocolID.decodable)
        var name: String? = nil
        if `protocol` != "auto" {
            guard let p = ProtocolID(rawValue: `protocol`), ProtocolID.decodable.contains(p) else {
                throw ValidationError("unknown protocol '\(`protocol`)' (auto, \(ProtocolID.decodable.map(\.rawValue).joined(separator: ", ")))")
            }
            protocols = [p]
            name = p.rawValue
        }
        if let gap = idleGap, !(1...60_000).contains(gap) { throw ValidationError("--idle-gap wants 1 to 60000 milliseconds") }
        guard reopenInterval > 0, reopenInterval <= 3600 else { throw ValidationError("--reopen-interval wants 0 to 3600 seconds") }
        if let n = maxFrames, n < 1 { throw ValidationError("--max-frames wants a positive number") }
        return PushListener(endpoint: where_, split: idleGap.map { .idle(milliseconds: $0) } ?? .protocols(protocols),
                            protocolName: name, reopenInterval: .milliseconds(Int64(reopenInterval * 1000)),
                            maxFrames: maxFrames)
    }

    func validate() throws { _ = try listener() }

    func run() throws {
        ToolMain.prepare()
        let stop = StopSignal.install()
        let output = RecordOutput(diagnostics: Diagnostics(program: "ami-read"), lineBuffered: true)
        ToolMain.exit(ReadListen.run(try listener(), output: output, strict: common.strict, stop: stop))
    }
}
