/// Turns an OpenEI Utility Rate Database rate record (API v7 JSON: `energyratestructure`,
/// `energyweekdayschedule`/`energyweekendschedule`, `demandratestructure` and its schedules,
/// `flatdemandstructure`/`flatdemandmonths`, `fixedchargefirstmeter`/`fixedchargeunits`,
/// `mincharge`/`minchargeunits`) into an ami-tariff(5) file. Each tier's price is `rate + adj`;
/// tier `max` is kWh per month (kW for demand); periods may have different numbers of tiers.
/// Schedules are 12 × 24 (month × hour) period indexes, weekday and weekend.
public struct URDBImport {
    public struct Options: Sendable {
        public var name: String
        public var timeZone: String
        public var currency = "USD"
        /// The local date the prices take effect, when the record has no `startdate`.
        public var effective = "2000-01-01"
        /// Demand window in minutes.
        public var demandWindow = 15
        public init(name: String, timeZone: String) {
            self.name = name
            self.timeZone = timeZone
        }
    }

    let file: String
    /// What the tariff leaves out (ratchets, net metering sell rates…), for the user to read.
    public private(set) var warnings: [String] = []

    public init(file: String) { self.file = file }

    func fail(_ field: String, _ message: String) -> TariffError { TariffError(file: file, field: field, message: message) }

    static let monthNames = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// The ami-tariff(5) text for a URDB record (its bytes), checked by `TariffParser` before it is returned.
    public mutating func convert(_ bytes: [UInt8], options: Options) throws(TariffError) -> String {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes)
        } catch {
            throw fail("", "not JSON: \(error.message) at byte \(error.offset)")
        }
        // A URDB API answer wraps the record in {"items": [record]}.
        var record = root
        if case .array(let items)? = root["items"] {
            guard items.count == 1 else { throw fail("items", "holds \(items.count) rates; give one") }
            record = items[0]
        }
        guard case .object(let o) = record else { throw fail("", "wants a rate object") }

        for key in ["lookbackpercent", "demandratchetpercentage"] {
            if let v = o[key], case .number(let t) = v, ExactDecimal(t) != .zero { warnings.append("\(key) (demand ratchet) is not applied") }
            if case .array(let a)? = o[key], a.contains(where: { $0.numberText.flatMap(ExactDecimal.init) != .zero }) {
                warnings.append("\(key) (demand ratchet) is not applied")
            }
        }
        if case .array(let a)? = o["lookbackmonths"], a.contains(where: { $0.numberText.flatMap(ExactDecimal.init) != .zero }) {
            warnings.append("lookbackmonths (demand ratchet) is not applied")
        }
        for key in ["coincidentratestructure", "fueladjustmentsmonthly"] where o[key] != nil {
            warnings.append("\(key) is not applied")
        }

        var effective = options.effective
        if let v = o["startdate"], let t = v.numberText, let s = Int64(t) {
            effective = TariffCalendar.dateText(Int(s / 86_400))
        }

        var top: [(String, String)] = [
            ("tariff", JSONObjectText.quoted(options.name)), ("medium", JSONObjectText.quoted("electricity")), ("unit", JSONObjectText.quoted("kWh")),
            ("currency", JSONObjectText.quoted(options.currency)), ("minor_units", "2"), ("time_zone", JSONObjectText.quoted(options.timeZone)),
            ("seasons", "[" + Self.monthNames.enumerated().map { i, n in
                "{\"name\": \"\(n)\", \"from\": \"\(i < 9 ? "0" : "")\(i + 1)-01\"}" }.joined(separator: ", ") + "]"),
        ]
        var version: [(String, String)] = [("from", JSONObjectText.quoted(effective))]

        // Energy: periods used by the schedules, with their tiers.
        let energyStructure = try array(o["energyratestructure"], "energyratestructure")
        let weekday = try schedule(o["energyweekdayschedule"], "energyweekdayschedule", periods: energyStructure.count)
        let weekend = try schedule(o["energyweekendschedule"], "energyweekendschedule", periods: energyStructure.count)
        let energyRules = rules(weekday: weekday, weekend: weekend)
        let used = Set(energyRules.map(\.period)).sorted()
        top.append(("time_of_use", "[\n    " + energyRules.map { r in
            "{\"period\": \"period\(r.period)\", " + whenText(r) + "}" }.joined(separator: ",\n    ") + "\n  ]"))
        var energy: [String] = []
        for p in used {
            energy.append("\"period\(p)\": " + (try tiers(energyStructure[p], "energyratestructure[\(p)]", unit: "kWh")))
        }
        version.append(("energy", "{" + energy.joined(separator: ", ") + "}"))

        if let v = o["fixedchargefirstmeter"] {
            let price = try decimal(v, "fixedchargefirstmeter")
            let units = try o["fixedchargeunits"].map { v throws(TariffError) in try string(v, "fixedchargeunits") } ?? "$/month"
            let per: String
            switch units {
            case "$/day": per = "day"
            case "$/month": per = "month"
            default: throw fail("fixedchargeunits", "'\(units)' is not $/day or $/month")
            }
            if price.raw != 0 {
                version.append(("fixed", "[{\"name\": \"fixed charge\", \"per\": \"\(per)\", \"price\": \"\(price)\"}]"))
            }
        }

        var demand: [String] = []
        if let v = o["flatdemandstructure"] {
            let structure = try array(v, "flatdemandstructure")
            let months = try array(o["flatdemandmonths"], "flatdemandmonths")
            guard months.count == 12 else { throw fail("flatdemandmonths", "wants 12 period indexes") }
            var byIndex: [Int: [Int]] = [:]
            for (m, x) in months.enumerated() {
                guard let t = x.numberText, let k = Int(t), structure.indices.contains(k) else {
                    throw fail("flatdemandmonths[\(m)]", "not an index into flatdemandstructure")
                }
                byIndex[k, default: []].append(m)
            }
            for k in byIndex.keys.sorted() {
                let t = try tiers(structure[k], "flatdemandstructure[\(k)]", unit: "kW")
                guard t != "\"0\"" else { continue }
                let seasons = byIndex[k]!.map { "\"\(Self.monthNames[$0])\"" }.joined(separator: ", ")
                demand.append("{\"name\": \"flat demand \(k)\", \"window\": \(options.demandWindow), \"when\": [{\"seasons\": [\(seasons)]}], "
                              + (t.hasPrefix("[") ? "\"tiers\": " : "\"price\": ") + t + "}")
            }
        }
        if let v = o["demandratestructure"] {
            let structure = try array(v, "demandratestructure")
            let wd = try schedule(o["demandweekdayschedule"], "demandweekdayschedule", periods: structure.count)
            let we = try schedule(o["demandweekendschedule"], "demandweekendschedule", periods: structure.count)
            let demandRules = rules(weekday: wd, weekend: we)
            for p in Set(demandRules.map(\.period)).sorted() {
                let t = try tiers(structure[p], "demandratestructure[\(p)]", unit: "kW")
                guard t != "\"0\"" else { continue }
                let when = demandRules.filter { $0.period == p }.map { "{" + whenText($0) + "}" }.joined(separator: ", ")
                demand.append("{\"name\": \"demand period\(p)\", \"window\": \(options.demandWindow), \"when\": [\(when)], "
                              + (t.hasPrefix("[") ? "\"tiers\": " : "\"price\": ") + t + "}")
            }
        }
        if !demand.isEmpty { version.append(("demand", "[\n      " + demand.joined(separator: ",\n      ") + "\n    ]")) }

        if let v = o["mincharge"] {
            let m = try decimal(v, "mincharge")
            let units = try o["minchargeunits"].map { v throws(TariffError) in try string(v, "minchargeunits") } ?? "$/month"
            if units == "$/month" {
                if m.raw != 0 { version.append(("minimum", "\"\(m)\"")) }
            } else {
                warnings.append("minchargeunits '\(units)' is not applied (only $/month)")
            }
        }
        top.append(("prices", "[{\n    " + version.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ",\n    ") + "\n  }]"))
        let text = "{\n  " + top.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ",\n  ") + "\n}\n"
        _ = try TariffParser.parse(Array(text.utf8), file: file + " (as converted)")
        return text
    }

    func array(_ v: JSONValue?, _ field: String) throws(TariffError) -> [JSONValue] {
        guard case .array(let a)? = v else { throw fail(field, "wants an array") }
        return a
    }

    func string(_ v: JSONValue, _ field: String) throws(TariffError) -> String {
        guard case .string(let s) = v else { throw fail(field, "wants a string") }
        return s
    }

    func decimal(_ v: JSONValue?, _ field: String) throws(TariffError) -> Nano {
        guard let t = v?.numberText, let d = ExactDecimal(t), let n = Nano(d) else { throw fail(field, "wants a decimal number") }
        return n
    }

    /// A 12 × 24 schedule of period indexes below `periods`.
    func schedule(_ v: JSONValue?, _ field: String, periods: Int) throws(TariffError) -> [[Int]] {
        let rows = try array(v, field)
        guard rows.count == 12 else { throw fail(field, "wants 12 months, has \(rows.count)") }
        var out: [[Int]] = []
        for (m, row) in rows.enumerated() {
            let hours = try array(row, "\(field)[\(m)]")
            guard hours.count == 24 else { throw fail("\(field)[\(m)]", "wants 24 hours, has \(hours.count)") }
            var r: [Int] = []
            for (h, x) in hours.enumerated() {
                guard let t = x.numberText, let k = Int(t), (0..<periods).contains(k) else {
                    throw fail("\(field)[\(m)][\(h)]", "not a period index below \(periods)")
                }
                r.append(k)
            }
            out.append(r)
        }
        return out
    }

    /// The tiers of one period as ami-tariff(5) text: a price, or an array of `{up_to, price}`.
    mutating func tiers(_ v: JSONValue, _ field: String, unit: String) throws(TariffError) -> String {
        let list = try array(v, field)
        guard !list.isEmpty else { throw fail(field, "no tiers") }
        var out: [String] = []
        for (i, tier) in list.enumerated() {
            let f = "\(field)[\(i)]"
            guard case .object(let t) = tier else { throw fail(f, "wants an object") }
            if let u = t["unit"] {
                let s = try string(u, f + ".unit")
                guard s == unit else { throw fail(f + ".unit", "'\(s)' is not supported (only \(unit))") }
            }
            if t["sell"] != nil { warnings.append("\(f).sell (sell rate) is not applied") }
            var price = try decimal(t["rate"], f + ".rate")
            if let adj = t["adj"] { price += try decimal(adj, f + ".adj") }
            if i < list.count - 1 {
                let max = try decimal(t["max"], f + ".max")
                out.append("{\"up_to\": \"\(max)\", \"price\": \"\(price)\"}")
            } else {
                out.append("{\"price\": \"\(price)\"}")
            }
        }
        if out.count == 1 { return "\"" + String(out[0].dropFirst(11).dropLast(2)) + "\"" }
        return "[" + out.joined(separator: ", ") + "]"
    }

    struct Rule {
        var period: Int
        var months: [Int]
        var days: String
        var hours: [Range<Int>]
    }

    /// Time-of-use rules from the two schedules: per period and day kind, months that share hours.
    func rules(weekday: [[Int]], weekend: [[Int]]) -> [Rule] {
        var out: [Rule] = []
        for (days, sched) in [("weekday", weekday), ("weekend", weekend)] {
            var periods = Set<Int>()
            for row in sched { periods.formUnion(row) }
            for p in periods.sorted() {
                var groups: [(hours: [Range<Int>], months: [Int])] = []
                for m in 0..<12 {
                    var ranges: [Range<Int>] = []
                    for h in 0..<24 where sched[m][h] == p {
                        if let last = ranges.last, last.upperBound == h { ranges[ranges.count - 1] = last.lowerBound..<h + 1 } else { ranges.append(h..<h + 1) }
                    }
                    guard !ranges.isEmpty else { continue }
                    if let g = groups.firstIndex(where: { $0.hours == ranges }) { groups[g].months.append(m) } else { groups.append((ranges, [m])) }
                }
                for g in groups { out.append(Rule(period: p, months: g.months, days: days, hours: g.hours)) }
            }
        }
        return out
    }

    func whenText(_ r: Rule) -> String {
        func hh(_ h: Int) -> String { (h < 10 ? "0" : "") + "\(h):00" }
        return "\"seasons\": [" + r.months.map { "\"\(Self.monthNames[$0])\"" }.joined(separator: ", ") + "], "
            + "\"days\": [\"\(r.days)\"], "
            + "\"hours\": [" + r.hours.map { "[\"\(hh($0.lowerBound))\", \"\(hh($0.upperBound))\"]" }.joined(separator: ", ") + "]"
    }
}
