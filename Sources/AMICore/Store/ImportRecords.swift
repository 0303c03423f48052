/// One record of an import file (`ami-store registry import`, `ami-bill account import`): a CSV row
/// under its header, or a JSON-lines object.
struct ImportRecord {
    /// The line the record starts on.
    let line: Int
    /// The CSV cells by their header's names, or the JSON object's string and number members (numbers
    /// as their text); an empty string is an absent value to the readers of the fields.
    let fields: [String: String]
    /// The CSV header (nil for JSON lines).
    let header: [String]?
    /// The JSON object (nil for CSV, and for a JSON line that is not an object).
    let object: [String: JSONValue]?
    /// The JSON record's `type` (nil for CSV).
    let type: String?
}

extension RegistryFormat {
    /// Hands each record of `text` to `body`, in order. Blank lines are passed over; a CSV row with
    /// more or fewer fields than the header and a line that is not JSON go to `reject` with their
    /// line and what is wrong. Text that is not CSV at all throws its first failure.
    func eachRecord(_ text: String, reject: (Int, String) throws -> Void, _ body: (ImportRecord) throws -> Void) throws {
        switch self {
        case .csv:
            let rows = try CSVReader.records(Array(text.utf8))
            guard let header = rows.first?.fields else { return }
            for row in rows.dropFirst() {
                if row.fields == [""] { continue }
                guard row.fields.count == header.count else {
                    try reject(row.line, "\(row.fields.count) fields, the header has \(header.count)")
                    continue
                }
                try body(ImportRecord(line: row.line, fields: Dictionary(zip(header, row.fields), uniquingKeysWith: { a, _ in a }),
                                      header: header, object: nil, type: nil))
            }
        case .jsonl:
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
                let v: JSONValue
                do throws(DecodeError) { v = try JSONValue.parse(Array(line.utf8)) } catch {
                    try reject(n + 1, "byte \(error.offset): \(error.message)")
                    continue
                }
                var f: [String: String] = [:]
                var object: [String: JSONValue]?
                if case .object(let o) = v {
                    for (k, m) in o { f[k] = m.stringValue ?? m.numberText }
                    object = o
                }
                try body(ImportRecord(line: n + 1, fields: f, header: nil, object: object, type: v["type"]?.stringValue))
            }
        }
    }
}
