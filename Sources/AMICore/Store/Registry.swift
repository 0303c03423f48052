/// A meter's registry entry, as imported and exported (ami-store(1), REGISTRY).
public struct MeterEntry: Sendable, Equatable {
    public var identity: String
    public var protocolName: String?
    public var address: String?
    public var medium: String?
    public var multiplier = ExactDecimal(1)
    public var installed: UTCTime?
    public var removed: UTCTime?
    public var status = "active"
    /// The hierarchy path of the node the meter belongs to.
    public var node: String?
    /// The identity of the meter this one replaced.
    public var replaces: String?
    /// The groups `ami-read fleet --group` selects it by.
    public var groups: [String] = []
    /// The options of `ami-read PROTOCOL` that read it, as compact JSON object text.
    public var read: String?

    public init(identity: String) { self.identity = identity }

    public static let csvHeader = ["meter", "protocol", "address", "medium", "multiplier", "installed", "removed", "status",
                                   "node", "replaces", "group", "read"]
    public static let statuses = ["active", "inactive", "removed"]

    var csvFields: [String] {
        [identity, protocolName ?? "", address ?? "", medium ?? "", multiplier.description, installed?.description ?? "",
         removed?.description ?? "", status, node ?? "", replaces ?? "", groups.joined(separator: ";"), read ?? ""]
    }

    /// Fields by the CSV header names (a missing or empty one is absent).
    init(fields f: [String: String]) throws(StoreError) {
        func opt(_ k: String) -> String? { f[k].flatMap { $0.isEmpty ? nil : $0 } }
        func time(_ k: String) throws(StoreError) -> UTCTime? {
            guard let t = opt(k) else { return nil }
            guard let v = UTCTime(iso8601: t) else { throw StoreError("\(k) \"\(t)\" is not an ISO 8601 time") }
            return v
        }
        guard let id = opt("meter") else { throw StoreError("no meter identity") }
        self.init(identity: id)
        protocolName = opt("protocol")
        address = opt("address")
        medium = opt("medium")
        if let m = opt("multiplier") {
            guard let d = ExactDecimal(m) else { throw StoreError("multiplier \"\(m)\" is not a decimal number") }
            multiplier = d
        }
        installed = try time("installed")
        removed = try time("removed")
        if let s = opt("status") {
            guard MeterEntry.statuses.contains(s) else { throw StoreError("status \"\(s)\" is not active, inactive or removed") }
            status = s
        }
        node = opt("node")
        replaces = opt("replaces")
        groups = opt("group")?.split(separator: ";").map(String.init) ?? []
        if let r = opt("read") {
            guard let value = try? JSONValue.parse(Array(r.utf8)), case .object = value else {
                throw StoreError("read is not a JSON object of ami-read options")
            }
            read = JSONText.render(value)
        }
    }

    /// The entry as a `{"type":"meter",…}` JSON line (without the newline).
    var jsonLine: String {
        var s = "{\"type\":\"meter\",\"v\":1,\"meter\":" + JSONText.quoted(identity)
        if let p = protocolName { s += ",\"protocol\":" + JSONText.quoted(p) }
        if let a = address { s += ",\"address\":" + JSONText.quoted(a) }
        if let m = medium { s += ",\"medium\":" + JSONText.quoted(m) }
        s += ",\"multiplier\":" + multiplier.description
        if let t = installed { s += ",\"installed\":\"\(t)\"" }
        if let t = removed { s += ",\"removed\":\"\(t)\"" }
        s += ",\"status\":" + JSONText.quoted(status)
        if let n = node { s += ",\"node\":" + JSONText.quoted(n) }
        if let r = replaces { s += ",\"replaces\":" + JSONText.quoted(r) }
        if groups.count == 1 { s += ",\"group\":" + JSONText.quoted(groups[0]) }
        if groups.count > 1 { s += ",\"group\":" + JSONText.render(.array(groups.map(JSONValue.string))) }
        if let r = read { s += ",\"read\":" + r }
        return s + "}"
    }
}

/// A hierarchy node: a `/`-separated path of names from the top, and the user's name for its level
/// (company, region, substation, building…).
public struct NodeEntry: Sendable, Equatable {
    public var path: String
    public var level: String

    public init(path: String, level: String) {
        self.path = path
        self.level = level
    }

    public static let csvHeader = ["path", "level"]

    var jsonLine: String {
        "{\"type\":\"node\",\"v\":1,\"path\":" + JSONText.quoted(path) + ",\"level\":" + JSONText.quoted(level) + "}"
    }

    var parentPath: String? { path.lastIndex(of: "/").map { String(path[..<$0]) } }
    var name: String { path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path }
}

/// Registry formats.
public enum RegistryFormat: String, Sendable, CaseIterable { case csv, jsonl }

extension MeterStore {
    // MARK: export

    /// The registry's meters (or the one named `identity`, found through the index), by identity.
    public func meters(identity: String? = nil) throws -> [MeterEntry] {
        let s = try db.statement("""
            SELECT m.identity, m.protocol, m.address, m.medium, m.multiplier, m.installed, m.removed, m.status, n.path, r.identity,
                m.groups, m.read_options
            FROM meter m LEFT JOIN node n ON n.id = m.node LEFT JOIN meter r ON r.id = m.replaces
            """ + (identity == nil ? " ORDER BY m.identity" : " WHERE m.identity = ?"))
        if let identity { try s.bind(1, identity) }
        var out: [MeterEntry] = []
        while try s.step() {
            var e = MeterEntry(identity: s.text(0) ?? "")
            e.protocolName = s.text(1)
            e.address = s.text(2)
            e.medium = s.text(3)
            e.multiplier = s.text(4).flatMap { ExactDecimal($0) } ?? ExactDecimal(1)
            e.installed = s.optionalInt64(5).map(UTCTime.init(milliseconds:))
            e.removed = s.optionalInt64(6).map(UTCTime.init(milliseconds:))
            e.status = s.text(7) ?? "active"
            e.node = s.text(8)
            e.replaces = s.text(9)
            if let g = s.text(10), case .array(let names)? = try? JSONValue.parse(Array(g.utf8)) {
                e.groups = names.compactMap(\.stringValue)
            }
            e.read = s.text(11)
            out.append(e)
        }
        return out
    }

    public func nodes() throws -> [NodeEntry] {
        let s = try db.statement("SELECT path, level FROM node ORDER BY path")
        var out: [NodeEntry] = []
        while try s.step() { out.append(NodeEntry(path: s.text(0) ?? "", level: s.text(1) ?? "")) }
        return out
    }

    /// The registry as text: nodes, then meters (JSON lines), or one kind as CSV.
    public func exportRegistry(format: RegistryFormat, nodes wantNodes: Bool, meters wantMeters: Bool) throws -> String {
        var out = ""
        switch format {
        case .jsonl:
            if wantNodes { for n in try nodes() { out += n.jsonLine + "\n" } }
            if wantMeters { for m in try meters() { out += m.jsonLine + "\n" } }
        case .csv:
            if wantNodes {
                out += CSVWriter.line(NodeEntry.csvHeader) + "\n"
                for n in try nodes() { out += CSVWriter.line([n.path, n.level]) + "\n" }
            }
            if wantMeters {
                out += CSVWriter.line(MeterEntry.csvHeader) + "\n"
                for m in try meters() { out += CSVWriter.line(m.csvFields) + "\n" }
            }
        }
        return out
    }

    // MARK: import

    /// Imports registry text (CSV with a `meter,…` or `path,level` header, or JSON lines of `meter`
    /// and `node` records) in one transaction; each bad record is reported through `reject` with its
    /// line and skipped. Returns how many records changed something.
    public func importRegistry(_ text: String, format: RegistryFormat, run: Int64?,
                               reject: (Int, String) -> Void) throws -> Int {
        var changed = 0
        try db.transaction {
            func apply(_ line: Int, _ body: () throws -> Bool) throws {
                do {
                    if try body() { changed += 1 }
                } catch let e as StoreError {
                    reject(line, e.description)
                }
            }
            do {
                try format.eachRecord(text, reject: reject) { r in
                    if let header = r.header {
                        let f = r.fields
                        if header == NodeEntry.csvHeader {
                            try apply(r.line) { try importNode(NodeEntry(path: f["path"] ?? "", level: f["level"] ?? ""), run: run) }
                        } else if header.first == "meter" {
                            try apply(r.line) { try importMeter(try MeterEntry(fields: f), run: run) }
                        } else {
                            throw StoreError("line 1: the header is neither meter,… nor path,level")
                        }
                        return
                    }
                    try apply(r.line) {
                        var f = r.fields
                        if let o = r.object {
                            // A meter's groups and ami-read options, in the CSV columns' form.
                            if case .array(let names)? = o["group"] {
                                let strings = names.compactMap(\.stringValue)
                                guard strings.count == names.count else { throw StoreError("group is a name or an array of names") }
                                f["group"] = strings.joined(separator: ";")
                            }
                            if let read = o["read"] {
                                guard case .object = read else { throw StoreError("read is not a JSON object of ami-read options") }
                                f["read"] = JSONText.render(read)
                            }
                        }
                        switch r.type {
                        case "node": return try importNode(NodeEntry(path: f["path"] ?? "", level: f["level"] ?? ""), run: run)
                        case "meter": return try importMeter(try MeterEntry(fields: f), run: run)
                        default: throw StoreError("not a meter or node record")
                        }
                    }
                }
            } catch let error as CSVReader.Failure {
                throw StoreError("line \(error.line): \(error.description)")
            }
        }
        return changed
    }

    private func importNode(_ n: NodeEntry, run: Int64?) throws -> Bool {
        guard !n.path.isEmpty, !n.level.isEmpty, !n.path.split(separator: "/", omittingEmptySubsequences: false).contains("") else {
            throw StoreError("a node needs a path of names separated by '/' and a level")
        }
        var parent: Int64?
        if let p = n.parentPath {
            guard let id = try db.scalar("SELECT id FROM node WHERE path = ?", [.text(p)]) else {
                throw StoreError("node \"\(n.path)\": its parent \"\(p)\" is not in the hierarchy")
            }
            parent = id
        }
        let s = try db.statement("SELECT level FROM node WHERE path = ?")
        try s.bind(1, n.path)
        if try s.step() {
            let old = s.text(0)
            s.reset()
            guard old != n.level else { return false }
            try db.run("UPDATE node SET level = ? WHERE path = ?", [.text(n.level), .text(n.path)])
            try audit(run: run, action: "update", entity: "node", key: n.path, old: "level \(old ?? "")", new: "level \(n.level)")
            return true
        }
        try db.run("INSERT INTO node(parent, level, name, path) VALUES (?, ?, ?, ?)",
                   [SQLiteValue(parent), .text(n.level), .text(n.name), .text(n.path)])
        try audit(run: run, action: "import", entity: "node", key: n.path, old: nil, new: "level \(n.level)")
        return true
    }

    private func importMeter(_ m: MeterEntry, run: Int64?) throws -> Bool {
        var nodeID: Int64?
        if let p = m.node {
            guard let id = try db.scalar("SELECT id FROM node WHERE path = ?", [.text(p)]) else {
                throw StoreError("meter \"\(m.identity)\": node \"\(p)\" is not in the hierarchy")
            }
            nodeID = id
        }
        var replacesID: Int64?
        if let r = m.replaces {
            guard let id = try db.scalar("SELECT id FROM meter WHERE identity = ?", [.text(r)]) else {
                throw StoreError("meter \"\(m.identity)\": the meter it replaces, \"\(r)\", is not in the registry")
            }
            replacesID = id
        }
        let groups = m.groups.isEmpty ? nil : JSONText.render(.array(m.groups.map(JSONValue.string)))
        let values: [SQLiteValue] = [SQLiteValue(m.protocolName), SQLiteValue(m.address), SQLiteValue(m.medium),
                                     .text(m.multiplier.description), SQLiteValue(m.installed?.milliseconds),
                                     SQLiteValue(m.removed?.milliseconds), .text(m.status), SQLiteValue(nodeID),
                                     SQLiteValue(replacesID), SQLiteValue(groups), SQLiteValue(m.read)]
        if let old = try meters(identity: m.identity).first {
            let registered = try db.scalar("SELECT registered = 'import' FROM meter WHERE identity = ?", [.text(m.identity)])
            if old == m && registered == 1 { return false }
            try db.run("""
                UPDATE meter SET protocol = ?, address = ?, medium = ?, multiplier = ?, installed = ?, removed = ?, status = ?,
                node = ?, replaces = ?, groups = ?, read_options = ?, registered = 'import' WHERE identity = ?
                """, values + [.text(m.identity)])
            let diff = zip(MeterEntry.csvHeader, zip(old.csvFields, m.csvFields)).filter { $0.1.0 != $0.1.1 }
            try audit(run: run, action: "update", entity: "meter", key: m.identity,
                      old: diff.map { "\($0.0)=\($0.1.0)" }.joined(separator: " "),
                      new: diff.map { "\($0.0)=\($0.1.1)" }.joined(separator: " "))
        } else {
            try db.run("""
                INSERT INTO meter(protocol, address, medium, multiplier, installed, removed, status, node, replaces, groups,
                                  read_options, registered, identity)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'import', ?)
                """, values + [.text(m.identity)])
            try audit(run: run, action: "import", entity: "meter", key: m.identity, old: nil, new: m.csvFields.joined(separator: ","))
        }
        if let r = replacesID { try linkChannels(meter: m.identity, predecessor: r) }
        return true
    }

    /// Sets `continues` on the channels of `meter` that match a channel of its predecessor.
    private func linkChannels(meter identity: String, predecessor: Int64) throws {
        try db.run("""
            UPDATE channel SET continues = (
                SELECT o.id FROM channel o WHERE o.meter = ?1 AND o.quantity = channel.quantity AND o.obis IS channel.obis
                AND o.storage IS channel.storage AND o.tariff IS channel.tariff AND o.subunit IS channel.subunit
                AND o.function IS channel.function AND o.unit IS channel.unit AND o.note IS channel.note
                AND o.interval = channel.interval)
            WHERE meter = (SELECT id FROM meter WHERE identity = ?2) AND continues IS NULL
            """, [.integer(predecessor), .text(identity)])
    }

    /// Meter replacement: `old` is removed at `time`, `new` (registered when unknown, with the old
    /// meter's protocol, medium and node) is installed then and continues its channels.
    public func replaceMeter(old: String, new: String, at time: UTCTime, run: Int64?) throws {
        try db.transaction {
            guard var o = try meters(identity: old).first else {
                throw StoreError("no meter \"\(old)\" in the registry")
            }
            guard old != new else { throw StoreError("a meter cannot replace itself") }
            var n = try meters(identity: new).first ?? {
                var e = MeterEntry(identity: new)
                e.protocolName = o.protocolName
                e.medium = o.medium
                e.node = o.node
                e.multiplier = o.multiplier
                return e
            }()
            o.removed = time
            o.status = "removed"
            n.installed = time
            n.status = "active"
            n.replaces = old
            _ = try importMeter(o, run: run)
            _ = try importMeter(n, run: run)
        }
    }
}
