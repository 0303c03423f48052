/// Local time as a tariff sees it: dates, day classes (Monday–Sunday, holiday) and seasons in the
/// tariff's IANA zone, and for a billing span a table of what applies in each minute.
public struct TariffCalendar: Sendable {
    public let tariff: Tariff

    public init(_ tariff: Tariff) { self.tariff = tariff }

    /// The local date (days since 1970-01-01) and minute of the day of a UTC instant.
    public func local(_ t: UTCTime) -> (day: Int, minute: Int) {
        let s = t.milliseconds / 1000 + Int64(tariff.zone.offset(at: t))
        let day = Int(s >= 0 ? s / 86_400 : (s - 86_399) / 86_400)
        return (day, Int((s - Int64(day) * 86_400) / 60))
    }

    /// The instant a local date begins (its first minute; after a skipped midnight, the next one).
    public func midnight(_ day: Int) -> UTCTime {
        let (y, m, d) = CivilDate.civilFromDays(day)
        return tariff.zone.utc(year: y, month: m, day: d, hour: 0, minute: 0, second: 0)!
    }

    /// 0–6 for Monday–Sunday, 7 for a holiday.
    public func dayClass(_ day: Int) -> Int {
        if tariff.holidays.contains(day) { return 7 }
        return ((day % 7) + 7 + 3) % 7
    }

    /// The season index of a local date: the last season started on or before it (the year's last
    /// before the first start).
    public func season(_ day: Int) -> Int {
        let (_, m, d) = CivilDate.civilFromDays(day)
        var k = tariff.seasons.count - 1
        for (i, s) in tariff.seasons.enumerated() where (s.month, s.day) <= (m, d) { k = i }
        return k
    }

    /// The price version in force on a local date, nil before the first.
    public func version(_ day: Int) -> Int? {
        var k: Int?
        for (i, v) in tariff.versions.enumerated() where v.from <= day { k = i }
        return k
    }

    /// Whether `when` applies at a local date and minute.
    public func applies(_ w: Tariff.When, day: Int, minute: Int) -> Bool {
        w.seasons.contains(season(day)) && w.days.contains(dayClass(day)) && w.minutes.contains { $0.contains(minute) }
    }

    /// The time-of-use period at a local date and minute (the parser made sure there is one).
    public func period(day: Int, minute: Int) -> Int {
        let s = season(day), c = dayClass(day)
        for r in tariff.rules where r.when.seasons.contains(s) && r.when.days.contains(c)
            && r.when.minutes.contains(where: { $0.contains(minute) }) { return r.period }
        return 0
    }

    public static func dateText(_ day: Int) -> String {
        let (y, m, d) = CivilDate.civilFromDays(day)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(y)-\(two(m))-\(two(d))"
    }
}

/// What applies in each minute of a billing span [from, to): period, price version, tier-counter key,
/// and which demand charges (of `demandVersion`) the minute's window counts for.
public struct MinuteTable: Sendable {
    public struct Slot: Sendable {
        public var period: UInt8
        public var version: UInt8
        public var tierKey: Int32
        public var demandMask: UInt64
    }

    public let from: UTCTime
    public let to: UTCTime
    public let slots: [Slot]
    /// The version whose demand charges, minimum and taxes the bill uses: the one in force in its last minute.
    public let demandVersion: Int

    /// Fails when a minute of the span is before the tariff's first prices.
    public init(_ calendar: TariffCalendar, from: UTCTime, to: UTCTime) throws(BillingError) {
        let t = calendar.tariff
        guard from.milliseconds % 60_000 == 0, to.milliseconds % 60_000 == 0, from < to else {
            throw BillingError("the billing span must be whole minutes with from before to")
        }
        let count = Int((to.milliseconds - from.milliseconds) / 60_000)
        guard count <= 60 * 24 * 400 else { throw BillingError("a billing span longer than 400 days") }
        self.from = from
        self.to = to
        let lastLocal = calendar.local(UTCTime(milliseconds: to.milliseconds - 60_000))
        guard let dv = calendar.version(lastLocal.day) else {
            throw BillingError("tariff \(t.name) has no prices before \(TariffCalendar.dateText(t.versions[0].from))")
        }
        demandVersion = dv
        let demand = t.versions[dv].demand
        var out: [Slot] = []
        out.reserveCapacity(count)
        // Local dates change rarely: keep the day's facts while the date stays.
        var cachedDay = Int.min
        var version = 0, tierBase: Int32 = 0
        for i in 0..<count {
            let instant = UTCTime(milliseconds: from.milliseconds + Int64(i) * 60_000)
            let (day, minute) = calendar.local(instant)
            if day != cachedDay {
                guard let v = calendar.version(day) else {
                    throw BillingError("tariff \(t.name) has no prices before \(TariffCalendar.dateText(t.versions[0].from))")
                }
                version = v
                let (y, m, _) = CivilDate.civilFromDays(day)
                tierBase = t.tierReset == .day ? Int32(day) : Int32(y * 12 + m - 1)
                cachedDay = day
            }
            var mask: UInt64 = 0
            for (k, d) in demand.enumerated() where d.when.contains(where: { calendar.applies($0, day: day, minute: minute) }) {
                mask |= 1 << UInt64(k)
            }
            out.append(Slot(period: UInt8(calendar.period(day: day, minute: minute)), version: UInt8(version),
                            tierKey: tierBase, demandMask: mask))
        }
        slots = out
    }
}

/// A billing failure for the user (`ami-bill: …`).
public struct BillingError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A bill's start or end as given: a UTC instant, or a date that begins at local midnight in each
/// tariff's zone.
public enum BillTime: Sendable, Equatable {
    case instant(UTCTime)
    case localDate(Int)

    /// `YYYY-MM-DD` (a local date) or an ISO 8601 UTC time.
    public init?(_ text: String) {
        let p = text.split(separator: "-")
        if text.count == 10, p.count == 3, let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]),
           (1...12).contains(m), (1...CivilDate.daysIn(month: m, year: y)).contains(d) {
            self = .localDate(CivilDate.daysFromCivil(year: y, month: m, day: d))
        } else if let t = UTCTime(iso8601: text) {
            self = .instant(t)
        } else {
            return nil
        }
    }

    public func resolve(_ tariff: Tariff) -> UTCTime {
        switch self {
        case .instant(let t): t
        case .localDate(let d): TariffCalendar(tariff).midnight(d)
        }
    }
}
