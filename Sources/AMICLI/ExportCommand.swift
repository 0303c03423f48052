#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AMICore

/// The formats `ami-export` writes.
public enum ExportFormat: String, CaseIterable, Sendable {
    case csv, xlsx, json, xml, cim, nem12

    /// The format a file name's extension implies.
    public init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { self = .csv } else if lower.hasSuffix(".xlsx") { self = .xlsx }
        else if lower.hasSuffix(".json") { self = .json } else if lower.hasSuffix(".xml") { self = .xml }
        else if lower.hasSuffix(".nem12") { self = .nem12 } else { return nil }
    }
}

/// The formats `ami-export --from` reads.
public enum ImportFormat: String, CaseIterable, Sendable {
    case csv, xlsx, nem12, espi
}


/// Standard output as a sink (ByteSink wants a class).
final class StdoutSink: ByteSink {
    let output = CheckedOutput()
    func write(_ bytes: UnsafeRawBufferPointer) throws { try output.write(bytes) }
}

/// The body of `ami-export`: JSON lines to a file (`export`), files to JSON lines (`import`).
/// Bad input records are reported as `ami-export: NAME:LINE: message` and skipped (exit 65), or
/// stop the run with `strict`, leaving no output file.
public enum ExportCommand {
    public struct Settings: Sendable {
        public var output = "-"
        /// The one record type a CSV, or the generic XML, holds (default: the first seen).
        public var type: String?
        public var strict = false
        /// NEM12 files are in the market's standard time: this offset from UTC (minutes).
        public var nem12Offset = 600
        /// The participants written in a NEM12 header (From, To).
        public var nem12From = "AMI"
        public var nem12To = "AMI"
        public init() {}
    }

    /// Where the bytes of a run go: an atomic file, or stdout.
    final class Target {
        let file: AtomicFile?
        let sink: ByteSink
        let path: String

        init(_ path: String, create: Bool = true) throws {
            self.path = path
            if path == "-" {
                file = nil
                sink = StdoutSink()
            } else {
                let f = try AtomicFile(path: path, create: create)
                file = f
                sink = f
            }
        }

        func commit() throws { try file?.commit() }
        func abandon() { file?.abandon() }
    }

    /// Writes JSON lines from `inputs` as `format`.
    public static func export(inputs: [InputFile], format: ExportFormat, settings: Settings,
                              diagnostics: Diagnostics) -> ExitStatus {
        var status = ExitStatus.ok
        let target: Target
        do {
            target = try Target(settings.output, create: format != .xlsx)
        } catch {
            diagnostics.report(nil, "\(error)")
            return .ioError
        }
        var table = RecordTable()
        var skippedTypes: [String: Int] = [:]
        var chosen: Sheet?
        var stop = false
        let writer: RecordWriter
        do {
            writer = try RecordWriter(format: format, target: target, settings: settings)
        } catch {
            target.abandon()
            diagnostics.report(nil, "\(error)")
            return .ioError
        }
        do {
            for input in inputs where !stop {
                var lineNumber = 0
                do {
                    try LineSplitter.lines(of: input) { line in
                        lineNumber += 1
                        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
                        do {
                            if writer.wantsRecords {
                                try writer.record(line, source: input.sourceName, skipped: &skippedTypes)
                            } else {
                                let row = try table.row(line)
                                for name in row.unplaced {
                                    diagnostics.report("\(input.displayName):\(lineNumber)",
                                                       "warning: member \"\(name)\" is not a column of the \(row.sheet.type) records (their columns come from the first one); not written")
                                }
                                if writer.oneSheet {
                                    if chosen == nil, settings.type == nil || settings.type == row.sheet.type {
                                        chosen = row.sheet
                                        try writer.header(row.sheet)
                                    }
                                    guard chosen === row.sheet else {
                                        skippedTypes[row.sheet.type, default: 0] += 1
                                        return true
                                    }
                                }
                                try writer.row(row, line: line)
                            }
                        } catch let e as DecodeError {
                            diagnostics.report("\(input.displayName):\(lineNumber)", e.description)
                            status = max(status, .dataError)
                            if settings.strict { stop = true; return false }
                        } catch let e as RecordWriter.Refusal {
                            diagnostics.report("\(input.displayName):\(lineNumber)", e.description)
                            status = max(status, .dataError)
                            if settings.strict { stop = true; return false }
                        }
                        return true
                    } idle: {}
                } catch let f as InputFile.Failure {
                    diagnostics.report(input.displayName, f.description)
                    status = max(status, .noInput)
                }
            }
            if stop {
                target.abandon()
                return status
            }
            try writer.finish()
            try target.commit()
        } catch is OutputClosed {
            target.abandon()
            return status
        } catch {
            target.abandon()
            diagnostics.report(nil, "\(error)")
            return max(status, .ioError)
        }
        for (type, n) in skippedTypes.sorted(by: { $0.key < $1.key }) {
            diagnostics.report(nil, "note: \(n) \(type) record\(n == 1 ? "" : "s") not written: "
                               + writer.skipReason(type: settings.type))
        }
        return status
    }
}

/// One export format's writer behind one interface.
final class RecordWriter {
    /// A record the format cannot hold (a reading without time for NEM12…).
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    let format: ExportFormat
    let target: Target
    private var csv: CSVWriter?
    private var xlsx: XLSXWriter?
    private var json: JSONArrayWriter?
    private var xml: GenericXMLWriter?
    private var cim: CIMReadingsWriter?
    private var nem12: NEM12Writer?
    private let reader = JSONLineReader()
    typealias Target = ExportCommand.Target

    init(format: ExportFormat, target: Target, settings: ExportCommand.Settings) throws {
        self.format = format
        self.target = target
        switch format {
        case .csv: csv = CSVWriter(sink: target.sink)
        case .xlsx:
            let folder: String
            if let f = target.file, let slash = f.path.lastIndex(of: "/") {
                folder = String(f.path[...slash])
            } else if target.file != nil {
                folder = ""
            } else {
                folder = (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/"
            }
            xlsx = XLSXWriter(folder: folder)
        case .json: json = JSONArrayWriter(sink: target.sink)
        case .xml: xml = try GenericXMLWriter(sink: target.sink)
        case .cim: cim = try CIMReadingsWriter(sink: target.sink)
        case .nem12:
            nem12 = NEM12Writer(sink: target.sink, offsetMinutes: settings.nem12Offset,
                                from: settings.nem12From, to: settings.nem12To)
        }
    }

    /// Formats that take readings (parsed by `JSONLineReader`) rather than table rows.
    var wantsRecords: Bool { format == .cim || format == .nem12 }
    /// Formats that hold one record type.
    var oneSheet: Bool { format == .csv }

    func skipReason(type: String?) -> String {
        switch format {
        case .csv: return type == nil ? "a CSV file holds one record type, the first one met (choose with --type)"
            : "a CSV file holds one record type (--type \(type!))"
        default: return "\(format.rawValue) holds readings only"
        }
    }

    func header(_ sheet: Sheet) throws {
        try csv?.header(sheet.columns)
    }

    func row(_ row: RecordTable.Row, line: UnsafeBufferPointer<UInt8>) throws {
        switch format {
        case .csv: try csv!.row(row.cells)
        case .xlsx: try xlsx!.row(row.cells, sheet: row.sheet)
        case .json: try json!.record(line)
        case .xml: try xml!.row(row)
        case .cim, .nem12: break
        }
    }

    func record(_ line: UnsafeBufferPointer<UInt8>, source: String, skipped: inout [String: Int]) throws {
        let parsed: JSONLineReader.Line
        do {
            parsed = try reader.parse(line, source: source)
        } catch {
            // The reader checks the members readings use on every record: another tool's record
            // may use the same names otherwise. Only a bad reading is an error here.
            if let members = try? JSONValue.parseMembers(line), let type = members.first(where: { $0.0 == "type" })?.1.stringValue,
               type != "reading" {
                skipped[type, default: 0] += 1
                return
            }
            throw error
        }
        switch parsed {
        case .record(.reading(let r)):
            if let cim { try cim.reading(r) }
            if let nem12 {
                do { try nem12.reading(r) } catch let e as NEM12Writer.Refusal { throw Refusal(description: e.description) }
            }
        case .record(.event): skipped["event", default: 0] += 1
        case .record(.frame): skipped["frame", default: 0] += 1
        case .other(let type): skipped[type, default: 0] += 1
        case .blank: break
        }
    }

    func finish() throws {
        try csv?.finish()
        try json?.finish()
        try xml?.finish()
        try cim?.finish()
        try nem12?.finish()
        if let xlsx {
            if let file = target.file {
                try xlsx.finish(path: file.temporaryPath)
            } else {
                let spool = try AtomicFile(path: (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/ami-export.xlsx",
                                           create: false)
                defer { spool.abandon() }
                try xlsx.finish(path: spool.temporaryPath)
                try InputFile(spool.temporaryPath).read { chunk in
                    try target.sink.write(chunk)
                    return true
                }
            }
        }
    }
}
