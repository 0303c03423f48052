import AMICLI
import AMICore
import ArgumentParser
import Foundation

@main
struct AMIDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-decode",
        abstract: "Decode meter frames into reading and event JSON lines.",
        discussion: "Reads hex text, raw captures or frame records (see ami-jsonl(5)) from FILEs or stdin. See ami-decode(1)."
    )

    @Argument(help: "Input files; '-' or none means stdin.")
    var files: [String] = []

    @Option(name: .long, help: "Protocol to look for: auto, mbus, wmbus, iec62056-21, dsmr, dlms, sml, modbus.")
    var `protocol`: String = "auto"

    @Option(name: .long, help: "Input layout: auto, hex, binary, jsonl.")
    var input: String = "auto"

    @Flag(name: .long, help: "Decode frames whose checksum, CRC or BCC is wrong (reported as a warning).")
    var ignoreChecksums = false

    @Option(name: .long, help: "IANA time zone of meter clocks that keep local time (M-Bus, IEC 62056-21).")
    var meterTz: String = "UTC"

    @Option(name: .long, help: "IANA time zone of DSMR timestamps without a W/S suffix.")
    var dsmrTz: String = "Europe/Amsterdam"

    @Option(name: .long, help: "Key file (ek, ak; mode 0600) for ciphered DLMS APDUs without plaintext beside them.")
    var keyFile: String?

    @Option(name: .long, help: "Key file of wireless M-Bus meters (ID = KEY lines; mode 0600).")
    var wmbusKeyFile: String?

    @Option(name: .long, help: "Device profile (built-in name or file) to read Modbus responses with, whatever the frame records name.")
    var modbusProfile: String?

    @Flag(name: .long, help: "Write each record as soon as it is decoded (for live streams).")
    var lineBuffered = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard `protocol` == "auto" || ProtocolID(rawValue: `protocol`).map(ProtocolID.decodable.contains) == true else {
            throw ValidationError("unknown protocol '\(`protocol`)' (auto, \(ProtocolID.decodable.map(\.rawValue).joined(separator: ", ")))")
        }
        guard InputFormat(rawValue: input) != nil else {
            throw ValidationError("unknown input layout '\(input)' (auto, hex, binary, jsonl)")
        }
        guard LocalTimeZone(meterTz) != nil else { throw ValidationError("unknown time zone '\(meterTz)'") }
        guard LocalTimeZone(dsmrTz) != nil else { throw ValidationError("unknown time zone '\(dsmrTz)'") }
    }

    func run() throws {
        ToolMain.prepare()
        var options = DecodeOptions()
        if let p = ProtocolID(rawValue: `protocol`) { options.protocols = [p] }
        options.ignoreChecksums = ignoreChecksums
        options.meterTimeZone = LocalTimeZone(meterTz)!
        options.dsmrTimeZone = LocalTimeZone(dsmrTz)!
        let diagnostics = Diagnostics(program: "ami-decode")
        do {
            options.dlmsSecurity = try dlmsSecurity()
        } catch {
            // The message names the key file or the variable.
            diagnostics.report(nil, "\(error)")
            ToolMain.exit(.config)
        }
        if let path = wmbusKeyFile {
            do {
                options.wmbusKeys = try WMBusKeys(Secrets(keyFile: path, environment: [:]))
            } catch {
                diagnostics.report(path, "\(error)")
                ToolMain.exit(.config)
            }
        }
        if let name = modbusProfile {
            do {
                options.modbusProfile = try ModbusProfile.named(name)
            } catch {
                diagnostics.report(nil, "--modbus-profile: \(error)")
                ToolMain.exit(.config)
            }
        }
        let sink = RecordOutput(diagnostics: diagnostics, lineBuffered: lineBuffered)
        let status = DecodeCommand.run(inputs: (files.isEmpty ? ["-"] : files).map(InputFile.init),
                                       format: InputFormat(rawValue: input)!, options: options,
                                       strict: common.strict, sink: sink)
        ToolMain.exit(status)
    }

    /// DLMS keys from `--key-file` or AMI_DLMS_EK / AMI_DLMS_AK; nil when none are given. A key
    /// file that cannot be read, is open to others, is malformed or lacks ek or ak throws.
    func dlmsSecurity() throws(SecretError) -> SecurityContext? {
        let secrets = try DLMSSecrets(keyFile: keyFile, environment: ProcessInfo.processInfo.environment)
        guard let ek = secrets.encryptionKey, let ak = secrets.authenticationKey else {
            if let keyFile { throw SecretError("\(keyFile): needs ek and ak (or AMI_DLMS_EK and AMI_DLMS_AK)") }
            return nil
        }
        // Deciphering uses the senders' system titles; this side's own title is never used.
        return SecurityContext(systemTitle: [UInt8](repeating: 0, count: 8), ek: ek, ak: ak)
    }
}
