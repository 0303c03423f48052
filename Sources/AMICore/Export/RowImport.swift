/// Turns table rows read back from a file (CSV, XLSX) into JSON lines: the header names the
/// members, empty cells are absent members, `outer.inner` columns nest. Readings, events and
/// frames are checked against ami-jsonl(5) and written as `JSONLineWriter` writes them; other
/// types keep their members in column order, a cell that is JSON number text becoming a number
/// (`RecordTable` in reverse).
public struct RowImport {
    public let columns: [String]
    /// The record type for rows without a `type` cell (an XLSX sheet's name).
    public let defaultType: String?
    private let reader = JSONLineReader()
    private let writer = JSONLineWriter(capacity: 1024)
    private let typeColumn: Int?

    /// Members of the known types whose values are numbers; the others are strings.
    static let numeric: Set<String> = ["v", "value", "interval", "storage", "tariff", "subunit", "record", "frame",
                                       "duration"]

    /// How each column's cells are written, for each type ami-jsonl(5) defines.
    private let knownKinds: [String: [Kind]]
    enum Kind { case string, number, quality }

    public init(columns: [String], defaultType: String? = nil) {
        self.columns = columns
        self.defaultType = defaultType
        typeColumn = columns.firstIndex(of: "type")
        var kinds: [String: [Kind]] = [:]
        for type in RecordTable.knownColumns.keys {
            kinds[type] = columns.map { name in
                name == "quality" && type == "reading" ? .quality : RowImport.numeric.contains(name) ? .number : .string
            }
        }
        knownKinds = kinds
    }

    /// Why a row could not be made into a record.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The JSON line (without newline) for one row.
    public func line(_ cells: [Cell], source: String) throws -> String {
        var type = defaultType
        if let t = typeColumn, t < cells.count, case let text = cells[t].text, !text.isEmpty { type = text }
        guard let type else { throw Failure(description: "no record type: no \"type\" column and no sheet name") }
        guard cells.count <= columns.count else {
            throw Failure(description: "\(cells.count) fields, the header has \(columns.count)")
        }
        guard let kinds = knownKinds[type] else { return try generic(cells, type: type) }
        // A type ami-jsonl(5) defines: flat members, typed by the schema.
        var members: [(String, String)] = []
        members.reserveCapacity(cells.count + 1)
        if typeColumn == nil { members.append(("type", JSONText.quoted(type))) }
        for (i, name, cell) in try filled(cells) {
            members.append((name, try RowImport.knownMember(name, cell, kind: kinds[i])))
        }
        let text = JSONText.object(members)
        // Checked and written in ami-jsonl(5)'s form.
        var bytes = Array(text.utf8)
        let parsed = try bytes.withUnsafeMutableBufferPointer { try reader.parse(UnsafeBufferPointer($0), source: source) }
        guard case .record(let record) = parsed else { return text }
        writer.removeAll()
        writer.write(record)
        var out = writer.buffer
        if out.last == 0x0A { out.removeLast() }
        return String(decoding: out, as: UTF8.self)
    }

    /// A record of another type: nested by `outer.inner` column names, numbers inferred.
    private func generic(_ cells: [Cell], type: String) throws -> String {
        var root = Node()
        if typeColumn == nil { root.set(["type"], JSONText.quoted(type)) }
        for (_, name, cell) in try filled(cells) {
            root.set(name.split(separator: ".", omittingEmptySubsequences: false).map(String.init), RowImport.inferred(cell))
        }
        return root.text
    }

    /// The cells that hold something, with their column's index and name.
    private func filled(_ cells: [Cell]) throws -> [(Int, String, Cell)] {
        var out: [(Int, String, Cell)] = []
        out.reserveCapacity(cells.count)
        for (i, cell) in cells.enumerated() {
            if case .empty = cell { continue }
            if case .text(let s) = cell, s.isEmpty { continue }
            guard !columns[i].isEmpty else { throw Failure(description: "a value in column \(i + 1), which has no name") }
            out.append((i, columns[i], cell))
        }
        return out
    }

    static func knownMember(_ name: String, _ cell: Cell, kind: Kind) throws -> String {
        switch kind {
        case .quality:
            let codes = cell.text.split(separator: " ").map { JSONText.quoted(String($0)) }
            return "[" + codes.joined(separator: ",") + "]"
        case .number:
            switch cell {
            case .number(let n): return n
            case .decimal, .int: return cell.text
            default: break
            }
            let s = cell.text
            guard isJSONNumber(s) else { throw Failure(description: "\"\(name)\" is \"\(s)\", not a number") }
            return s
        case .string:
            return JSONText.quoted(cell.text)
        }
    }

    static func inferred(_ cell: Cell) -> String {
        switch cell {
        case .empty: return "null"
        case .number(let n): return n
        case .decimal, .int: return cell.text
        case .bool(let b): return b ? "true" : "false"
        case .time(let t): return JSONText.quoted(t.description)
        case .text(let s):
            if isJSONNumber(s) { return s }
            if let first = s.utf8.first, first == 0x5B || first == 0x7B,
               let v = try? JSONValue.parse(Array(s.utf8)) {
                return JSONText.render(v)
            }
            return JSONText.quoted(s)
        }
    }

    /// Whether `s` is a number as JSON (RFC 8259 §6) writes it.
    static func isJSONNumber(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        if i < b.count && b[i] == 0x2D { i += 1 }
        let intStart = i
        while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        let n = i - intStart
        guard n > 0, !(n > 1 && b[intStart] == 0x30) else { return false }
        if i < b.count && b[i] == 0x2E {
            i += 1
            let f = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > f else { return false }
        }
        if i < b.count && (b[i] == 0x65 || b[i] == 0x45) {
            i += 1
            if i < b.count && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
            let e = i
            while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > e else { return false }
        }
        return i == b.count
    }

    /// An object under construction: members in the order first set.
    struct Node {
        var names: [String] = []
        var values: [String: Value] = [:]
        indirect enum Value {
            case json(String)
            case node(Node)
        }

        mutating func set(_ path: [String], _ json: String) {
            let name = path[0]
            if values[name] == nil { names.append(name) }
            if path.count == 1 {
                values[name] = .json(json)
                return
            }
            var child: Node
            if case .node(let n) = values[name] { child = n } else { child = Node() }
            child.set(Array(path.dropFirst()), json)
            values[name] = .node(child)
        }

        var text: String {
            JSONText.object(names.map { name in
                switch values[name]! {
                case .json(let j): return (name, j)
                case .node(let n): return (name, n.text)
                }
            })
        }
    }
}
