/// The calendar period reports sum by; period boundaries are local midnights (and hours, months) of
/// the report's time zone.
public enum ReportPeriod: String, Sendable, CaseIterable {
    case hour, day, month, total
}

/// What a report covers: the meters (by identity or hierarchy node, as `ami-store query` selects
/// them), quantities, the time window [from, to), the grouping and the calendar.
public struct ReportScope: Sendable {
    /// Meters, node, quantities and window; `kinds` is not used.
    public var filter = QueryFilter()
    /// `meter`, `all`, or the name of a hierarchy level (company, region, substation…).
    public var by = "meter"
    public var period = ReportPeriod.total
    public var zone = LocalTimeZone.utc
    public init() {}

    var from: Int64? { filter.from?.milliseconds }
    var to: Int64? { filter.to?.milliseconds }
}

/// A registry meter as reports see it.
public struct ReportMeter: Sendable {
    public var id: Int64
    public var identity: String
    public var medium: String?
    public var status: String
    public var multiplier: ExactDecimal
    public var node: String?
    public var installed: Int64?
    public var removed: Int64?
}

/// One stored reading.
struct StoredReading {
    var time: Int64
    /// Nil for a known-missing interval.
    var value: ExactDecimal?
    var quality: QualityFlag
}

/// A report over one store: the selected meters, their groups, the calendar, and the readings.
public final class ReportContext {
    public let store: MeterStore
    public let scope: ReportScope
    /// The selected meters, by identity.
    public private(set) var meters: [ReportMeter] = []
    private var meterByID: [Int64: ReportMeter] = [:]
    private var levelOfPath: [String: String] = [:]
    let days: LocalDays

    public init(store: MeterStore, scope: ReportScope) throws {
        self.store = store
        self.scope = scope
        days = LocalDays(zone: scope.zone)
        for n in try store.nodes() { levelOfPath[n.path] = n.level }
        if scope.by != "meter" && scope.by != "all" && !levelOfPath.values.contains(scope.by) {
            let levels = Set(levelOfPath.values).sorted()
            throw ReportError("no hierarchy level \"\(scope.by)\" (levels: "
                + (levels.isEmpty ? "none defined" : levels.joined(separator: ", ")) + "; or meter, all)")
        }
        let (ids, _) = try store.selectedMeters(scope.filter)
        let s = try store.db.statement("""
            SELECT m.id, m.identity, m.medium, m.status, m.multiplier, n.path, m.installed, m.removed
            FROM meter m LEFT JOIN node n ON n.id = m.node ORDER BY m.identity
            """)
        while try s.step() {
            let id = s.int64(0)
            if let ids, !ids.contains(id) { continue }
            let m = ReportMeter(id: id, identity: s.text(1) ?? "", medium: s.text(2), status: s.text(3) ?? "active",
                                multiplier: s.text(4).flatMap { ExactDecimal($0) } ?? ExactDecimal(1), node: s.text(5),
                                installed: s.optionalInt64(6), removed: s.optionalInt64(7))
            meters.append(m)
            meterByID[id] = m
        }
    }

    func meter(_ id: Int64) -> ReportMeter? { meterByID[id] }

    // MARK: groups

    /// The group a meter counts in: its identity, `all`, or the path of its ancestor node at the
    /// report's level (nil when it has none at that level).
    func group(_ m: ReportMeter) -> String? {
        switch scope.by {
        case "meter": return m.identity
        case "all": return "all"
        default:
            guard var path = m.node else { return nil }
            while true {
                if levelOfPath[path] == scope.by { return path }
                guard let slash = path.lastIndex(of: "/") else { return nil }
                path = String(path[..<slash])
            }
        }
    }

    /// `by` and `group` members of a row.
    func groupFields(_ group: String?) -> [(String, ReportValue)] {
        [("by", .text(scope.by)), ("group", group.map { .text($0) } ?? .null)]
    }

    // MARK: calendar

    /// The start of the period holding instant `t` (Int64.min for `total`).
    func periodStart(_ t: Int64) -> Int64 {
        switch scope.period {
        case .total: return Int64.min
        case .hour:
            let local = t + Int64(scope.zone.offset(at: UTCTime(milliseconds: t))) * 1000
            return t - floorMod(local, 3_600_000)
        case .day: return days.bounds(days.split(t).day)?.start ?? t
        case .month:
            let (y, m, _) = CivilDate.civilFromDays(days.split(t).day)
            return scope.zone.utc(year: y, month: m, day: 1, hour: 0, minute: 0, second: 0)?.milliseconds ?? t
        }
    }

    /// The end of the period that starts at `start` (nil for `total` without `--to`).
    func periodEnd(_ start: Int64) -> Int64? {
        switch scope.period {
        case .total: return scope.to
        case .hour: return start + 3_600_000
        case .day: return days.bounds(days.split(start).day + 1)?.start
        case .month:
            let (y, m, _) = CivilDate.civilFromDays(days.split(start).day)
            return scope.zone.utc(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1, hour: 0, minute: 0,
                                  second: 0)?.milliseconds
        }
    }

    /// `period`, `start` and `end` members of a row.
    func periodFields(_ start: Int64) -> [(String, ReportValue)] {
        let s: Int64? = start == Int64.min ? scope.from : start
        let e = periodEnd(start)
        return [("period", .text(scope.period.rawValue)), ("start", time(s)), ("end", time(e))]
    }

    func time(_ t: Int64?) -> ReportValue { t.map { .time(UTCTime(milliseconds: $0)) } ?? .null }

    /// True when instant `t` lies in the report's window.
    func inWindow(_ t: Int64) -> Bool { (scope.from.map { t >= $0 } ?? true) && (scope.to.map { t < $0 } ?? true) }

    // MARK: data

    /// The channels of the selected meters that `keep` accepts, by meter and id.
    func channels(_ keep: (StoredChannel) -> Bool) throws -> [StoredChannel] {
        try store.channels().filter { meterByID[$0.meter] != nil && keep($0) }
    }

    /// The readings of channel `c` stored at times in [from, to), in time order.
    func readings(_ c: StoredChannel, from: Int64?, to: Int64?, _ body: (StoredReading) throws -> Void) throws {
        let s = try store.db.statement("""
            SELECT time, value, exponent, quality FROM reading WHERE channel = ?1 AND time >= ?2 AND time < ?3 ORDER BY time
            """)
        try s.bind([.integer(c.id), .integer(from ?? Int64.min), .integer(to ?? Int64.max)])
        var rows: [StoredReading] = []
        while try s.step() {
            rows.append(StoredReading(time: s.int64(0), value: s.optionalInt64(1).map { ExactDecimal($0, exponent: Int(s.int64(2))) },
                                      quality: QualityFlag(rawValue: s.int64(3))))
        }
        for r in rows { try body(r) }
    }

    /// The last reading with a value of channel `c` before `t`.
    func reading(_ c: StoredChannel, before t: Int64) throws -> StoredReading? {
        let s = try store.db.statement("""
            SELECT time, value, exponent, quality FROM reading WHERE channel = ? AND time < ? AND value IS NOT NULL
            ORDER BY time DESC LIMIT 1
            """)
        try s.bind([.integer(c.id), .integer(t)])
        guard try s.step() else { return nil }
        let r = StoredReading(time: s.int64(0), value: ExactDecimal(s.int64(1), exponent: Int(s.int64(2))),
                              quality: QualityFlag(rawValue: s.int64(3)))
        s.reset()
        return r
    }

    /// The readings of interval channel `c` whose intervals start in the window (an interval reading
    /// is stored at the end of its interval).
    func intervals(_ c: StoredChannel, _ body: (StoredReading) throws -> Void) throws {
        try readings(c, from: scope.from.map { $0 + c.interval }, to: scope.to.map { $0 + c.interval }, body)
    }
}

func floorMod(_ a: Int64, _ b: Int64) -> Int64 {
    let r = a % b
    return r < 0 ? r + b : r
}
