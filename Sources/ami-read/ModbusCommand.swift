import AMICLI
import AMICore
import ArgumentParser
import Foundation

struct Modbus: MeterReadCommand {
    static let configuration = CommandConfiguration(
        commandName: "modbus",
        abstract: "Read a Modbus device (TCP or RTU) by its device profile.",
        discussion: "Built-in profiles: \(ModbusProfile.builtInNames.joined(separator: ", ")); or a profile file, see ami-modbus-profile(5)."
    )

    @Option(help: "Device at HOST:PORT over Modbus TCP.") var tcp: String?
    @Option(help: "Device on a serial DEVICE (Modbus RTU).") var serial: String?
    @Option(help: "Serial speed.") var baud: Int = 9600
    @Option(help: "Serial frame: data bits, parity (N, E, O), stop bits.") var serialFormat: String = "8N1"
    @Option(help: "Unit (slave) id: 1 to 247 (0 to 255 over TCP).") var unit: Int = 1
    @Option(help: "Device profile: a built-in name or a profile file.") var profile: String
    @Option(help: "Seconds to wait for each answer.") var timeout: Double = 2
    @Option(help: "Times a request is sent again when no valid answer came.") var retries: Int = 2
    @Option(help: "Meter name for messages and frame records (else the profile's identity register).") var meter: String?
    @OptionGroup var described: DescriptionOption
    @Flag(help: "Disconnect the supply (the profile's disconnect writes).") var disconnect = false
    @Flag(help: "Reconnect the supply (the profile's reconnect writes).") var reconnect = false
    @Flag(help: "Set the device clock to this machine's time (the profile's set_clock writes).") var setClock = false

    func validate() throws {
        guard (tcp == nil) != (serial == nil) else { throw ValidationError("give one of --tcp HOST:PORT or --serial DEVICE") }
        _ = try settings()
    }

    func settings() throws -> ModbusReadSettings {
        let connection: ModbusReadSettings.Connection
        if let tcp {
            guard let (host, port) = HostPort.parse(tcp), port > 0 else {
                throw ValidationError("--tcp wants HOST:PORT, not '\(tcp)'")
            }
            connection = .tcp(host: host, port: port)
            guard (0...255).contains(unit) else { throw ValidationError("--unit is 0 to 255 over TCP") }
        } else {
            guard let format = SerialSettings(baudRate: baud, format: serialFormat) else {
                throw ValidationError("--serial-format wants e.g. 8N1 or 8E1, not '\(serialFormat)'")
            }
            connection = .serial(path: serial ?? "", format)
            guard (1...247).contains(unit) else { throw ValidationError("--unit is 1 to 247 on a serial line") }
        }
        let loaded: ModbusProfile
        do {
            loaded = try ModbusProfile.named(profile)
        } catch {
            throw ValidationError("--profile: \(error)")
        }
        var s = ModbusReadSettings(connection: connection, unit: UInt8(unit), profile: loaded, profileName: profile)
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout wants 0 to 3600 seconds") }
        guard (0...100).contains(retries) else { throw ValidationError("--retries wants 0 to 100") }
        s.timeout = .milliseconds(Int64(timeout * 1000))
        s.retries = retries
        s.meterName = meter
        let commands: [(Bool, ModbusProfile.Command)] = [(disconnect, .disconnect), (reconnect, .reconnect), (setClock, .setClock)]
        let asked = commands.filter(\.0).map(\.1)
        for c in asked where loaded.commands[c] == nil {
            throw ValidationError("--\(c == .setClock ? "set-clock" : c.rawValue): profile \(loaded.name) defines no \(c.rawValue) command")
        }
        if !asked.isEmpty { s.tasks = asked.map { .command($0) } }
        return s
    }

    /// Modbus has no secrets.
    func addSecrets(to s: inout ModbusReadSettings) throws {}

    static func session(_ s: ModbusReadSettings, output: RecordOutput) -> ExitStatus {
        ReadModbus.run(s, output: output)
    }
}
