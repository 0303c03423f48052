/// What a VEE pass checked and did.
public struct VEESummary: Sendable, Equatable {
    public var channels = 0
    /// Actual readings validated.
    public var checked = 0
    /// Readings newly flagged, by rule name (`QualityFlag.builtIn`).
    public var flagged: [String: Int] = [:]
    /// Intervals estimated (new or changed estimates), and by which method.
    public var estimated = 0
    public var estimatedBy: [String: Int] = [:]
    /// Intervals left known-missing (no estimator applied).
    public var missing = 0
    public init() {}
}

/// Runs VEE on the channels queued in `vee_pending`, a batch of channels per transaction: their
/// pending rows go in the same transaction as the flags and estimates, so a killed pass is redone.
public final class Validation {
    let store: MeterStore
    let config: VEEConfig
    let run: Int64?
    private var db: SQLiteDatabase { store.db }
    private var summary = VEESummary()
    private var channels: [Int64: StoredChannel] = [:]
    private var channelsOfMeter: [Int64: [StoredChannel]] = [:]
    private let days: LocalDays
    /// Channels per transaction.
    public var batchSize = 1000

    public init(store: MeterStore, config: VEEConfig, run: Int64?) {
        self.store = store
        self.config = config
        self.run = run
        days = LocalDays(zone: config.timeZone)
    }

    /// Queues every channel's whole time range (to validate a database again, e.g. after changing
    /// the config), then runs.
    public func runAll() throws -> VEESummary {
        try db.transaction {
            try db.execute("""
                INSERT INTO vee_pending(channel, first, last)
                SELECT channel, min(time), max(time) FROM reading WHERE true GROUP BY channel
                ON CONFLICT(channel) DO UPDATE SET first = min(first, excluded.first), last = max(last, excluded.last)
                """)
        }
        return try runPending()
    }

    /// Validates and estimates every queued channel.
    public func runPending() throws -> VEESummary {
        try loadChannels()
        while true {
            let done = try db.transaction { () throws -> Bool in
                let s = try db.statement("SELECT channel, first, last FROM vee_pending ORDER BY channel LIMIT ?")
                try s.bind(1, Int64(batchSize))
                var work: [(Int64, Int64, Int64)] = []
                while try s.step() { work.append((s.int64(0), s.int64(1), s.int64(2))) }
                if work.isEmpty { return true }
                if work.contains(where: { channels[$0.0] == nil }) { try loadChannels() }
                try process(work)
                let del = try db.statement("DELETE FROM vee_pending WHERE channel = ? AND first = ? AND last = ?")
                for w in work {
                    try del.bind(1, w.0)
                    try del.bind(2, w.1)
                    try del.bind(3, w.2)
                    try del.step()
                }
                return false
            }
            if done { return summary }
        }
    }

    private func loadChannels() throws {
        for c in try store.channels() { channels[c.id] = c }
        channelsOfMeter = Dictionary(grouping: channels.values, by: \.meter)
    }

    // MARK: one batch

    /// A time window of a channel to (re)validate.
    struct Work {
        var first: Int64
        var last: Int64
    }

    private func process(_ batch: [(Int64, Int64, Int64)]) throws {
        var byMeter: [Int64: [Int64: Work]] = [:]
        for (id, first, last) in batch {
            guard let c = channels[id] else { continue }
            byMeter[c.meter, default: [:]][id] = Work(first: first, last: last)
        }
        for (meter, work) in byMeter.sorted(by: { $0.key < $1.key }) { try process(meter: meter, work: work) }
    }

    private func process(meter: Int64, work pending: [Int64: Work]) throws {
        let activity = try self.activity(meter)
        let siblings = channelsOfMeter[meter] ?? []
        // Partners: the total register of a pending interval channel or tariff register.
        var work = pending
        for (id, w) in pending {
            guard let c = channels[id] else { continue }
            for p in siblings where p.id != id && p.isTotalRegister && p.quantity == c.quantity && p.unit == c.unit {
                if c.interval > 0 || (c.isTariffRegister && p.obis != nil && p.touGroup == c.touGroup) {
                    let old = work[p.id]
                    work[p.id] = Work(first: min(old?.first ?? w.first, w.first), last: max(old?.last ?? w.last, w.last))
                }
            }
        }
        // Readings within `margin` of what changed are validated again, with as much again on each
        // side as context: enough for a run of zeros, a gap to interpolate, or a previous valid value.
        let margin = max(86_400_000, config.maxInterpolation * 1000, config.zeroRun * 1000)
        let context = 2 * margin
        var registerPoints: [Int64: [Point]] = [:]
        // Registers first: the interval estimator spreads their advances.
        for (id, w) in work.sorted(by: { $0.key < $1.key }) {
            guard let c = channels[id], c.interval == 0 else { continue }
            let rules = Rules(config: config, quantity: Quantity(rawValue: c.quantity), exponent: c.exponent, activity: activity)
            let rows = try load(c, from: w.first - context, to: w.last + context)
            registerPoints[id] = rows.actual
            var flags = c.isCumulative ? rules.registers(rows.actual) : rules.thresholdsOnly(rows.actual)
            // Advance against the intervals of the same quantity.
            if c.isTotalRegister {
                for p in siblings where p.interval > 0 && p.quantity == c.quantity && p.unit == c.unit {
                    let intervals = try load(p, from: w.first - context, to: w.last + context, exponent: c.exponent).actual
                    let a = rules.advances(registers: rows.actual, intervals: intervals, interval: p.interval)
                    for i in flags.indices { flags[i].formUnion(a[i]) }
                }
                let tariffs = siblings.filter { $0.isTariffRegister && $0.touGroup == c.touGroup }
                if c.obis != nil && !tariffs.isEmpty {
                    let series = try tariffs.map { try load($0, from: w.first - context, to: w.last + context, exponent: c.exponent).actual }
                    let t = rules.tou(total: rows.actual, tariffs: series)
                    for i in flags.indices { flags[i].formUnion(t[i]) }
                }
            }
            if c.quantity == Quantity.clock.rawValue {
                for t in rows.texts where t.quality & QualityFlag.clock.rawValue == 0 && rules.clockOff(text: t.text, time: t.time) {
                    try setFlags(c, time: t.time, old: t.quality, new: t.quality | QualityFlag.clock.rawValue)
                }
            }
            try write(c, rows.actual, flags, within: (w.first - margin)...(w.last + margin))
        }
        for (id, w) in work.sorted(by: { $0.key < $1.key }) {
            guard let c = channels[id], c.interval > 0, pending[id] != nil else { continue }
            let rules = Rules(config: config, quantity: Quantity(rawValue: c.quantity), exponent: c.exponent, activity: activity)
            let rows = try load(c, from: w.first - context, to: w.last + context)
            try write(c, rows.actual, rules.intervals(rows.actual, interval: c.interval), within: (w.first - margin)...(w.last + margin))
            let register = siblings.first { $0.isTotalRegister && $0.quantity == c.quantity && $0.unit == c.unit }
            var registerSeries: [Point] = []
            if let r = register {
                registerSeries = try registerPoints[r.id].map { rescale($0, from: r.exponent, to: c.exponent) }
                    ?? load(r, from: w.first - context, to: w.last + context, exponent: c.exponent).actual
            }
            try estimate(c, rows, register: registerSeries)
        }
    }

    private func activity(_ meter: Int64) throws -> MeterActivity {
        let s = try db.statement("SELECT status, installed, removed FROM meter WHERE id = ?")
        try s.bind(1, meter)
        guard try s.step() else { return MeterActivity() }
        let a = MeterActivity(status: s.text(0) ?? "active", installed: s.optionalInt64(1), removed: s.optionalInt64(2))
        s.reset()
        return a
    }

    // MARK: loading and writing

    struct Rows {
        /// Actual numeric readings, values at the requested exponent.
        var actual: [Point] = []
        /// Sources of the actual readings (parallel to `actual`).
        var sources: [Int64?] = []
        /// Estimates and known-missing rows: time → (value, quality).
        var estimates: [Int64: (value: Int128?, quality: Int64)] = [:]
        /// Text readings.
        var texts: [(time: Int64, text: String, quality: Int64)] = []
    }

    private func load(_ c: StoredChannel, from: Int64, to: Int64, exponent: Int? = nil) throws -> Rows {
        let e = exponent ?? c.exponent
        let s = try db.statement("SELECT time, value, exponent, text, quality, source FROM reading WHERE channel = ? AND time BETWEEN ? AND ?")
        try s.bind(1, c.id)
        try s.bind(2, from)
        try s.bind(3, to)
        var rows = Rows()
        rows.actual.reserveCapacity(Int(min(max((to - from) / max(c.interval, 1), 0), 100_000)) + 1)
        let estimateMask = QualityFlag.estimated.rawValue | QualityFlag.missing.rawValue
        while try s.step() {
            let time = s.int64(0), quality = s.int64(4)
            if quality & estimateMask != 0 {
                let v = s.optionalInt64(1).flatMap { Scaled.at($0, Int(s.int64(2)), e) }
                rows.estimates[time] = (v.map { Int128($0) }, quality)
                continue
            }
            if let t = s.text(3) {
                rows.texts.append((time, t, quality))
                continue
            }
            guard let v = s.optionalInt64(1) else { continue }
            let ve = Int(s.int64(2))
            // A value finer than the series' exponent is compared at that exponent, truncated: rare
            // enough (a meter changing its resolution) not to warrant a second exponent. One too
            // large to be an Int64 at the series' exponent is left out of VEE.
            let value: Int64
            if ve >= e {
                guard let scaled = Scaled.at(v, ve, e) else { continue }
                value = scaled
            } else {
                value = e - ve > 18 ? 0 : v / Int64(truncatingIfNeeded: Scaled.pow10(e - ve))
            }
            rows.actual.append(Point(time: time, value: Int128(value), quality: quality))
            rows.sources.append(s.optionalInt64(5))
        }
        return rows
    }

    private func rescale(_ p: [Point], from e: Int, to target: Int) -> [Point] {
        guard e != target else { return p }
        return p.map { q in
            var q = q
            q.value = e > target ? Scaled.mul(q.value, Scaled.pow10(e - target)) : q.value / Scaled.pow10(target - e)
            return q
        }
    }

    /// Writes the validation flags of the points within `range` that changed; counts newly set
    /// flags by rule and audits per channel.
    private func write(_ c: StoredChannel, _ points: [Point], _ flags: [QualityFlag], within range: ClosedRange<Int64>) throws {
        summary.channels += 1
        var changed = 0
        for i in points.indices where range.contains(points[i].time) {
            summary.checked += 1
            let old = points[i].quality
            let new = (old & ~QualityFlag.validation.rawValue) | flags[i].rawValue
            if new != old {
                try setFlags(c, time: points[i].time, old: old, new: new)
                changed += 1
            }
        }
        if changed > 0, let first = points.first?.time, let last = points.last?.time {
            try store.audit(run: run, action: "validate", entity: "channel", key: String(c.id), old: nil,
                            new: "\(changed) readings' flags changed between \(UTCTime(milliseconds: first)) and \(UTCTime(milliseconds: last))")
        }
    }

    private func setFlags(_ c: StoredChannel, time: Int64, old: Int64, new: Int64) throws {
        try db.run("UPDATE reading SET quality = ? WHERE channel = ? AND time = ?", [.integer(new), .integer(c.id), .integer(time)])
        let added = new & ~old
        for f in QualityFlag.builtIn where added & (1 << f.bit) != 0 { summary.flagged[f.rule, default: 0] += 1 }
    }

    // MARK: estimation

    /// Fills the gaps between actual intervals: a register advance spread over them when register
    /// readings bracket the gap, else linear interpolation up to `maxInterpolation`, else the like-day
    /// average; what none can fill is stored as known missing.
    private func estimate(_ c: StoredChannel, _ rows: Rows, register: [Point]) throws {
        let p = rows.actual
        guard p.count >= 2 else { return }
        var results: [Int64: (Int128?, EstimateMethod?)] = [:]
        var likeDayCache: [Int: [Int64: Int128]?] = [:]
        for i in p.indices.dropFirst() {
            let a = p[i - 1], b = p[i]
            // Gaps longer than the like-day window are left as they are (a meter off the network).
            guard b.time - a.time > c.interval, b.time - a.time <= Int64(config.likeDayWindow) * 86_400_000 else { continue }
            let slots = Array(stride(from: a.time + c.interval, to: b.time, by: Int(c.interval)))
            if results[slots[0]] != nil { continue }
            if let spread = spreadAdvance(c, slots: slots, actual: p, register: register) {
                for (t, v) in spread { results[t] = (v, .registerSpread) }
                continue
            }
            if Int64(slots.count) * c.interval <= config.maxInterpolation * 1000 {
                for (t, v) in zip(slots, Estimators.interpolate(a.value, b.value, count: slots.count)) {
                    results[t] = (v, .interpolation)
                }
                continue
            }
            for t in slots {
                results[t] = try likeDay(c, slot: t, cache: &likeDayCache).map { ($0, .likeDay) } ?? (nil, nil)
            }
        }
        guard !results.isEmpty else { return }
        let protocolName = try rows.sources.compactMap { $0 }.first.flatMap { try store.source($0)?.protocolName }
        let source = try protocolName.map { try store.sourceID(protocolName: $0, name: "ami-store:vee") }
        for (t, r) in results.sorted(by: { $0.key < $1.key }) {
            let quality = r.0 == nil ? QualityFlag.missing.rawValue : QualityFlag.estimated.rawValue
            let existing = rows.estimates[t]
            if let e = existing, e.value == r.0, e.quality == quality { continue }
            var value: Int64?
            if let v = r.0 {
                guard let exact = Int64(exactly: v) else { continue }
                value = exact
            }
            if existing != nil {
                try store.moveToHistory(channel: c.id, time: t, run: run)
            }
            try db.run("""
                INSERT INTO reading(channel, time, value, exponent, quality, source) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(channel, time) DO UPDATE SET value = excluded.value, exponent = excluded.exponent,
                quality = excluded.quality, source = excluded.source, frame = NULL WHERE reading.quality & 3 != 0
                """, [.integer(c.id), .integer(t), SQLiteValue(value), .integer(Int64(c.exponent)), .integer(quality),
                      SQLiteValue(source)])
            let when = UTCTime(milliseconds: t)
            if let m = r.1 {
                summary.estimated += 1
                summary.estimatedBy[m.rawValue, default: 0] += 1
                try store.audit(run: run, action: "estimate", entity: "reading", key: "channel \(c.id) at \(when)",
                                old: existing.map { $0.value.map { "value \(ExactDecimal(Int64($0), exponent: c.exponent))" } ?? "missing" },
                                new: "value \(ExactDecimal(value ?? 0, exponent: c.exponent)) by \(m.rawValue)")
            } else {
                summary.missing += 1
            }
        }
    }

    /// The register advance over the missing slots, spread evenly, when register readings on the
    /// interval grid bracket them and every other interval between those readings is actual.
    private func spreadAdvance(_ c: StoredChannel, slots: [Int64], actual: [Point], register: [Point]) -> [(Int64, Int128)]? {
        guard let firstSlot = slots.first, let lastSlot = slots.last else { return nil }
        // The register readings just before the gap's first interval starts and at or after its last ends.
        guard let r0 = register.last(where: { $0.time <= firstSlot - c.interval && $0.time % c.interval == 0 }),
              let r1 = register.first(where: { $0.time >= lastSlot && $0.time % c.interval == 0 }) else { return nil }
        var sum: Int128 = 0
        var missing: [Int64] = []
        let byTime = Dictionary(actual.filter { $0.time > r0.time && $0.time <= r1.time }.map { ($0.time, $0.value) },
                                uniquingKeysWith: { a, _ in a })
        var t = r0.time + c.interval
        while t <= r1.time {
            if let v = byTime[t] { sum += v } else { missing.append(t) }
            t += c.interval
        }
        guard missing == slots, let parts = Estimators.spread(r1.value - r0.value - sum, count: slots.count) else { return nil }
        return Array(zip(slots, parts))
    }

    /// The like-day estimate of the interval ending at `slot`: the average of the same local time
    /// of day on the nearest like days (same weekday, within the window) whose data is complete and
    /// actual.
    private func likeDay(_ c: StoredChannel, slot: Int64, cache: inout [Int: [Int64: Int128]?]) throws -> Int128? {
        let (day, timeOfDay) = days.split(slot - c.interval)
        var values: [Int128] = []
        for d in Estimators.likeDayCandidates(of: day, window: config.likeDayWindow) {
            if cache[d] == nil { cache[d] = try completeDay(c, day: d) }
            guard let profile = cache[d] ?? nil, let v = profile[timeOfDay] else { continue }
            values.append(v)
            if values.count == config.likeDays { break }
        }
        return Estimators.average(values)
    }

    /// The actual intervals of a local day by the local time of day at which each starts (the first
    /// when a time repeats), or nil when the day is not complete with actual data.
    private func completeDay(_ c: StoredChannel, day: Int) throws -> [Int64: Int128]? {
        guard let (start, end) = days.bounds(day) else { return nil }
        let rows = try load(c, from: start + c.interval, to: end)
        guard rows.estimates.isEmpty, Int64(rows.actual.count) * c.interval == end - start else { return nil }
        var profile: [Int64: Int128] = [:]
        for p in rows.actual {
            let tod = days.split(p.time - c.interval).timeOfDay
            if profile[tod] == nil { profile[tod] = p.value }
        }
        return profile
    }
}

extension MeterStore {
    /// Copies the stored reading at (channel, time) into `reading_history` (inside the caller's
    /// transaction).
    func moveToHistory(channel: Int64, time: Int64, run: Int64?) throws(SQLiteError) {
        try db.run("""
            INSERT INTO reading_history(channel, time, value, exponent, text, quality, source, frame, replaced, run)
            SELECT channel, time, value, exponent, text, quality, source, frame, ?, ? FROM reading WHERE channel = ? AND time = ?
            """, [.integer(MeterStore.now().milliseconds), SQLiteValue(run), .integer(channel), .integer(time)])
    }
}
