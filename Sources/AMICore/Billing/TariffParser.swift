/// A tariff file that cannot be used: the file, the member (a JSON path such as
/// `prices[1].energy.peak`) and what is wrong with it.
public struct TariffError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let field: String
    public let message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)" }
}

/// Reads ami-tariff(5) files: one JSON object, checked whole (calendar coverage without gaps or
/// overlaps, prices present and not negative, dates in order) before a `Tariff` is made.
public struct TariffParser {
    let file: String

    public init(file: String) { self.file = file }

    /// Parses the tariff file's bytes.
    public static func parse(_ bytes: [UInt8], file: String) throws(TariffError) -> Tariff {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw TariffError(file: file, field: "", message: "not JSON: \(error.message) at byte \(error.offset)")
        }
        return try TariffParser(file: file).tariff(root)
    }

    func fail(_ field: String, _ message: String) -> TariffError { TariffError(file: file, field: field, message: message) }

    func object(_ v: JSONValue?, _ field: String) throws(TariffError) -> [String: JSONValue] {
        guard case .object(let o)? = v else { throw fail(field, "wants an object") }
        return o
    }

    func array(_ v: JSONValue?, _ field: String) throws(TariffError) -> [JSONValue] {
        guard case .array(let a)? = v else { throw fail(field, "wants an array") }
        return a
    }

    func string(_ v: JSONValue?, _ field: String) throws(TariffError) -> String {
        guard case .string(let s)? = v, !s.isEmpty else { throw fail(field, "wants a non-empty string") }
        return s
    }

    func checkKeys(_ o: [String: JSONValue], _ allowed: Set<String>, _ field: String) throws(TariffError) {
        for k in o.keys.sorted() where !allowed.contains(k) {
            throw fail(field.isEmpty ? k : field + "." + k, "unknown member")
        }
    }

    /// A non-negative exact decimal (a JSON number or a string of one) as nano-units.
    func amount(_ v: JSONValue?, _ field: String) throws(TariffError) -> Nano {
        let text: String
        switch v {
        case .number(let t)?: text = t
        case .string(let t)?: text = t
        default: throw fail(field, "wants a decimal number")
        }
        guard let d = ExactDecimal(text), let n = Nano(d) else {
            throw fail(field, "'\(text)' is not a decimal number with at most 9 decimals")
        }
        guard n.raw >= 0 else { throw fail(field, "negative price \(text)") }
        return n
    }

    func money(_ v: JSONValue?, _ field: String, minorUnits: Int) throws(TariffError) -> Int64 {
        let n = try amount(v, field)
        var d: Int128 = 1
        for _ in 0..<(Nano.scale - minorUnits) { d *= 10 }
        guard n.raw % d == 0 else { throw fail(field, "\(n) has more decimals than the currency's \(minorUnits)") }
        return Int64(n.raw / d)
    }

    /// `YYYY-MM-DD` as days since 1970-01-01.
    func date(_ v: JSONValue?, _ field: String) throws(TariffError) -> Int {
        let s = try string(v, field)
        let p = s.split(separator: "-")
        guard p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (1...12).contains(m),
              (1...CivilDate.daysIn(month: m, year: y)).contains(d)
        else { throw fail(field, "'\(s)' is not a date YYYY-MM-DD") }
        return CivilDate.daysFromCivil(year: y, month: m, day: d)
    }

    /// `HH:MM` (00:00–24:00) as minutes.
    func minute(_ v: JSONValue?, _ field: String) throws(TariffError) -> Int {
        let s = try string(v, field)
        let p = s.split(separator: ":")
        guard p.count == 2, p[0].count == 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]),
              (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440
        else { throw fail(field, "'\(s)' is not a time of day HH:MM") }
        return h * 60 + m
    }

    static let dayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    func days(_ v: JSONValue?, _ field: String) throws(TariffError) -> [Int] {
        guard let v else { return Array(0..<8) }
        var out = Set<Int>()
        for (i, d) in try array(v, field).enumerated() {
            let name = try string(d, "\(field)[\(i)]")
            switch name {
            case "weekday": out.formUnion(0..<5)
            case "weekend": out.formUnion([5, 6])
            case "holiday": out.insert(7)
            case "all": out.formUnion(0..<8)
            default:
                guard let k = Self.dayNames.firstIndex(of: name) else {
                    throw fail("\(field)[\(i)]", "'\(name)' is not a day (monday…sunday, weekday, weekend, holiday, all)")
                }
                out.insert(k)
            }
        }
        guard !out.isEmpty else { throw fail(field, "names no day") }
        return out.sorted()
    }

    func hours(_ v: JSONValue?, _ field: String) throws(TariffError) -> [Range<Int>] {
        guard let v else { return [0..<1440] }
        var out: [Range<Int>] = []
        for (i, pair) in try array(v, field).enumerated() {
            let f = "\(field)[\(i)]"
            let a = try array(pair, f)
            guard a.count == 2 else { throw fail(f, "wants [\"HH:MM\", \"HH:MM\"]") }
            let from = try minute(a[0], f + "[0]"), to = try minute(a[1], f + "[1]")
            guard from != to else { throw fail(f, "an empty range") }
            if from < to { out.append(from..<to) } else {
                // Past midnight: the end of the day and the start of the same day class.
                if from < 1440 { out.append(from..<1440) }
                if to > 0 { out.append(0..<to) }
            }
        }
        return out
    }

    func when(_ o: [String: JSONValue], _ field: String, seasons: [Tariff.Season]) throws(TariffError) -> Tariff.When {
        var s: [Int] = Array(seasons.indices)
        if let v = o["seasons"] {
            s = []
            for (i, n) in try array(v, field + ".seasons").enumerated() {
                let name = try string(n, "\(field).seasons[\(i)]")
                guard let k = seasons.firstIndex(where: { $0.name == name }) else {
                    throw fail("\(field).seasons[\(i)]", "no season '\(name)'")
                }
                s.append(k)
            }
        }
        return Tariff.When(seasons: s, days: try days(o["days"], field + ".days"),
                           minutes: try hours(o["hours"], field + ".hours"))
    }

    func tariff(_ root: JSONValue) throws(TariffError) -> Tariff {
        let o = try object(root, "")
        try checkKeys(o, ["tariff", "medium", "quantity", "unit", "currency", "minor_units", "time_zone", "tier_reset",
                          "seasons", "holidays", "time_of_use", "prices", "prepaid", "comment"], "")
        let name = try string(o["tariff"], "tariff")
        let medium = try string(o["medium"], "medium")
        guard ["electricity", "water", "gas", "heat"].contains(medium) else {
            throw fail("medium", "'\(medium)' is not electricity, water, gas or heat")
        }
        let unitName = try string(o["unit"], "unit")
        guard let unit = BillingUnit.named(unitName) else {
            throw fail("unit", "'\(unitName)' is not one of " + BillingUnit.known.map(\.name).joined(separator: ", "))
        }
        let quantity = try o["quantity"].map { v throws(TariffError) in try string(v, "quantity") }
            ?? (unit.base == "m3" ? "volume" : "energy")
        let currency = try string(o["currency"], "currency")
        var minorUnits = 2
        if let v = o["minor_units"] {
            guard let t = v.numberText, let n = Int(t), (0...6).contains(n) else { throw fail("minor_units", "wants 0 to 6") }
            minorUnits = n
        }
        let zoneName = try string(o["time_zone"], "time_zone")
        guard let zone = LocalTimeZone(zoneName) else { throw fail("time_zone", "'\(zoneName)' is not an IANA time zone") }
        var tierReset = Tariff.TierReset.month
        if let v = o["tier_reset"] {
            let s = try string(v, "tier_reset")
            guard let r = Tariff.TierReset(rawValue: s) else { throw fail("tier_reset", "is month or day, not '\(s)'") }
            tierReset = r
        }

        var seasons: [Tariff.Season] = []
        if let v = o["seasons"] {
            for (i, s) in try array(v, "seasons").enumerated() {
                let f = "seasons[\(i)]"
                let so = try object(s, f)
                try checkKeys(so, ["name", "from"], f)
                let n = try string(so["name"], f + ".name")
                let from = try string(so["from"], f + ".from")
                let p = from.split(separator: "-")
                guard p.count == 2, let m = Int(p[0]), let d = Int(p[1]), (1...12).contains(m),
                      (1...CivilDate.daysIn(month: m, year: 2000)).contains(d)
                else { throw fail(f + ".from", "'\(from)' is not a month and day MM-DD") }
                guard !seasons.contains(where: { $0.name == n }) else { throw fail(f + ".name", "season '\(n)' named twice") }
                guard !seasons.contains(where: { $0.month == m && $0.day == d }) else {
                    throw fail(f + ".from", "two seasons start on \(from)")
                }
                seasons.append(Tariff.Season(name: n, month: m, day: d))
            }
            guard !seasons.isEmpty else { throw fail("seasons", "is empty") }
            seasons.sort { ($0.month, $0.day) < ($1.month, $1.day) }
        } else {
            seasons = [Tariff.Season(name: "all", month: 1, day: 1)]
        }

        var holidays = Set<Int>()
        if let v = o["holidays"] {
            for (i, d) in try array(v, "holidays").enumerated() { holidays.insert(try date(d, "holidays[\(i)]")) }
        }

        var periods: [String] = []
        var rules: [Tariff.TimeRule] = []
        if let v = o["time_of_use"] {
            for (i, r) in try array(v, "time_of_use").enumerated() {
                let f = "time_of_use[\(i)]"
                let ro = try object(r, f)
                try checkKeys(ro, ["period", "seasons", "days", "hours"], f)
                let p = try string(ro["period"], f + ".period")
                if !periods.contains(p) { periods.append(p) }
                rules.append(Tariff.TimeRule(period: periods.firstIndex(of: p)!, when: try when(ro, f, seasons: seasons)))
            }
            guard !rules.isEmpty else { throw fail("time_of_use", "is empty") }
            guard periods.count <= 255 else { throw fail("time_of_use", "more than 255 periods") }
        } else {
            periods = ["all"]
            rules = [Tariff.TimeRule(period: 0, when: Tariff.When(seasons: Array(seasons.indices), days: Array(0..<8),
                                                                  minutes: [0..<1440]))]
        }
        try checkCoverage(rules, periods: periods, seasons: seasons, holidays: !holidays.isEmpty)

        var versions: [Tariff.PriceVersion] = []
        for (i, v) in try array(o["prices"], "prices").enumerated() {
            let version = try priceVersion(v, "prices[\(i)]", periods: periods, rules: rules, seasons: seasons,
                                           minorUnits: minorUnits)
            if let last = versions.last, version.from <= last.from {
                throw fail("prices[\(i)].from", "not after the previous version's date")
            }
            versions.append(version)
        }
        guard !versions.isEmpty else { throw fail("prices", "is empty") }
        guard versions.count <= 255 else { throw fail("prices", "more than 255 versions") }

        var prepaid: PrepaidPolicy?
        if let v = o["prepaid"] {
            let po = try object(v, "prepaid")
            try checkKeys(po, ["warn", "emergency_credit", "debt_recovery", "friendly"], "prepaid")
            var friendly: [Tariff.When] = []
            if let fv = po["friendly"] {
                for (i, w) in try array(fv, "prepaid.friendly").enumerated() {
                    let f = "prepaid.friendly[\(i)]"
                    let wo = try object(w, f)
                    try checkKeys(wo, ["seasons", "days", "hours"], f)
                    friendly.append(try when(wo, f, seasons: seasons))
                }
            }
            let share = try po["debt_recovery"].map { v throws(TariffError) in try amount(v, "prepaid.debt_recovery") } ?? .zero
            guard share.raw <= Nano.one else { throw fail("prepaid.debt_recovery", "a share above 1") }
            prepaid = PrepaidPolicy(
                warn: try po["warn"].map { v throws(TariffError) in try money(v, "prepaid.warn", minorUnits: minorUnits) } ?? 0,
                emergencyCredit: try po["emergency_credit"].map { v throws(TariffError) in
                    try money(v, "prepaid.emergency_credit", minorUnits: minorUnits) } ?? 0,
                debtRecovery: share, friendly: friendly)
        }
        return Tariff(name: name, medium: medium, quantity: quantity, unit: unit, currency: currency,
                      minorUnits: minorUnits, zone: zone, tierReset: tierReset, seasons: seasons, holidays: holidays,
                      periods: periods, rules: rules, versions: versions, prepaid: prepaid)
    }

    /// Every minute of every season and day class (holidays only when the tariff lists some) is in
    /// exactly one time-of-use rule's period.
    func checkCoverage(_ rules: [Tariff.TimeRule], periods: [String], seasons: [Tariff.Season], holidays: Bool) throws(TariffError) {
        var owner = [Int16](repeating: -1, count: seasons.count * 8 * 1440)
        for (i, r) in rules.enumerated() {
            for s in r.when.seasons {
                for d in r.when.days {
                    for range in r.when.minutes {
                        for m in range {
                            let k = (s * 8 + d) * 1440 + m
                            if owner[k] >= 0 {
                                let j = Int(owner[k])
                                throw fail("time_of_use[\(i)]", "period '\(periods[r.period])' overlaps time_of_use[\(j)] "
                                           + "('\(periods[rules[j].period])') in season \(seasons[s].name) on "
                                           + "\(Self.dayClassName(d)) at \(Self.clock(m))")
                            }
                            owner[k] = Int16(i)
                        }
                    }
                }
            }
        }
        for s in seasons.indices {
            for d in 0..<(holidays ? 8 : 7) {
                for m in 0..<1440 where owner[(s * 8 + d) * 1440 + m] < 0 {
                    throw fail("time_of_use", "gap in the calendar: no period covers season \(seasons[s].name) on "
                               + "\(Self.dayClassName(d)) at \(Self.clock(m))")
                }
            }
        }
    }

    static func dayClassName(_ d: Int) -> String { d == 7 ? "holidays" : dayNames[d] + "s" }
    static func clock(_ m: Int) -> String {
        let h = m / 60, mm = m % 60
        return (h < 10 ? "0" : "") + String(h) + ":" + (mm < 10 ? "0" : "") + String(mm)
    }

    func tiers(_ v: JSONValue?, _ field: String) throws(TariffError) -> [Tariff.Tier] {
        switch v {
        case .array(let a)?:
            var out: [Tariff.Tier] = []
            for (i, t) in a.enumerated() {
                let f = "\(field)[\(i)]"
                let to = try object(t, f)
                try checkKeys(to, ["up_to", "price"], f)
                let price = try amount(to["price"], f + ".price")
                var upTo: Nano?
                if i < a.count - 1 {
                    let u = try amount(to["up_to"], f + ".up_to")
                    if let prev = out.last?.upTo, u <= prev { throw fail(f + ".up_to", "not above the previous tier's") }
                    guard u.raw > 0 else { throw fail(f + ".up_to", "wants a limit above 0") }
                    upTo = u
                } else if to["up_to"] != nil {
                    throw fail(f + ".up_to", "the last tier has no limit")
                }
                out.append(Tariff.Tier(upTo: upTo, price: price))
            }
            guard !out.isEmpty else { throw fail(field, "no tiers") }
            return out
        default:
            return [Tariff.Tier(upTo: nil, price: try amount(v, field))]
        }
    }

    func priceVersion(_ v: JSONValue, _ field: String, periods: [String], rules: [Tariff.TimeRule],
                      seasons: [Tariff.Season], minorUnits: Int) throws(TariffError) -> Tariff.PriceVersion {
        let o = try object(v, field)
        try checkKeys(o, ["from", "energy", "fixed", "demand", "minimum", "taxes"], field)
        let from = try date(o["from"], field + ".from")
        var energy: [[Tariff.Tier]] = []
        if case .object(let e)? = o["energy"] {
            for k in e.keys.sorted() where !periods.contains(k) {
                throw fail("\(field).energy.\(k)", "no time-of-use period '\(k)'")
            }
            for p in periods {
                guard let pv = e[p] else { throw fail("\(field).energy.\(p)", "no price for period '\(p)'") }
                energy.append(try tiers(pv, "\(field).energy.\(p)"))
            }
        } else {
            guard periods.count == 1 else { throw fail(field + ".energy", "wants an object with a price per period") }
            energy = [try tiers(o["energy"], field + ".energy")]
        }
        var fixed: [Tariff.FixedCharge] = []
        if let fv = o["fixed"] {
            for (i, c) in try array(fv, field + ".fixed").enumerated() {
                let f = "\(field).fixed[\(i)]"
                let co = try object(c, f)
                try checkKeys(co, ["name", "per", "price"], f)
                let per = try string(co["per"], f + ".per")
                guard let p = Tariff.FixedCharge.Per(rawValue: per) else { throw fail(f + ".per", "is day or month, not '\(per)'") }
                fixed.append(Tariff.FixedCharge(name: try string(co["name"], f + ".name"), per: p,
                                                price: try amount(co["price"], f + ".price")))
            }
        }
        var demand: [Tariff.DemandCharge] = []
        if let dv = o["demand"] {
            for (i, c) in try array(dv, field + ".demand").enumerated() {
                let f = "\(field).demand[\(i)]"
                let co = try object(c, f)
                try checkKeys(co, ["name", "window", "periods", "when", "price", "tiers"], f)
                var window = 15
                if let w = co["window"] {
                    guard let t = w.numberText, let n = Int(t), n > 0, 60 % n == 0 else {
                        throw fail(f + ".window", "wants minutes that divide an hour (15, 30, 60…)")
                    }
                    window = n
                }
                var whens: [Tariff.When] = []
                if let pv = co["periods"] {
                    for (j, n) in try array(pv, f + ".periods").enumerated() {
                        let name = try string(n, "\(f).periods[\(j)]")
                        guard let k = periods.firstIndex(of: name) else { throw fail("\(f).periods[\(j)]", "no period '\(name)'") }
                        whens += rules.filter { $0.period == k }.map(\.when)
                    }
                }
                if let wv = co["when"] {
                    for (j, w) in try array(wv, f + ".when").enumerated() {
                        let wo = try object(w, "\(f).when[\(j)]")
                        try checkKeys(wo, ["seasons", "days", "hours"], "\(f).when[\(j)]")
                        whens.append(try when(wo, "\(f).when[\(j)]", seasons: seasons))
                    }
                }
                if co["periods"] == nil && co["when"] == nil {
                    whens = [Tariff.When(seasons: Array(seasons.indices), days: Array(0..<8), minutes: [0..<1440])]
                }
                let t: [Tariff.Tier]
                if co["tiers"] != nil {
                    guard co["price"] == nil else { throw fail(f, "give price or tiers, not both") }
                    t = try tiers(co["tiers"], f + ".tiers")
                } else {
                    t = try tiers(co["price"], f + ".price")
                }
                demand.append(Tariff.DemandCharge(name: try string(co["name"], f + ".name"), window: window * 60,
                                                  when: whens, tiers: t))
            }
        }
        guard demand.count <= 64 else { throw fail(field + ".demand", "more than 64 demand charges") }
        var taxes: [Tariff.Tax] = []
        if let tv = o["taxes"] {
            for (i, t) in try array(tv, field + ".taxes").enumerated() {
                let f = "\(field).taxes[\(i)]"
                let to = try object(t, f)
                try checkKeys(to, ["name", "rate"], f)
                taxes.append(Tariff.Tax(name: try string(to["name"], f + ".name"), rate: try amount(to["rate"], f + ".rate")))
            }
        }
        let minimum = try o["minimum"].map { v throws(TariffError) in try money(v, field + ".minimum", minorUnits: minorUnits) }
        return Tariff.PriceVersion(from: from, energy: energy, fixed: fixed, demand: demand, minimum: minimum, taxes: taxes)
    }
}
