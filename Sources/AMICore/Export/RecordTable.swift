/// A cell of an exported table, typed so that each format can write it natively.
public enum Cell: Sendable, Equatable {
    case empty
    case text(String)
    /// An exact decimal number, as its JSON text (`1.111`, `-20`): never converted to binary.
    case number(String)
    case bool(Bool)
    /// An ISO 8601 UTC time (`2026-01-05T00:15:00Z`), with the text it was written as.
    case time(UTCTime, String)

    /// The cell as text (CSV, XML): numbers and times exactly as they came.
    public var text: String {
        switch self {
        case .empty: return ""
        case .text(let s), .number(let s), .time(_, let s): return s
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

/// The records of one type laid out as a table: one column per member (nested objects as
/// `outer.inner`).
public final class Sheet {
    /// The record type (`reading`, `event`, `bill`…), also the sheet's name.
    public let type: String
    public let columns: [String]
    let index: [String: Int]
    /// Rows written so far.
    public internal(set) var rows = 0
    /// Members met that are not columns, already reported.
    var unplaced: Set<String> = []

    init(type: String, columns: [String]) {
        self.type = type
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, c) in columns.enumerated() where index[c] == nil { index[c] = i }
        self.index = index
    }
}

/// Turns JSON lines into typed rows, a sheet per record type. Readings and events have the
/// columns of ami-jsonl(5) in its order; another type takes the members of its first record, in
/// their order. Arrays are written as their JSON text (a reading's `quality` as codes separated by
/// spaces); strings in ISO 8601 UTC form become time cells.
public struct RecordTable {
    public private(set) var sheets: [Sheet] = []
    private var byType: [String: Int] = [:]

    /// The columns of the record types ami-jsonl(5) defines, in the order JSONLineWriter writes them.
    public static let knownColumns: [String: [String]] = [
        "reading": ["type", "v", "meter", "medium", "quantity", "obis", "value", "text", "unit", "time", "interval",
                    "storage", "tariff", "subunit", "function", "record", "note", "quality", "protocol", "source",
                    "frame"],
        "event": ["type", "v", "meter", "event", "code", "text", "time", "duration", "protocol", "source", "frame"],
        "frame": ["type", "v", "hex", "time", "protocol", "source", "dir", "meter", "plain"],
    ]

    public init() {}

    /// One line laid out: its sheet and its cells (one per column); `unplaced` names members that
    /// have no column in the sheet (each reported once per sheet).
    public struct Row {
        public var sheet: Sheet
        public var cells: [Cell]
        public var unplaced: [String]
    }

    /// Lays out one JSON line (an object with a string `type`).
    public mutating func row(_ line: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> Row {
        let members = try JSONValue.parseMembers(line)
        guard let type = members.first(where: { $0.0 == "type" })?.1.stringValue else {
            throw DecodeError(.json, at: 0, .malformed, "not a record: no string \"type\"")
        }
        var flat: [(String, Cell)] = []
        flat.reserveCapacity(members.count)
        for (name, value) in members {
            RecordTable.flatten(name, value, quality: type == "reading" && name == "quality", into: &flat)
        }
        let sheet: Sheet
        if let i = byType[type] {
            sheet = sheets[i]
        } else {
            sheet = Sheet(type: type, columns: RecordTable.knownColumns[type] ?? flat.map(\.0))
            byType[type] = sheets.count
            sheets.append(sheet)
        }
        var cells = [Cell](repeating: .empty, count: sheet.columns.count)
        var unplaced: [String] = []
        for (name, cell) in flat {
            if let i = sheet.index[name] {
                cells[i] = cell
            } else if sheet.unplaced.insert(name).inserted {
                unplaced.append(name)
            }
        }
        return Row(sheet: sheet, cells: cells, unplaced: unplaced)
    }

    static func flatten(_ name: String, _ value: JSONValue, quality: Bool, into out: inout [(String, Cell)]) {
        switch value {
        case .null: out.append((name, .empty))
        case .bool(let b): out.append((name, .bool(b)))
        case .number(let n): out.append((name, .number(n)))
        case .string(let s):
            if s.utf8.count >= 20, s.hasSuffix("Z"), let t = UTCTime(iso8601: s) {
                out.append((name, .time(t, s)))
            } else {
                out.append((name, .text(s)))
            }
        case .array(let items):
            if quality {
                out.append((name, .text(items.compactMap(\.stringValue).joined(separator: " "))))
            } else {
                out.append((name, .text(JSONText.render(value))))
            }
        case .object:
            // Members in a stable order: a dictionary keeps none.
            guard case .object(let o) = value else { return }
            for key in o.keys.sorted() { flatten(name + "." + key, o[key]!, quality: false, into: &out) }
        }
    }
}
