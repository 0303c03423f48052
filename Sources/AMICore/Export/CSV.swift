/// CSV as RFC 4180 defines it: UTF-8, a header row, CRLF line ends, fields holding a comma,
/// quote, CR or LF quoted with quotes doubled. Numbers are written exactly as they came (`1.111`,
/// never `1,111`), times as ISO 8601 UTC text.
public final class CSVWriter {
    private let out: BlockWriter

    public init(sink: ByteSink) { out = BlockWriter(sink: sink) }

    /// Writes the header row.
    public func header(_ columns: [String]) throws {
        try row(columns.map(Cell.text))
    }

    public func row(_ cells: [Cell]) throws {
        for (i, c) in cells.enumerated() {
            if i > 0 { out.buffer.append(0x2C) }
            switch c {
            case .empty: break
            case .number(let s): out.append(s)
            case .decimal(let d): out.buffer.commit(d.write(to: out.buffer.reserve(d.maxTextLength)))
            case .int(let n): out.append(String(n))
            case .time(let t): out.buffer.commit(t.write(to: out.buffer.reserve(UTCTime.maxTextLength)))
            case .bool(let b): out.append(b ? "true" : "false")
            case .text(let s): field(s)
            }
        }
        out.buffer.append(0x0D)
        out.buffer.append(0x0A)
        try out.flushIfFull()
    }

    /// Whether a field must be quoted: it holds a comma, quote, CR or LF.
    static func needsQuotes(_ s: String) -> Bool {
        s.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0D || $0 == 0x0A }
    }

    /// One record's fields as a CSV line (without its line end).
    public static func line(_ fields: [String]) -> String {
        fields.map { needsQuotes($0) ? "\"" + $0.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : $0 }
            .joined(separator: ",")
    }

    private func field(_ s: String) {
        guard CSVWriter.needsQuotes(s) else { return out.append(s) }
        out.buffer.append(0x22)
        for b in s.utf8 {
            if b == 0x22 { out.buffer.append(0x22) }
            out.buffer.append(b)
        }
        out.buffer.append(0x22)
    }

    public func finish() throws { try out.flush() }
}

/// Reads RFC 4180 CSV fed in chunks of any size, handing each record (its fields and the line it
/// starts on) to a closure. Accepts CRLF or LF line ends and a UTF-8 byte order mark; a quote
/// inside an unquoted field, text after a closing quote, or invalid UTF-8 is an error of that
/// record, which is skipped.
public struct CSVReader {
    public struct Failure: Error, CustomStringConvertible {
        public let line: Int
        public let description: String
    }

    private var fields: [String] = []
    private var field: [UInt8] = []
    private var quoted = false
    private var inQuotes = false
    private var afterQuote = false
    private var error: String?
    private var line = 1
    private var recordLine = 1
    private var started = false
    private var sawCR = false
    private var atStart = true
    private var bom = 0

    public init() {}

    /// The records of a whole text with the lines they start on; throws the first malformed one.
    public static func records(_ bytes: [UInt8]) throws(Failure) -> [(line: Int, fields: [String])] {
        var reader = CSVReader()
        var out: [(line: Int, fields: [String])] = []
        var failure: Failure?
        let collect: (Result<[String], Failure>, Int) -> Void = { result, line in
            switch result {
            case .success(let f): out.append((line, f))
            case .failure(let f): failure = failure ?? f
            }
        }
        bytes.withUnsafeBytes { reader.feed($0, collect) }
        reader.finish(collect)
        if let failure { throw failure }
        return out
    }

    /// Feeds bytes; `body` gets each complete record, or the failure of a malformed one.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer,
                              _ body: (Result<[String], Failure>, Int) throws -> Void) rethrows {
        for b in bytes {
            if atStart {
                let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
                if b == mark[bom] {
                    bom += 1
                    if bom == 3 { atStart = false }
                    continue
                }
                atStart = false
                for k in 0..<bom { try consume(mark[k], body) }
            }
            try consume(b, body)
        }
    }

    /// Ends the input: a last record without a line end is handed over.
    public mutating func finish(_ body: (Result<[String], Failure>, Int) throws -> Void) rethrows {
        if inQuotes { error = error ?? "quoted field not closed at the end of the input" }
        if started || !field.isEmpty || !fields.isEmpty { try endRecord(body) }
    }

    private mutating func consume(_ b: UInt8, _ body: (Result<[String], Failure>, Int) throws -> Void) rethrows {
        if sawCR {
            sawCR = false
            if b == 0x0A { return }
        }
        if inQuotes {
            if b == 0x22 {
                inQuotes = false
                afterQuote = true
            } else {
                if b == 0x0A { line += 1 }
                field.append(b)
            }
            return
        }
        switch b {
        case 0x22:
            if afterQuote {
                field.append(0x22)   // a doubled quote inside a quoted field
                inQuotes = true
                afterQuote = false
            } else if field.isEmpty && !quoted {
                quoted = true
                inQuotes = true
                started = true
            } else {
                error = error ?? "quote inside an unquoted field \(fields.count + 1)"
                field.append(b)
            }
        case 0x2C:
            endField()
            started = true
        case 0x0D, 0x0A:
            if b == 0x0D { sawCR = true }
            try endRecord(body)
            line += 1
            recordLine = line
        default:
            if afterQuote { error = error ?? "text after the closing quote of field \(fields.count + 1)" }
            field.append(b)
            started = true
        }
    }

    private mutating func endField() {
        if let s = String(validating: field, as: UTF8.self) {
            fields.append(s)
        } else {
            error = error ?? "field \(fields.count + 1) is not UTF-8"
            fields.append("")
        }
        field.removeAll(keepingCapacity: true)
        quoted = false
        afterQuote = false
    }

    private mutating func endRecord(_ body: (Result<[String], Failure>, Int) throws -> Void) rethrows {
        let blank = !started && field.isEmpty && fields.isEmpty
        if !blank { endField() }
        let result: Result<[String], Failure> = error.map { .failure(Failure(line: recordLine, description: $0)) }
            ?? .success(fields)
        let at = recordLine
        fields.removeAll(keepingCapacity: true)
        error = nil
        started = false
        if !blank { try body(result, at) }
    }
}
