import AMICLI
import AMICore
import ArgumentParser
import Foundation

struct IEC: MeterReadCommand {
    static let configuration = CommandConfiguration(
        commandName: "iec",
        abstract: "Read an IEC 62056-21 meter (optical head, serial line or transparent TCP gateway).",
        discussion: "See ami-read(1). Pipe the output into ami-decode for readings."
    )

    @Option(help: "Meter behind a transparent gateway at HOST:PORT.") var tcp: String?
    @Option(help: "Meter on a serial DEVICE (an optical head).") var serial: String?
    @Option(help: "Initial serial speed (the sign-on speed).") var baud: Int = 300
    @Option(help: "Serial frame: data bits, parity (N, E, O), stop bits (default 7E1; 8N1 with --soft-parity).")
    var serialFormat: String?
    @Flag(help: "Send 7E1 characters on an 8N1 line, the parity bit in bit 7 (pseudo-terminals, some USB heads).")
    var softParity = false
    @Option(help: "Device address for the sign-on (empty: any meter).") var address: String = ""
    @Option(help: "Protocol mode a, b or c (default: the one the identification names).") var mode: String?
    @Option(help: "Highest speed to switch to in mode C.") var maxBaud: Int?
    @Option(help: "Key file holding 'password = …' for programming mode (mode 0600).") var keyFile: String?
    @Option(help: "Read a data set in programming mode (R1), e.g. 1.8.0.") var read: [String] = []
    @Flag(help: "Set the meter clock (0.9.1 time, 0.9.2 date) to this machine's time in --meter-tz, in programming mode.")
    var setClock = false
    @Option(help: "IANA time zone of the meter's clock, for --set-clock.") var meterTz: String = "UTC"
    @Flag(help: "Read the data message too when --read or --set-clock asks for programming mode.") var readout = false
    @Option(help: "Meter name for messages and frame records.") var meter: String?
    @OptionGroup var described: DescriptionOption
    @Option(help: "Seconds to wait for an answer, and between characters of one.") var timeout: Double = 5
    @Option(help: "Times a request is repeated after no answer or a garbled one.") var retries: Int = 2

    func validate() throws {
        guard (tcp == nil) != (serial == nil) else { throw ValidationError("give one of --tcp HOST:PORT or --serial DEVICE") }
        _ = try settings()
    }

    /// Everything but the password (`addSecrets`).
    func settings() throws -> IECReadSettings {
        let connection: MeterConnection
        if let tcp {
            guard let (host, port) = HostPort.parse(tcp), port > 0 else {
                throw ValidationError("--tcp wants HOST:PORT, not '\(tcp)'")
            }
            connection = .tcp(host: host, port: port)
        } else {
            let formatText = serialFormat ?? (softParity ? "8N1" : "7E1")
            guard let format = SerialSettings(baudRate: baud, format: formatText) else {
                throw ValidationError("--serial-format wants e.g. 7E1 or 8N1, not '\(formatText)'")
            }
            if softParity, format.dataBits != 8 || format.parity != .none {
                throw ValidationError("--soft-parity puts the parity into bit 7 of an 8N1 line, not \(formatText)")
            }
            connection = .serial(path: serial ?? "", format)
        }
        var s = IECReadSettings(connection: connection)
        guard IECMessage.isValidAddress(address) else {
            throw ValidationError("--address is up to 32 digits, letters and spaces")
        }
        s.client.address = address
        if let mode {
            guard let m = IECProtocolMode(rawValue: mode.lowercased()) else {
                throw ValidationError("--mode is a, b or c, not '\(mode)'")
            }
            s.client.mode = m
        }
        if let maxBaud {
            guard IECIdentification.modeCCharacter(for: maxBaud) != nil else {
                throw ValidationError("--max-baud is one of 300, 600, 1200, 2400, 4800, 9600, 19200")
            }
            s.client.maxBaudRate = maxBaud
        }
        s.client.softParity = softParity
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout wants 0 to 3600 seconds") }
        s.client.timeout = .milliseconds(Int64(timeout * 1000))
        guard (0...100).contains(retries) else { throw ValidationError("--retries wants 0 to 100") }
        s.client.retries = retries
        s.meterName = meter
        for address in read where address.isEmpty || !address.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x28 && $0 != 0x29 && $0 != 0x2F && $0 != 0x21 }) {
            throw ValidationError("--read wants a data set address such as 1.8.0, not '\(address)'")
        }
        s.reads = read
        s.setClock = setClock
        guard let zone = LocalTimeZone(meterTz) else { throw ValidationError("unknown time zone '\(meterTz)'") }
        s.meterTimeZone = zone
        if s.programming, s.client.mode == .a || s.client.mode == .b {
            throw ValidationError("--read and --set-clock need programming mode, which is mode C")
        }
        s.readout = !s.programming || readout
        return s
    }

    /// The password from --key-file (`password = …`) or AMI_IEC_PASSWORD; an unusable key file
    /// throws `SecretError` (exit 78).
    func addSecrets(to s: inout IECReadSettings) throws {
        let env = ProcessInfo.processInfo.environment
        let secrets = try keyFile.map { path throws(SecretError) in try Secrets(keyFile: path, environment: env) }
            ?? Secrets(environment: env)
        s.password = secrets.text("password", environmentName: "AMI_IEC_PASSWORD")
        if let keyFile, s.password == nil {
            throw SecretError("\(keyFile): no 'password' entry")
        }
    }

    static func session(_ s: IECReadSettings, output: RecordOutput) -> ExitStatus {
        ReadIEC.run(s, output: output)
    }
}
