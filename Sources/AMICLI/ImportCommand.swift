#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AMICore
import Foundation

extension ExportCommand {
    /// Reads files of `format` into JSON lines. Bad records are reported with their line (CSV,
    /// NEM12), sheet and row (XLSX) or element (ESPI), and skipped: exit 65.
    public static func `import`(inputs: [InputFile], format: ImportFormat, settings: Settings,
                                diagnostics: Diagnostics) -> ExitStatus {
        var status = ExitStatus.ok
        let target: Target
        do {
            target = try Target(settings.output)
        } catch {
            diagnostics.report(nil, "\(error)")
            return .ioError
        }
        let out = BlockWriter(sink: target.sink)
        let json = JSONLineWriter(capacity: 1 << 12)
        var stop = false
        func emit(_ r: Reading) {
            json.removeAll()
            json.write(r)
            out.buffer.append(contentsOf: json.buffer)
        }
        func bad(_ location: String, _ message: String) {
            diagnostics.report(location, message)
            status = max(status, .dataError)
            if settings.strict { stop = true }
        }
        /// Writes a table row (CSV, XLSX) as its JSON line, or reports why it cannot be one.
        func row(_ importer: RowImport, _ cells: [Cell], source: String, at location: String) throws {
            do {
                out.append(try importer.line(cells, source: source))
                out.append("\n")
                try out.flushIfFull()
            } catch let e as OutputClosed {
                throw e
            } catch {
                bad(location, "\(error)")
            }
        }
        do {
            for input in inputs where !stop {
                do {
                    switch format {
                    case .csv:
                        var rows: RowImport?
                        try eachCSVRecord(input) { result, line in
                            guard !stop else { return }
                            switch result {
                            case .failure(let f): bad("\(input.displayName):\(line)", f.description)
                            case .success(let fields):
                                guard let importer = rows else {
                                    rows = RowImport(columns: fields, defaultType: settings.type)
                                    return
                                }
                                try row(importer, fields.map(Cell.text), source: input.sourceName,
                                        at: "\(input.displayName):\(line)")
                            }
                        }
                    case .nem12:
                        let reader = NEM12Reader(source: input.sourceName, offsetMinutes: settings.nem12Offset)
                        try eachCSVRecord(input) { result, line in
                            guard !stop else { return }
                            switch result {
                            case .failure(let f): bad("\(input.displayName):\(line)", f.description)
                            case .success(let fields):
                                do {
                                    try reader.record(fields, line: line, emit)
                                } catch let f as NEM12Reader.Failure {
                                    bad("\(input.displayName):\(f.line)", f.description)
                                }
                            }
                            try out.flushIfFull()
                        }
                        do { try reader.finish(emit) } catch let f as NEM12Reader.Failure {
                            bad("\(input.displayName):\(f.line)", f.description)
                        }
                    case .xlsx:
                        try withFile(input) { path in
                            let book = try XLSXReader(path: path)
                            for sheet in try book.sheets() where !stop {
                                var rows: RowImport?
                                try book.rows(sheet) { cells, number in
                                    guard !stop else { return }
                                    guard let importer = rows else {
                                        let type = settings.type ?? XLSXImportName.type(ofSheet: sheet.name)
                                        rows = RowImport(columns: cells.map(\.text), defaultType: type)
                                        return
                                    }
                                    if cells.allSatisfy({ $0 == .empty }) { return }
                                    try row(importer, cells, source: input.sourceName,
                                            at: "\(input.displayName): sheet \(sheet.name) row \(number)")
                                }
                            }
                        }
                    case .espi:
                        let data = try readAll(input)
                        for r in try GreenButton.readings(data, source: input.sourceName, problems: {
                            bad(input.displayName, $0)
                        }) where !stop {
                            emit(r)
                            try out.flushIfFull()
                        }
                    }
                } catch let f as InputFile.Failure {
                    diagnostics.report(input.displayName, f.description)
                    status = max(status, .noInput)
                } catch let e as OutputClosed {
                    throw e
                } catch let e as FileFailure {
                    throw e
                } catch {
                    bad(input.displayName, "\(error)")
                }
            }
            if stop && target.file != nil {
                target.abandon()
                return status
            }
            try out.flush()
            try target.commit()
        } catch is OutputClosed {
            target.abandon()
        } catch {
            target.abandon()
            diagnostics.report(nil, "\(error)")
            return max(status, .ioError)
        }
        return status
    }

    /// Each CSV record of an input, with the line it starts on.
    static func eachCSVRecord(_ input: InputFile,
                              _ body: (Result<[String], CSVReader.Failure>, Int) throws -> Void) throws {
        var reader = CSVReader()
        try input.read { chunk in
            try reader.feed(chunk, body)
            return true
        }
        try reader.finish(body)
    }

    static func readAll(_ input: InputFile) throws -> Data {
        var data = Data()
        try input.read { chunk in
            data.append(contentsOf: chunk)
            return true
        }
        return data
    }

    /// Runs `body` with a path to the input (standard input is spooled to a temporary file).
    static func withFile(_ input: InputFile, _ body: (String) throws -> Void) throws {
        guard input.isStdin else {
            guard access(input.path, R_OK) == 0 else { throw InputFile.Failure(description: String(cString: strerror(errno))) }
            return try body(input.path)
        }
        let spool = try AtomicFile(path: (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/ami-export-in.xlsx")
        defer { spool.abandon() }
        try input.read { chunk in
            try spool.write(chunk)
            return true
        }
        try body(spool.temporaryPath)
    }
}

/// How a sheet's name gives its record type: `reading 2` (a continuation sheet) is `reading`.
enum XLSXImportName {
    static func type(ofSheet name: String) -> String {
        let words = name.split(separator: " ")
        if words.count == 2, Int(words[1]) != nil { return String(words[0]) }
        return name
    }
}
