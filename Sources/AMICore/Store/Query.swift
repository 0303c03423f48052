/// Which stored records `ami-store query` writes.
public struct QueryFilter: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case reading, event, frame }
    public var kinds: Set<Kind> = [.reading, .event]
    /// Meter identities; empty means all. A meter's predecessors (meters it replaced) come along
    /// unless `followReplacements` is false.
    public var meters: [String] = []
    public var followReplacements = true
    /// Meters under this hierarchy path (the node and its descendants).
    public var node: String?
    public var quantities: [String] = []
    /// Times in [from, to).
    public var from: UTCTime?
    public var to: UTCTime?
    public init() {}
}

extension MeterStore {
    /// Writes the stored records that `filter` selects, as ami-jsonl(5) records in the schema
    /// ami-decode writes (plus `interval` and `quality`): readings by meter, channel and time, then
    /// events by time, then frames in the order stored. Known-missing intervals (no value) are left out.
    public func query(_ filter: QueryFilter, _ emit: (Record) throws -> Void) throws {
        let (meterIDs, chainOrder) = try selectedMeters(filter)
        if filter.kinds.contains(.reading) { try queryReadings(filter, meterIDs, chainOrder, emit) }
        // Events have no quantity: a quantity filter leaves them out.
        if filter.kinds.contains(.event) && filter.quantities.isEmpty { try queryEvents(filter, meterIDs, emit) }
        if filter.kinds.contains(.frame) { try queryFrames(filter, emit) }
    }

    /// Meter ids to keep (nil for all), and the order of the named meters' chains: each
    /// predecessor before the meter that replaced it, so a channel's history reads on in time.
    func selectedMeters(_ filter: QueryFilter) throws -> (Set<Int64>?, [Int64]) {
        var ids: Set<Int64>?
        var order: [Int64] = []
        if !filter.meters.isEmpty {
            var found = Set<Int64>()
            for identity in filter.meters {
                guard var id = try db.scalar("SELECT id FROM meter WHERE identity = ?", [.text(identity)]) else {
                    throw StoreError("no meter \"\(identity)\" in the database")
                }
                var chain = [id]
                found.insert(id)
                while filter.followReplacements, let old = try db.scalar("SELECT replaces FROM meter WHERE id = ?", [.integer(id)]),
                      !found.contains(old) {
                    found.insert(old)
                    chain.append(old)
                    id = old
                }
                order += chain.reversed()
            }
            ids = found
        }
        if let path = filter.node {
            guard try db.scalar("SELECT id FROM node WHERE path = ?", [.text(path)]) != nil else {
                throw StoreError("no hierarchy node \"\(path)\"")
            }
            let s = try db.statement("""
                SELECT m.id FROM meter m JOIN node n ON n.id = m.node WHERE n.path = ?1 OR substr(n.path, 1, length(?1) + 1) = ?1 || '/'
                """)
            try s.bind(1, path)
            var under = Set<Int64>()
            while try s.step() { under.insert(s.int64(0)) }
            ids = ids.map { $0.intersection(under) } ?? under
        }
        return (ids, order)
    }

    /// `AND column >= ? AND column < ?` for the filter's times, with the values to bind.
    private func timeClause(_ column: String, _ filter: QueryFilter) -> (sql: String, values: [SQLiteValue]) {
        var sql = "", values: [SQLiteValue] = []
        if let f = filter.from {
            sql += " AND \(column) >= ?"
            values.append(.integer(f.milliseconds))
        }
        if let t = filter.to {
            sql += " AND \(column) < ?"
            values.append(.integer(t.milliseconds))
        }
        return (sql, values)
    }

    /// `AND column IN (…)` for the selected meter ids (one bound JSON array), nothing for all meters.
    private func meterClause(_ column: String, _ ids: Set<Int64>?) -> (sql: String, values: [SQLiteValue]) {
        guard let ids else { return ("", []) }
        return (" AND \(column) IN (SELECT value FROM json_each(?))",
                [.text("[" + ids.sorted().map(String.init).joined(separator: ",") + "]")])
    }

    private func queryReadings(_ filter: QueryFilter, _ ids: Set<Int64>?, _ chainOrder: [Int64],
                               _ emit: (Record) throws -> Void) throws {
        var sql = """
            SELECT m.identity, m.medium, c.quantity, c.obis, c.storage, c.tariff, c.subunit, c.function, c.unit, c.note,
                   c.interval, r.time, r.value, r.exponent, r.text, r.quality, r.source, r.frame
            FROM reading r JOIN channel c ON c.id = r.channel JOIN meter m ON m.id = c.meter
            WHERE (r.value IS NOT NULL OR r.text IS NOT NULL)
            """
        let meters = meterClause("c.meter", ids), times = timeClause("r.time", filter)
        sql += meters.sql + times.sql
        var values = meters.values + times.values
        if !filter.quantities.isEmpty {
            sql += " AND c.quantity IN (" + filter.quantities.map { _ in "?" }.joined(separator: ",") + ")"
            values += filter.quantities.map { .text($0) }
        }
        sql += " ORDER BY "
        if !chainOrder.isEmpty {
            sql += "CASE c.meter " + chainOrder.map { _ in "WHEN ? THEN ?" }.joined(separator: " ") + " END, "
            for (offset, id) in chainOrder.enumerated() { values += [.integer(id), .integer(Int64(offset))] }
        }
        sql += "m.identity, c.id, r.time"
        let s = try db.statement(sql)
        try s.bind(values)
        while try s.step() {
            let value: ReadingValue
            if let t = s.text(14) { value = .text(t) } else { value = .number(ExactDecimal(s.int64(12), exponent: Int(s.int64(13)))) }
            let interval = Int(s.int64(10))
            let reading = Reading(
                meter: s.text(0) ?? "", medium: s.text(1), quantity: Quantity(rawValue: s.text(2) ?? ""), obis: s.text(3),
                value: value, unit: s.text(8).map(Unit.init(rawValue:)), time: UTCTime(milliseconds: s.int64(11)),
                storage: s.optionalInt64(4).map { Int($0) }, tariff: s.optionalInt64(5).map { Int($0) },
                subunit: s.optionalInt64(6).map { Int($0) }, function: s.text(7).flatMap(RecordFunction.init(rawValue:)),
                note: s.text(9), interval: interval > 0 ? interval : nil, quality: qualityCodes.codes(s.int64(15)),
                provenance: try provenance(s.optionalInt64(16), frame: s.optionalInt64(17)))
            try emit(.reading(reading))
        }
    }

    private func provenance(_ source: Int64?, frame: Int64?) throws -> Provenance {
        guard let source, let k = try self.source(source), let p = ProtocolID(rawValue: k.protocolName) else {
            throw StoreError("a stored record has no known source or protocol")
        }
        return Provenance(protocolID: p, source: k.name, frame: Int(frame ?? 0))
    }

    private func queryEvents(_ filter: QueryFilter, _ ids: Set<Int64>?, _ emit: (Record) throws -> Void) throws {
        var sql = """
            SELECT m.identity, e.event, e.code, e.text, e.time, e.duration, e.duration_exponent, e.source, e.frame
            FROM event e LEFT JOIN meter m ON m.id = e.meter WHERE 1
            """
        let meters = meterClause("e.meter", ids), times = timeClause("e.time", filter)
        sql += meters.sql + times.sql + " ORDER BY e.time, e.id"
        let s = try db.statement(sql)
        try s.bind(meters.values + times.values)
        while try s.step() {
            var duration: ExactDecimal?
            if let d = s.optionalInt64(5) { duration = ExactDecimal(d, exponent: Int(s.optionalInt64(6) ?? 0)) }
            try emit(.event(Event(meter: s.text(0), event: s.text(1) ?? "", code: s.text(2), text: s.text(3),
                                  time: UTCTime(milliseconds: s.int64(4)), duration: duration,
                                  provenance: try provenance(s.optionalInt64(7), frame: s.optionalInt64(8)))))
        }
    }

    private func queryFrames(_ filter: QueryFilter, _ emit: (Record) throws -> Void) throws {
        var sql = "SELECT bytes, time, protocol, source, dir, meter FROM frame WHERE 1"
        let times = timeClause("ifnull(time, stored)", filter)
        sql += times.sql
        if !filter.meters.isEmpty {
            sql += " AND meter IN (" + filter.meters.map { _ in "?" }.joined(separator: ",") + ")"
        }
        sql += " ORDER BY id"
        let s = try db.statement(sql)
        try s.bind(times.values + filter.meters.map { .text($0) })
        while try s.step() {
            try emit(.frame(FrameRecord(bytes: s.blob(0) ?? [], time: s.optionalInt64(1).map(UTCTime.init(milliseconds:)),
                                        protocolName: s.text(2), source: s.text(3),
                                        direction: FrameRecord.Direction(rawValue: s.text(4) ?? "rx") ?? .rx,
                                        meter: s.text(5))))
        }
    }
}
