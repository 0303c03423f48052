import AMICLI
import AMICore
import ArgumentParser

@main
struct AMIExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami-export",
        abstract: "Write JSON lines as CSV, XLSX, JSON, XML, IEC 61968-9 or NEM12 files, and read such files back.",
        discussion: "See ami-export(1)."
    )

    @Argument(help: "Input files; '-' or none means stdin.")
    var files: [String] = []
    @Option(name: .long, help: "Write this format: csv, xlsx, json, xml, cim (IEC 61968-9 MeterReadings), nem12 (default: from -o's extension).")
    var to: String?
    @Option(name: .long, help: "Read this format into JSON lines: csv, xlsx, nem12, espi (Green Button).")
    var from: String?
    @Option(name: .short, help: "Output file ('-' for stdout), written whole or not at all.")
    var o: String = "-"
    @Option(name: .long, help: "The record type a CSV file holds (default: the first one met).")
    var type: String?
    @Option(name: .long, help: "Offset of the NEM12 market time from UTC, as +HH:MM (default +10:00, the NEM's standard time).")
    var nem12Offset: String = "+10:00"
    @Option(name: .long, help: "NEM12 header participants, FROM,TO (default AMI,AMI).")
    var nem12Participants: String = "AMI,AMI"
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if to != nil && from != nil { throw ValidationError("give --to or --from, not both") }
        if let to, ExportFormat(rawValue: to) == nil {
            throw ValidationError("unknown format '\(to)' (csv, xlsx, json, xml, cim, nem12)")
        }
        if let from, ImportFormat(rawValue: from) == nil {
            throw ValidationError("unknown format '\(from)' (csv, xlsx, nem12, espi)")
        }
        if to == nil && from == nil && ExportFormat(path: o) == nil {
            throw ValidationError("give --to FORMAT or --from FORMAT (or -o FILE with a .csv, .xlsx, .json, .xml or .nem12 name)")
        }
        guard offsetMinutes != nil else { throw ValidationError("--nem12-offset wants +HH:MM or -HH:MM") }
        guard nem12Participants.split(separator: ",", omittingEmptySubsequences: false).count == 2 else {
            throw ValidationError("--nem12-participants wants FROM,TO")
        }
    }

    var offsetMinutes: Int? {
        let b = Array(nem12Offset.utf8)
        guard b.count == 6, b[0] == 0x2B || b[0] == 0x2D, b[3] == 0x3A,
              let h = Int(nem12Offset.dropFirst().prefix(2)), let m = Int(nem12Offset.suffix(2)), h < 24, m < 60 else { return nil }
        return (b[0] == 0x2D ? -1 : 1) * (h * 60 + m)
    }

    func run() throws {
        ToolMain.prepare()
        let diagnostics = Diagnostics(program: "ami-export")
        var settings = ExportCommand.Settings()
        settings.output = o
        settings.type = type
        settings.strict = common.strict
        settings.nem12Offset = offsetMinutes!
        let participants = nem12Participants.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        settings.nem12From = participants[0]
        settings.nem12To = participants[1]
        let inputs = (files.isEmpty ? ["-"] : files).map(InputFile.init)
        if let from {
            ToolMain.exit(ExportCommand.import(inputs: inputs, format: ImportFormat(rawValue: from)!, settings: settings,
                                               diagnostics: diagnostics))
        }
        let format = to.flatMap(ExportFormat.init(rawValue:)) ?? ExportFormat(path: o)!
        ToolMain.exit(ExportCommand.export(inputs: inputs, format: format, settings: settings, diagnostics: diagnostics))
    }
}
