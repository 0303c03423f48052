import Foundation
import Testing
@testable import AMICore

/// Reports over the known dataset in Fixtures/report (see make-dataset.py for what it holds); every
/// expected figure is worked out by hand from that description.
@Suite struct ReportTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/report")

    /// A store holding the dataset, made once per test.
    static func dataset() throws -> StoreFixture {
        let f = try StoreFixture()
        let registry = try String(contentsOf: folder.appendingPathComponent("registry.jsonl"), encoding: .utf8)
        var refused: [String] = []
        _ = try f.store.importRegistry(registry, format: .jsonl, run: nil) { refused.append("\($0): \($1)") }
        #expect(refused.isEmpty)
        let lines = try String(contentsOf: folder.appendingPathComponent("readings.jsonl"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let (ingest, vee) = try f.ingest(lines, unknownMeters: .reject, chunkSize: 1000)
        #expect(f.rejected.isEmpty)
        #expect(ingest.eventsStored == 3)
        // VEE on the dataset: the two left-out E2 intervals interpolated, W3's zero day and W2's
        // negative interval flagged.
        #expect(vee.estimated == 2)
        #expect(vee.flagged == ["zeros": 24, "reverse-flow": 1])
        return f
    }

    static func report(_ f: StoreFixture, by: String = "meter", period: ReportPeriod = .total, zone: String = "UTC",
                       meters: [String] = [], node: String? = nil, quantities: [String] = [],
                       from: String? = nil, to: String? = nil) throws -> ReportContext {
        var s = ReportScope()
        s.by = by
        s.period = period
        s.zone = LocalTimeZone(zone)!
        s.filter.meters = meters
        s.filter.node = node
        s.filter.quantities = quantities
        s.filter.from = from.flatMap { UTCTime(iso8601: $0) }
        s.filter.to = to.flatMap { UTCTime(iso8601: $0) }
        return try ReportContext(store: f.store, scope: s)
    }

    /// The named members of each row, as cells, joined by spaces.
    static func cells(_ rows: [ReportRow], _ keys: String) -> [String] {
        rows.map { r in keys.split(separator: " ").map { r[String($0)]?.cell ?? "?" }.joined(separator: " ") }
    }

    @Test func consumptionByRegionAndDaySumsIntervalsAndRegisterAdvancesExactly() throws {
        let f = try Self.dataset()
        let rows = try Self.report(f, by: "region", period: .day, from: "2026-01-05T00:00:00Z", to: "2026-01-08T00:00:00Z").consumption()
        // North on 5 Jan: E1 2400 + (0+…+23) = 2676, E2 93×10 + 50 + 2 interpolated ×10 = 1000, E3 100.
        // On 6 Jan: E1 4800 + 276 = 5076, E3's advance to the 7 Jan midnight reading 500.
        // South: W1 4×0.005 + 20×0.020 = 0.420 a day, W2 20×0.010 = 0.200 (0.188 with −0.002 at noon on 6 Jan).
        #expect(Self.cells(rows, "group start quantity value meters") == [
            "ACME/North 2026-01-05T00:00:00Z energy 3776 3",
            "ACME/North 2026-01-06T00:00:00Z energy 5576 2",
            "ACME/South 2026-01-05T00:00:00Z volume 0.620 3",
            "ACME/South 2026-01-06T00:00:00Z volume 0.608 2",
            "ACME/South 2026-01-07T00:00:00Z volume 0.620 2",
        ])
        #expect(rows[0].jsonLine == #"{"type":"consumption","v":1,"by":"region","group":"ACME/North","period":"day","start":"2026-01-05T00:00:00Z","end":"2026-01-06T00:00:00Z","quantity":"energy","unit":"Wh","value":3776,"meters":3}"#)
        // The whole history by company: E3 adds 8 days of 100 before the window.
        let total = try Self.report(f, by: "company", quantities: ["energy"]).consumption()
        #expect(Self.cells(total, "group period start end value meters") == ["ACME total - - 10152 3"])
    }

    @Test func periodBoundariesFollowTheTimeZone() throws {
        let f = try Self.dataset()
        // Amsterdam is UTC+1 in January: its 5 Jan holds E1's hours 00–22 UTC of 5 Jan (2676 − 123),
        // its 6 Jan the 23 h hour of 5 Jan and hours 00–22 of 6 Jan (123 + 5076 − 223), its 7 Jan the last hour.
        let rows = try Self.report(f, period: .day, zone: "Europe/Amsterdam", meters: ["E1"], quantities: ["energy"]).consumption()
        #expect(Self.cells(rows, "start end value") == [
            "2026-01-04T23:00:00Z 2026-01-05T23:00:00Z 2553",
            "2026-01-05T23:00:00Z 2026-01-06T23:00:00Z 4976",
            "2026-01-06T23:00:00Z 2026-01-07T23:00:00Z 223",
        ])
        let months = try Self.report(f, period: .month, zone: "Europe/Amsterdam", meters: ["E3"]).consumption()
        // E3's readings at UTC midnights are 01:00 local, so the one of 1 Jan closes a January span:
        // December holds the advances to 29, 30 and 31 Dec, January six of 100 and the 500.
        #expect(Self.cells(months, "start end value") == [
            "2025-11-30T23:00:00Z 2025-12-31T23:00:00Z 300", "2025-12-31T23:00:00Z 2026-01-31T23:00:00Z 1100",
        ])
        let hours = try Self.report(f, period: .hour, meters: ["E2"], from: "2026-01-05T18:00:00Z", to: "2026-01-05T20:00:00Z").consumption()
        #expect(Self.cells(hours, "start value") == ["2026-01-05T18:00:00Z 80", "2026-01-05T19:00:00Z 40"])
    }

    @Test func daysAcrossDaylightSavingChangesHave23And25Hours() throws {
        let f = try StoreFixture()
        // One Wh an hour from local midnight of 28 March to local midnight of 26 October, Amsterdam
        // (UTC+1 in winter, UTC+2 in summer).
        let first = UTCTime(iso8601: "2026-03-27T23:00:00Z")!.milliseconds
        let hours = Int((UTCTime(iso8601: "2026-10-25T23:00:00Z")!.milliseconds - first) / 3_600_000)
        try f.ingest((1...hours).map { readingLine(value: "1", time: UTCTime(milliseconds: first + Int64($0) * 3_600_000).description,
                                                    interval: 3600) }, chunkSize: 10_000)
        let days = try Self.report(f, period: .day, zone: "Europe/Amsterdam").consumption()
        #expect(days.count == 212)
        #expect(Self.cells(Array(days.prefix(3)), "start value") == [
            "2026-03-27T23:00:00Z 24", "2026-03-28T23:00:00Z 23", "2026-03-29T22:00:00Z 24",
        ])
        #expect(Self.cells(Array(days.suffix(2)), "start end value") == [
            "2026-10-23T22:00:00Z 2026-10-24T22:00:00Z 24", "2026-10-24T22:00:00Z 2026-10-25T23:00:00Z 25",
        ])
        let months = try Self.report(f, period: .month, zone: "Europe/Amsterdam").consumption()
        // March: 4 days, one of 23 hours; April: 30 × 24; October: 25 days, one of 25 hours.
        #expect(Self.cells(months, "start value").first == "2026-02-28T23:00:00Z 95")
        #expect(Self.cells(months, "start value").dropFirst().first == "2026-03-31T22:00:00Z 720")
        #expect(Self.cells(months, "start value").last == "2026-09-30T22:00:00Z 601")
    }

    @Test func multipliersAndTariffRegistersWithoutATotal() throws {
        let f = try Self.dataset()
        // E2's registry multiplier 2.5 (a current transformer, say) scales its 1000 Wh exactly.
        _ = try f.store.importRegistry(#"{"type":"meter","v":1,"meter":"E2","multiplier":2.5,"status":"active","node":"ACME/North"}"#,
                                       format: .jsonl, run: nil) { _, _ in }
        #expect(Self.cells(try Self.report(f, meters: ["E2"]).consumption(), "value") == ["2500.0"])
        // A meter with tariff registers and no total (DSMR): their advances add up.
        try f.ingest([
            readingLine("D1", obis: "1-0:1.8.1", value: "100.5", time: "2026-01-05T00:00:00Z", tariff: 1),
            readingLine("D1", obis: "1-0:1.8.2", value: "200", time: "2026-01-05T00:00:00Z", tariff: 2),
            readingLine("D1", obis: "1-0:1.8.1", value: "150.25", time: "2026-01-06T00:00:00Z", tariff: 1),
            readingLine("D1", obis: "1-0:1.8.2", value: "230", time: "2026-01-06T00:00:00Z", tariff: 2),
        ])
        #expect(Self.cells(try Self.report(f, period: .day, meters: ["D1"]).consumption(), "start value") == ["2026-01-05T00:00:00Z 79.75"])
    }

    @Test func loadProfileAndPeakDemand() throws {
        let f = try Self.dataset()
        let profile = try Self.report(f, meters: ["E2"]).loadProfile()
        #expect(profile.count == 96)
        #expect(profile[72].jsonLine == #"{"type":"load_profile","v":1,"by":"meter","group":"E2","time":"2026-01-05T18:15:00Z","quantity":"energy","unit":"Wh","interval":900,"value":50,"demand":200,"demand_unit":"W"}"#)
        // Summed over the North region: E1's hourly and E2's quarter-hourly profiles stay apart.
        let north = try Self.report(f, by: "region", node: "ACME/North").loadProfile()
        #expect(Set(Self.cells(north, "interval")) == ["900", "3600"])
        let peaks = try Self.report(f, by: "all", period: .day, quantities: ["energy"]).peakDemand()
        #expect(Self.cells(peaks, "start interval time value demand intervals") == [
            "2026-01-05T00:00:00Z 900 2026-01-05T18:15:00Z 50 200 96",
            "2026-01-05T00:00:00Z 3600 2026-01-06T00:00:00Z 123 123 24",
            "2026-01-06T00:00:00Z 3600 2026-01-07T00:00:00Z 223 223 24",
        ])
    }

    @Test func completenessPerMeterAndGroupAndMetersNotRead() throws {
        let f = try Self.dataset()
        let window = (from: "2026-01-05T00:00:00Z", to: "2026-01-06T00:00:00Z")
        let meters = try Self.report(f, from: window.from, to: window.to).completeness()
        #expect(Self.cells(meters, "group expected received estimated missing percent") == [
            "E1 24 24 0 0 100.00", "E2 96 94 2 0 97.92", "W1 24 24 0 0 100.00", "W2 24 24 0 0 100.00", "W3 24 24 0 0 100.00",
        ])
        let regions = try Self.report(f, by: "region", from: window.from, to: window.to).completeness()
        #expect(Self.cells(regions, "group meters expected received percent") == ["ACME/North 2 120 118 98.33", "ACME/South 3 72 72 100.00"])
        // A window past the data: everything expected is missing.
        let later = try Self.report(f, meters: ["W1"], from: "2026-01-07T00:00:00Z", to: "2026-01-09T00:00:00Z").completeness()
        #expect(Self.cells(later, "expected received missing percent") == ["48 24 24 50.00"])
        let silent = try Self.report(f).notRead(days: 3, now: UTCTime(iso8601: "2026-01-08T00:00:00Z")!)
        #expect(Self.cells(silent, "meter last_reading days") == ["E4 2025-12-01T06:00:00Z 37"])
        #expect(try Self.report(f).notRead(days: 40, now: UTCTime(iso8601: "2026-01-08T00:00:00Z")!).isEmpty)
    }

    @Test func eventsArchiveWithClasses() throws {
        let f = try Self.dataset()
        let all = try Self.report(f).eventArchive(classes: [])
        #expect(Self.cells(all, "time meter event class alarm duration") == [
            "2026-01-05T13:00:00Z E1 terminal_cover_opened tamper yes -",
            "2026-01-06T02:00:00Z E1 power_failure power no 60",
            "2026-01-06T08:00:00Z W1 permanent_error fault yes -",
        ])
        #expect(Self.cells(try Self.report(f).eventArchive(classes: ["alarm"]), "event") == ["terminal_cover_opened", "permanent_error"])
        #expect(Self.cells(try Self.report(f, node: "ACME/South").eventArchive(classes: []), "event") == ["permanent_error"])
    }

    @Test func anomaliesFindTheLeakTheTamperAndTheRest() throws {
        let f = try Self.dataset()
        let rows = try Self.report(f).anomalies(AnomalyOptions())
        #expect(rows.map(\.jsonLine) == [
            #"{"type":"anomaly","v":1,"kind":"leak","meter":"W1","node":"ACME/South","start":"2026-01-05T01:00:00Z","end":"2026-01-07T05:00:00Z","quantity":"volume","unit":"m3","nights":3,"min_flow":0.005}"#,
            #"{"type":"anomaly","v":1,"kind":"reverse-flow","meter":"W2","node":"ACME/South","start":"2026-01-06T12:00:00Z","end":"2026-01-06T13:00:00Z","quantity":"volume","unit":"m3","intervals":1}"#,
            #"{"type":"anomaly","v":1,"kind":"tamper","meter":"E1","node":"ACME/North/B1","start":"2026-01-05T13:00:00Z","event":"terminal_cover_opened","code":"0x28"}"#,
            #"{"type":"anomaly","v":1,"kind":"fault","meter":"W1","node":"ACME/South","start":"2026-01-06T08:00:00Z","event":"permanent_error","code":"0x10"}"#,
            #"{"type":"anomaly","v":1,"kind":"zero-consumption","meter":"W3","node":"ACME/South","quantity":"volume","unit":"m3","value":0.000}"#,
            // E3's 500 on 6 Jan against the 100 a day of the 7 days before.
            #"{"type":"anomaly","v":1,"kind":"sudden-change","meter":"E3","node":"ACME/North","start":"2026-01-06T00:00:00Z","end":"2026-01-07T00:00:00Z","quantity":"energy","unit":"Wh","value":500,"baseline":100.000,"direction":"up"}"#,
        ])
        // Thresholds: four nights are more than the data has; a factor of 6 is more than 500 / 100.
        var o = AnomalyOptions()
        o.kinds = ["leak", "sudden-change"]
        o.nights = 4
        o.factor = ExactDecimal(6)
        #expect(try Self.report(f).anomalies(o).isEmpty)
        // W2's nights are dry; a night that starts at midnight takes in W1's 0.020 and is still not dry.
        o.nights = 3
        o.nightStart = 0
        #expect(Self.cells(try Self.report(f).anomalies(o), "kind meter min_flow") == ["leak W1 0.005"])
        // The leak shows only when the window holds three of its nights.
        o.kinds = ["leak"]
        #expect(try Self.report(f, from: "2026-01-06T00:00:00Z").anomalies(o).isEmpty)
    }

    @Test func reactiveRatiosAgainstLimits() throws {
        let f = try Self.dataset()
        let rows = try Self.report(f, period: .day).reactive(inductiveLimit: ExactDecimal(15, exponent: -2),
                                                               capacitiveLimit: ExactDecimal(33, exponent: -2))
        // 5 Jan: 500/2676 = 0.18684… and 50/2676 = 0.018684…; 6 Jan: 500/5076 = 0.098502…, 250/5076 = 0.049251….
        #expect(Self.cells(rows, "group start active inductive capacitive inductive_ratio capacitive_ratio exceeded") == [
            "E1 2026-01-05T00:00:00Z 2676 500 50 0.1868 0.0187 yes",
            "E1 2026-01-06T00:00:00Z 5076 500 250 0.0985 0.0493 no",
        ])
        // The limit is compared with the exact ratio, not the rounded one: over both days 1000 / 7752 =
        // 0.128998…, printed 0.1290, is above 0.1289 and not above 0.1290.
        let tight = try Self.report(f, by: "all").reactive(inductiveLimit: ExactDecimal(1289, exponent: -4),
                                                             capacitiveLimit: ExactDecimal(1))
        #expect(Self.cells(tight, "active inductive inductive_ratio exceeded") == ["7752 1000 0.1290 yes"])
        let limit = try Self.report(f, by: "all").reactive(inductiveLimit: ExactDecimal(1290, exponent: -4),
                                                             capacitiveLimit: ExactDecimal(1))
        #expect(Self.cells(limit, "inductive_ratio exceeded") == ["0.1290 no"])
    }

    @Test func topConsumersAndVEEStatistics() throws {
        let f = try Self.dataset()
        let top = try Self.report(f).topConsumers(limit: 2)
        #expect(Self.cells(top, "quantity rank group value") == ["energy 1 E1 7752", "energy 2 E3 1400", "volume 1 W1 1.260", "volume 2 W2 0.588"])
        let vee = try Self.report(f, by: "region").veeStatistics()
        #expect(vee.map(\.jsonLine) == [
            #"{"type":"vee_statistics","v":1,"by":"region","group":"ACME/North","readings":162,"actual":160,"estimated":2,"missing":0,"flagged":0,"codes":{"3.8.0":2}}"#,
            #"{"type":"vee_statistics","v":1,"by":"region","group":"ACME/South","readings":168,"actual":168,"estimated":0,"missing":0,"flagged":25,"codes":{"3.6.1007":24,"3.6.1008":1}}"#,
        ])
    }

    @Test func prepaidWithoutAccountsIsUnavailable() throws {
        let f = try Self.dataset()
        #expect(throws: ReportError("prepaid: give the span with --from and --to")) { try Self.report(f).prepaidSegments() }
        #expect(throws: ReportError("prepaid: \(f.path) has no billing accounts (ami-bill account add); no prepaid segments "
            + "to report", unavailable: true)) {
            try Self.report(f, from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z").prepaidSegments()
        }
    }

    @Test func anUnknownLevelNamesTheLevelsThereAre() throws {
        let f = try Self.dataset()
        #expect(throws: ReportError("no hierarchy level \"district\" (levels: building, company, region; or meter, all)")) {
            try Self.report(f, by: "district")
        }
    }

    @Test(arguments: [
        (["0.1", "0.1", "0.1"], "0.3"), (["1", "0.001", "-0.0005"], "1.0005"), (["12e3", "0.5"], "12000.5"),
        (["999999999999999999", "999999999999999999"], "1999999999999999998"), ([], "0"), (["-0.25"], "-0.25"),
    ])
    func exactAmountsAddAtACommonScale(_ values: [String], _ sum: String) throws {
        var a = ExactAmount.zero
        for v in values { try a.add(ExactAmount(ExactDecimal(v)!)) }
        #expect(a.description == sum)
    }

    @Test func ratiosRoundHalfAwayFromZero() {
        #expect(ExactAmount.ratio(ExactAmount(units: 1), ExactAmount(units: 8), places: 2)?.description == "0.13")
        #expect(ExactAmount.ratio(ExactAmount(units: -1), ExactAmount(units: 8), places: 2)?.description == "-0.13")
        #expect(ExactAmount.ratio(ExactAmount(units: 5, scale: -3), ExactAmount(units: 3), places: 4)?.description == "0.0017")
        #expect(ExactAmount.ratio(ExactAmount(units: 1), .zero, places: 2) == nil)
        #expect(ExactAmount(units: 12, scale: -1) == ExactAmount(units: 120, scale: -2))
        #expect(ExactAmount(units: 5, scale: -3) < ExactAmount(units: 1, scale: -2))
    }

    @Test func chartTicksAreExactMultiplesOfOneTwoOrFive() {
        func ticks(_ lo: String, _ hi: String) -> [String] {
            SVGChart.Ticks(low: ExactAmount(ExactDecimal(lo)!), high: ExactAmount(ExactDecimal(hi)!)).values.map(\.description)
        }
        #expect(ticks("0", "50") == ["0", "10", "20", "30", "40", "50"])
        #expect(ticks("0", "0.620") == ["0.0", "0.2", "0.4", "0.6", "0.8"])
        #expect(ticks("-0.002", "0.020") == ["-0.005", "0.000", "0.005", "0.010", "0.015", "0.020"])
        #expect(ticks("0", "0") == ["0", "1"])
    }

    @Test func tablesAlignColumnsPerRecordType() {
        let rows = [ReportRow("a", [("name", .text("x")), ("value", .amount(ExactAmount(units: 12, scale: -1)))]),
                    ReportRow("a", [("name", .text("longer")), ("value", .integer(100))]),
                    ReportRow("b", [("k", .null)])]
        #expect(ReportTable.render(rows) == "a\nname    value\nx         1.2\nlonger    100\n\nb\nk\n-\n")
        // In JSON an absent member is left out.
        #expect(rows[2].jsonLine == #"{"type":"b","v":1}"#)
    }
}
