/// A cell of an exported table, typed so that each format can write it natively.
public enum Cell: Sendable, Equatable {
    case empty
    case text(String)
    /// An exact decimal number, as its JSON text (`1.111`, `-20`): never converted to binary.
    case number(String)
    /// An exact decimal number of a record read as ami-jsonl(5) (written as `ExactDecimal` writes it).
    case decimal(ExactDecimal)
    case int(Int)
    case bool(Bool)
    /// A time, written as ISO 8601 UTC text (`2026-01-05T00:15:00Z`) or a date cell.
    case time(UTCTime)

    /// The cell as text (CSV, XML): numbers exactly, times in ISO 8601.
    public var text: String {
        switch self {
        case .empty: return ""
        case .text(let s), .number(let s): return s
        case .decimal(let d): return d.description
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .time(let t): return t.description
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

    /// Reads the lines of the types ami-jsonl(5) defines, fast and checked.
    private let reader = JSONLineReader()

    public init() {}

    /// One line laid out: its sheet and its cells (one per column); `unplaced` names members that
    /// have no column in the sheet (each reported once per sheet).
    public struct Row {
        public var sheet: Sheet
        public var cells: [Cell]
        public var unplaced: [String]
    }

    /// Lays out one JSON line (an object with a string `type`). Readings, events and frames are
    /// read by `JSONLineReader` (so a bad one is an error, and members the schema does not know are
    /// left out); other records member by member.
    public mutating func row(_ line: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> Row {
        do {
            if case .record(let record) = try reader.parse(line, source: "-") { return known(record) }
        } catch {
            // Another tool's record may use a member name of the schema with another type.
            if let type = try? JSONValue.parseMembers(line).first(where: { $0.0 == "type" })?.1.stringValue,
               RecordTable.knownColumns[type] == nil {
                return try generic(line)
            }
            throw error
        }
        return try generic(line)
    }

    private mutating func sheet(_ type: String, columns: @autoclosure () -> [String]) -> Sheet {
        if let i = byType[type] { return sheets[i] }
        let sheet = Sheet(type: type, columns: RecordTable.knownColumns[type] ?? columns())
        byType[type] = sheets.count
        sheets.append(sheet)
        return sheet
    }

    private mutating func known(_ record: Record) -> Row {
        func text(_ s: String?) -> Cell { s.map(Cell.text) ?? .empty }
        func int(_ i: Int?) -> Cell { i.map(Cell.int) ?? .empty }
        func time(_ t: UTCTime?) -> Cell { t.map(Cell.time) ?? .empty }
        switch record {
        case .reading(let r):
            var value = Cell.empty, textValue = Cell.empty
            switch r.value {
            case .number(let d): value = .decimal(d)
            case .text(let t): textValue = .text(t)
            }
            let quality: Cell = r.quality.isEmpty ? .empty : .text(r.quality.map(\.description).joined(separator: " "))
            return Row(sheet: sheet("reading", columns: []), cells: [
                .text("reading"), .int(jsonlSchemaVersion), .text(r.meter), text(r.medium), .text(r.quantity.rawValue),
                text(r.obis), value, textValue, text(r.unit?.rawValue), time(r.time), int(r.interval), int(r.storage),
                int(r.tariff), int(r.subunit), text(r.function?.rawValue), int(r.record), text(r.note), quality,
                .text(r.provenance.protocolID.rawValue), .text(r.provenance.source), .int(r.provenance.frame),
            ], unplaced: [])
        case .event(let e):
            return Row(sheet: sheet("event", columns: []), cells: [
                .text("event"), .int(jsonlSchemaVersion), text(e.meter), .text(e.event), text(e.code), text(e.text),
                time(e.time), e.duration.map(Cell.decimal) ?? .empty, .text(e.provenance.protocolID.rawValue),
                .text(e.provenance.source), .int(e.provenance.frame),
            ], unplaced: [])
        case .frame(let f):
            return Row(sheet: sheet("frame", columns: []), cells: [
                .text("frame"), .int(jsonlSchemaVersion), .text(Hex.string(f.bytes)), time(f.time), text(f.protocolName),
                text(f.source), .text(f.direction.rawValue), text(f.meter), f.plain.map { .text(Hex.string($0)) } ?? .empty,
            ], unplaced: [])
        }
    }

    /// A record of another type, member by member.
    private mutating func generic(_ line: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> Row {
        let members = try JSONValue.parseMembers(line)
        guard let type = members.first(where: { $0.0 == "type" })?.1.stringValue else {
            throw DecodeError(.json, at: 0, .malformed, "not a record: no string \"type\"")
        }
        var flat: [(String, Cell)] = []
        flat.reserveCapacity(members.count)
        for (name, value) in members {
            RecordTable.flatten(name, value, quality: type == "reading" && name == "quality", into: &flat)
        }
        let sheet = sheet(type, columns: flat.map(\.0))
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
            // A time only when written as ami writes times, so that the text comes back the same.
            if s.utf8.count >= 20, s.hasSuffix("Z"), let t = UTCTime(iso8601: s), t.description == s {
                out.append((name, .time(t)))
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
