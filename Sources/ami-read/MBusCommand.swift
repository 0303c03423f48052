import AMICLI
import AMICore
import ArgumentParser

struct MBus: MeterReadCommand {
    static let configuration = CommandConfiguration(
        commandName: "mbus",
        abstract: "Read a wired M-Bus meter, or scan the line, over a serial level converter or a TCP gateway.",
        discussion: "See ami-read(1). Pipe the output into ami-decode for readings."
    )

    @Option(help: "M-Bus gateway at HOST:PORT over TCP.") var tcp: String?
    @Option(help: "Level converter on a serial DEVICE.") var serial: String?
    @Option(help: "Serial speed.") var baud: Int = 2400
    @Option(help: "Serial frame: data bits, parity (N, E, O), stop bits.") var serialFormat: String = "8E1"
    @Option(help: "Primary address of the meter: 0 to 250, or 254 (the only slave on the line).") var address: Int?
    @Option(help: "Secondary address: MAN-IIIIIIII-VV-MM, 16 hex digits (libmbus) or 8 digits; F or * for any digit.")
    var secondary: String?
    @Option(help: "Scan the line: primary or secondary.") var scan: String?
    @Option(help: "Primary addresses a primary scan tries, FROM-TO.") var addresses: String = "0-250"
    @Flag(help: "The level converter echoes what is sent: strip the echo.") var echo = false
    @Option(help: "Seconds to wait for an answer (default: 330 bit times + 50 ms on a serial line, 3 over TCP).")
    var timeout: Double?
    @Option(help: "Times a request is sent again after no answer or a garbled one.") var retries: Int = 2
    @Option(help: "Most telegrams of a multi-telegram answer to read.") var maxTelegrams: Int = 16
    @Flag(help: "Set the meter clock to this machine's time (SND_UD, CI 0x51) before reading.") var setClock = false
    @Option(help: "IANA time zone of the meter clock, for --set-clock.") var meterTz: String = "UTC"
    @Option(help: "Meter name for messages and frame records.") var meter: String?
    @OptionGroup var described: DescriptionOption

    func validate() throws {
        guard (tcp == nil) != (serial == nil) else { throw ValidationError("give one of --tcp HOST:PORT or --serial DEVICE") }
        _ = try settings()
    }

    func settings() throws -> MBusReadSettings {
        let connection: MeterConnection
        var link: MBusLinkSettings
        guard timeout.map({ $0 > 0 && $0 <= 3600 }) ?? true else { throw ValidationError("--timeout wants 0 to 3600 seconds") }
        if let tcp {
            guard let (host, port) = HostPort.parse(tcp), port > 0 else {
                throw ValidationError("--tcp wants HOST:PORT, not '\(tcp)'")
            }
            connection = .tcp(host: host, port: port)
            link = MBusLinkSettings(timeout: .seconds(3))
        } else {
            guard let format = SerialSettings(baudRate: baud, format: serialFormat) else {
                throw ValidationError("--serial-format wants e.g. 8E1 or 8N1, not '\(serialFormat)'")
            }
            connection = .serial(path: serial ?? "", format)
            link = MBusLinkSettings(timeout: MBusLinkSettings.answerTime(baudRate: baud), baudRate: baud,
                                    bitsPerCharacter: 2 + format.dataBits + (format.parity == .none ? 0 : 1)
                                        + (format.stopBits - 1))
        }
        if let timeout { link.timeout = .milliseconds(Int64(timeout * 1000)) }
        guard (0...100).contains(retries) else { throw ValidationError("--retries wants 0 to 100") }
        link.retries = retries
        link.echo = echo
        let target: MBusReadSettings.Target
        let targets = [address != nil, secondary != nil, scan != nil].filter { $0 }.count
        guard targets <= 1 || (scan == "secondary" && address == nil) else {
            throw ValidationError("give one of --address, --secondary or --scan (a secondary scan can take --secondary as its mask)")
        }
        func mask(_ text: String) throws -> MBusSecondaryAddress {
            guard let m = MBusSecondaryAddress(text) else {
                throw ValidationError("--secondary wants MAN-IIIIIIII-VV-MM, IIIIIIIIMMMMVVMM or IIIIIIII (F for any digit), not '\(text)'")
            }
            return m
        }
        switch (scan, address, secondary) {
        case ("primary", nil, nil):
            let parts = addresses.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = UInt8(parts[0]), let b = UInt8(parts[1]), a <= b, b <= 250 else {
                throw ValidationError("--addresses wants FROM-TO within 0-250, not '\(addresses)'")
            }
            target = .scanPrimary(a...b)
        case ("secondary", nil, let s):
            target = .scanSecondary(try s.map(mask) ?? .any)
        case (let s?, _, _):
            throw ValidationError("--scan is primary or secondary, not '\(s)'")
        case (nil, let a?, nil):
            guard (0...250).contains(a) || a == 254 else { throw ValidationError("--address is 0 to 250, or 254") }
            target = .primary(UInt8(a))
        case (nil, nil, let s?):
            target = .secondary(try mask(s))
        default:
            throw ValidationError("give --address N, --secondary ID or --scan primary|secondary")
        }
        guard (1...1000).contains(maxTelegrams) else { throw ValidationError("--max-telegrams wants 1 to 1000") }
        guard let zone = LocalTimeZone(meterTz) else { throw ValidationError("--meter-tz wants an IANA time zone, not '\(meterTz)'") }
        var s = MBusReadSettings(connection: connection, target: target, link: link)
        s.meterName = meter
        s.maxTelegrams = maxTelegrams
        s.setClock = setClock
        s.meterTimeZone = zone
        if setClock, case .scanPrimary = target { throw ValidationError("--set-clock reads one meter, not a scan") }
        if setClock, case .scanSecondary = target { throw ValidationError("--set-clock reads one meter, not a scan") }
        return s
    }

    /// M-Bus has no secrets.
    func addSecrets(to s: inout MBusReadSettings) throws {}

    static func session(_ s: MBusReadSettings, output: RecordOutput) -> ExitStatus {
        ReadMBus.run(s, output: output)
    }
}
