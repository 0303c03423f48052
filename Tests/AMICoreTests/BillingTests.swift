import Foundation
import Testing
@testable import AMICore

/// Hand-computed bills: every expected amount below is worked out in the comment beside it.
@Suite struct BillingTests {
    static let urdb = MBusTest.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/formats/urdb")

    func tariff(_ json: String, file: String = "t.json") throws -> Tariff {
        try TariffParser.parse(Array(json.utf8), file: file)
    }

    func t(_ s: String) -> UTCTime { UTCTime(iso8601: s)! }

    /// `count` intervals of `seconds` from `start`, each `wh` watt-hours (or `value(i)`).
    func intervals(from start: String, count: Int, seconds: Int = 900, wh: (Int) -> Int64) -> [UsageInterval] {
        let s = t(start)
        return (0..<count).map { i in
            UsageInterval(end: UTCTime(milliseconds: s.milliseconds + Int64(i + 1) * Int64(seconds) * 1000), seconds: seconds,
                          value: Nano(ExactDecimal(wh(i), exponent: -3))!)
        }
    }

    func line(_ b: BillBody, _ kind: BillLine.Kind, period: String? = nil, tier: Int? = nil, effective: String? = nil) -> BillLine? {
        b.lines.first { $0.kind == kind && (period == nil || $0.period == period) && (tier == nil || $0.tier == tier)
            && (effective == nil || $0.effective == effective) }
    }

    static let dayNight = """
        {"tariff": "day-night", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "Europe/Amsterdam",
         "time_of_use": [{"period": "day", "hours": [["07:00", "23:00"]]}, {"period": "night", "hours": [["23:00", "07:00"]]}],
         "prices": [{"from": "2026-01-01", "energy": {"day": "0.30", "night": "0.20"},
                     "fixed": [{"name": "standing charge", "per": "day", "price": "0.50"}],
                     "taxes": [{"name": "VAT", "rate": "0.21"}]}]}
        """

    @Test func timeOfUseAcrossTheAutumnDSTChange() throws {
        // 2026-10-25 in Amsterdam has 25 hours (02:00–03:00 twice): 100 quarter-hours of 1 kWh.
        // Night 00:00–07:00 is 8 hours (32 kWh) plus 23:00–24:00 (4 kWh) = 36 kWh × 0.20 = 7.20;
        // day 07:00–23:00 = 64 kWh × 0.30 = 19.20; one day's standing charge 0.50.
        // Subtotal 26.90, VAT 21 % = 5.649 → 5.65, total 32.55.
        let tf = try tariff(Self.dayNight)
        let rater = try Rater(tariff: tf, from: t("2026-10-24T22:00:00Z"), to: t("2026-10-25T23:00:00Z"))
        let b = try rater.rate(intervals(from: "2026-10-24T22:00:00Z", count: 100) { _ in 1000 })
        #expect(line(b, .energy, period: "night")?.quantity == Nano(units: 36))
        #expect(line(b, .energy, period: "night")?.amount == 720)
        #expect(line(b, .energy, period: "day")?.quantity == Nano(units: 64))
        #expect(line(b, .energy, period: "day")?.amount == 1920)
        #expect(line(b, .fixed)?.quantity == Nano(units: 1))
        #expect(b.subtotal == 2690)
        #expect(line(b, .tax)?.amount == 565)
        #expect(b.total == 3255)
        // BillTime resolves the local date to the same span.
        #expect(BillTime("2026-10-25")!.resolve(tf) == t("2026-10-24T22:00:00Z"))
        #expect(BillTime("2026-10-26")!.resolve(tf) == t("2026-10-25T23:00:00Z"))
    }

    @Test func timeOfUseAcrossTheSpringDSTChange() throws {
        // 2026-03-29 has 23 hours (02:00–03:00 skipped): night 00:00–07:00 is 6 hours (24 kWh) plus
        // 23:00–24:00 (4) = 28 kWh × 0.20 = 5.60; day 64 kWh × 0.30 = 19.20; standing 0.50: 25.30;
        // VAT 5.313 → 5.31; total 30.61.
        let tf = try tariff(Self.dayNight)
        let from = BillTime("2026-03-29")!.resolve(tf), to = BillTime("2026-03-30")!.resolve(tf)
        #expect(from == t("2026-03-28T23:00:00Z") && to == t("2026-03-29T22:00:00Z"))
        let b = try Rater(tariff: tf, from: from, to: to).rate(intervals(from: "2026-03-28T23:00:00Z", count: 92) { _ in 1000 })
        #expect(line(b, .energy, period: "night")?.quantity == Nano(units: 28))
        #expect(line(b, .energy, period: "day")?.quantity == Nano(units: 64))
        #expect(b.subtotal == 2530)
        #expect(b.tax == 531)
        #expect(b.total == 3061)
    }

    @Test func tiersAcrossAPriceChangeWithPerDayAndMonthlyFixedCharges() throws {
        // March 2026 (UTC), hourly intervals of 1.5 kWh: 744 hours, 1116 kWh. Tiers restart each month:
        // the first 100 kWh at the tier-1 price of the day, the rest at tier 2.
        // Until 2026-03-03: 48 h = 72 kWh at 0.20 = 14.40. From 03-03 the new prices: the 28 kWh left in
        // tier 1 (the 19th hour's interval is split 1 kWh / 0.5 kWh) at 0.22 = 6.16; 1016 kWh at 0.28 = 284.48.
        // Standing charge 2 days × 0.50 = 1.00 and 29 days × 0.55 = 15.95; meter rent 5.00 once.
        // Subtotal 14.40 + 6.16 + 284.48 + 1.00 + 15.95 + 5.00 = 326.99.
        let tf = try tariff("""
            {"tariff": "tiers", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
             "prices": [
               {"from": "2026-01-01", "energy": [{"up_to": 100, "price": "0.20"}, {"price": "0.25"}],
                "fixed": [{"name": "standing", "per": "day", "price": "0.50"}, {"name": "meter rent", "per": "month", "price": 5}]},
               {"from": "2026-03-03", "energy": [{"up_to": 100, "price": "0.22"}, {"price": "0.28"}],
                "fixed": [{"name": "standing", "per": "day", "price": "0.55"}]}]}
            """)
        let b = try Rater(tariff: tf, from: t("2026-03-01T00:00:00Z"), to: t("2026-04-01T00:00:00Z"))
            .rate(intervals(from: "2026-03-01T00:00:00Z", count: 744, seconds: 3600) { _ in 1500 })
        #expect(line(b, .energy, tier: 1, effective: "2026-01-01")?.quantity == Nano(units: 72))
        #expect(line(b, .energy, tier: 1, effective: "2026-01-01")?.amount == 1440)
        #expect(line(b, .energy, tier: 2, effective: "2026-01-01") == nil)
        #expect(line(b, .energy, tier: 1, effective: "2026-03-03")?.quantity == Nano(units: 28))
        #expect(line(b, .energy, tier: 1, effective: "2026-03-03")?.amount == 616)
        #expect(line(b, .energy, tier: 2, effective: "2026-03-03")?.quantity == Nano(units: 1016))
        #expect(line(b, .energy, tier: 2, effective: "2026-03-03")?.amount == 28448)
        let fixed = b.lines.filter { $0.kind == .fixed }.map { "\($0.name) \($0.quantity!) \($0.amount)" }
        #expect(fixed == ["standing 2 100", "meter rent 1 500", "standing 29 1595"])
        #expect(b.usage == Nano(units: 1116))
        #expect(b.total == 32699)
    }

    @Test func demandChargeOnThePeakWindowsOnlyWithTiers() throws {
        // One weekday (2026-06-10, UTC), 15-minute intervals of 0.25 kWh (1 kW), except 03:00–03:30 at
        // 4 kWh each (off-peak: not counted) and 18:00 (3 kWh) and 18:15 (2 kWh): the 30-minute window
        // 18:00–18:30 holds 5 kWh = 10 kW, the highest in the peak (16:00–20:00). Tiers: 5 kW at 10.00
        // = 50.00, 5 kW at 8.00 = 40.00. Energy: 92 × 0.25 + 8 + 5 = 36 kWh at 0.10 = 3.60.
        let tf = try tariff("""
            {"tariff": "demand", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
             "time_of_use": [{"period": "peak", "hours": [["16:00", "20:00"]]}, {"period": "base", "hours": [["20:00", "16:00"]]}],
             "prices": [{"from": "2026-01-01", "energy": {"peak": "0.10", "base": "0.10"},
                         "demand": [{"name": "peak demand", "window": 30, "periods": ["peak"],
                                     "tiers": [{"up_to": 5, "price": 10}, {"price": 8}]}]}]}
            """)
        let values: [Int: Int64] = [12: 4000, 13: 4000, 72: 3000, 73: 2000]
        let b = try Rater(tariff: tf, from: t("2026-06-10T00:00:00Z"), to: t("2026-06-11T00:00:00Z"))
            .rate(intervals(from: "2026-06-10T00:00:00Z", count: 96) { values[$0] ?? 250 })
        let demand = b.lines.filter { $0.kind == .demand }
        #expect(demand.map(\.quantity) == [Nano(units: 5), Nano(units: 5)])
        #expect(demand.map(\.amount) == [5000, 4000])
        #expect(demand.first?.unit == "kW")
        #expect(b.usage == Nano(units: 36))
        #expect(b.lines.filter { $0.kind == .energy }.reduce(0) { $0 + $1.amount } == 360)
        #expect(b.total == 9360)
    }

    @Test func minimumChargeAndEstimatedLines() throws {
        // 10 kWh at 0.25 = 2.50, below the minimum 5.00: a minimum line of 2.50. Half the usage is
        // estimated, and the energy line says so.
        let tf = try tariff("""
            {"tariff": "min", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC",
             "prices": [{"from": "2026-01-01", "energy": "0.25", "minimum": "5.00"}]}
            """)
        var iv = intervals(from: "2026-06-01T00:00:00Z", count: 4, seconds: 3600) { _ in 2500 }
        iv[1].estimated = true
        iv[2].estimated = true
        let b = try Rater(tariff: tf, from: t("2026-06-01T00:00:00Z"), to: t("2026-07-01T00:00:00Z")).rate(iv)
        #expect(line(b, .energy)?.estimated == Nano(units: 5))
        #expect(line(b, .minimum)?.amount == 250)
        #expect(b.total == 500)
        #expect(b.estimated)
    }

    @Test func roundingIsHalfAwayFromZeroOncePerLine() {
        // 0.125 kWh × 0.10 = 0.0125 → 0.01; 3 × 0.005 = 0.015 → 0.02; −0.015 → −0.02.
        #expect(Money.amount(Nano(text: "0.125")!, Nano(text: "0.10")!, minorUnits: 2) == 1)
        #expect(Money.amount(Nano(units: 3), Nano(text: "0.005")!, minorUnits: 2) == 2)
        #expect(Money.amount(Nano(units: -3), Nano(text: "0.005")!, minorUnits: 2) == -2)
        #expect(Money.percentage(2690, Nano(text: "0.21")!) == 565)
        #expect(Nano(text: "0.0000000001") == nil)
        #expect(Money.text(-305, minorUnits: 2) == "-3.05")
    }

    @Test(arguments: [
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "time_of_use": [{"period": "a", "hours": [["00:00", "12:00"]]}, {"period": "b", "hours": [["13:00", "24:00"]]}], "prices": [{"from": "2026-01-01", "energy": {"a": 1, "b": 1}}]}"#,
         "gap.json: time_of_use: gap in the calendar: no period covers season all on mondays at 12:00"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "time_of_use": [{"period": "a", "hours": [["00:00", "12:00"]]}, {"period": "b", "days": ["weekend"], "hours": [["11:00", "24:00"]]}, {"period": "b", "days": ["weekday"], "hours": [["12:00", "24:00"]]}], "prices": [{"from": "2026-01-01", "energy": {"a": 1, "b": 1}}]}"#,
         "gap.json: time_of_use[1]: period 'b' overlaps time_of_use[0] ('a') in season all on saturdays at 11:00"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": "-0.1"}]}"#,
         "gap.json: prices[0].energy: negative price -0.1"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "Mars/Olympus", "prices": []}"#,
         "gap.json: time_zone: 'Mars/Olympus' is not an IANA time zone"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "time_of_use": [{"period": "a"}], "prices": [{"from": "2026-01-01", "energy": {"b": 1}}]}"#,
         "gap.json: prices[0].energy.b: no time-of-use period 'b'"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": [{"up_to": 10, "price": 1}, {"up_to": 5, "price": 2}, {"price": 3}]}]}"#,
         "gap.json: prices[0].energy[1].up_to: not above the previous tier's"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-02-01", "energy": 1}, {"from": "2026-01-01", "energy": 1}]}"#,
         "gap.json: prices[1].from: not after the previous version's date"),
        (#"{"tariff": "x", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": 1, "minimum": "1.005"}]}"#,
         "gap.json: prices[0].minimum: 1.005 has more decimals than the currency's 2"),
    ])
    func badTariffsNameTheFileAndField(json: String, message: String) {
        #expect(throws: TariffError.self) { try tariff(json, file: "gap.json") }
        do {
            _ = try tariff(json, file: "gap.json")
        } catch {
            #expect((error as? TariffError)?.description == message)
        }
    }

    @Test func aSpanBeforeTheFirstPricesIsRefused() throws {
        let tf = try tariff(#"{"tariff": "x", "medium": "water", "unit": "m3", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": 1}]}"#)
        #expect(tf.quantity == "volume")
        #expect(throws: BillingError("tariff x has no prices before 2026-01-01")) {
            try Rater(tariff: tf, from: t("2025-12-01T00:00:00Z"), to: t("2026-01-02T00:00:00Z"))
        }
    }

    @Test func urdbLeapYearSampleBillsALeapDay() throws {
        let file = Self.urdb.appendingPathComponent("leap_year_urdb_response.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        var importer = URDBImport(file: "leap_year")
        let text = try importer.convert(Array(try Data(contentsOf: file)), options: .init(name: "leap", timeZone: "America/Denver"))
        let tf = try tariff(text)
        // 2024-02-29 (a Thursday) in Denver, quarter-hours of 0.5 kWh (2 kW):
        // period 1 (00–07, 20–24) 11 h = 22 kWh × 0.28 = 6.16; period 2 (07–20) 13 h = 26 kWh × 0.36 = 9.36;
        // fixed 24.878 $/day → 24.88; flat demand (February, index 2) 2 kW × 18.05 = 36.10;
        // TOU demand period 2 (weekdays 14–20) 2 kW × 10 = 20.00. Total 96.50.
        let from = BillTime("2024-02-29")!.resolve(tf), to = BillTime("2024-03-01")!.resolve(tf)
        #expect(from == t("2024-02-29T07:00:00Z"))
        let b = try Rater(tariff: tf, from: from, to: to).rate(intervals(from: "2024-02-29T07:00:00Z", count: 96) { _ in 500 })
        #expect(line(b, .energy, period: "period1")?.amount == 616)
        #expect(line(b, .energy, period: "period2")?.amount == 936)
        #expect(line(b, .fixed)?.amount == 2488)
        #expect(b.lines.filter { $0.kind == .demand }.map { "\($0.name) \($0.quantity!) \($0.amount)" }
                == ["flat demand 2 2 3610", "demand period2 2 2000"])
        #expect(b.total == 9650)
    }

    @Test func urdbPeriodsWithDifferentNumbersOfTiers() throws {
        let file = Self.urdb.appendingPathComponent("multi_tier_urdb_response.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        var importer = URDBImport(file: "multi_tier")
        let tf = try tariff(try importer.convert(Array(try Data(contentsOf: file)), options: .init(name: "m", timeZone: "UTC")))
        // Period 1 (May–October) has two tiers (20,000 kWh at 0.078891, then 0.06); period 2 one (0.061731).
        #expect(tf.periods == ["period1", "period2"])
        #expect(tf.versions[0].energy.map(\.count) == [2, 1])
        #expect(tf.versions[0].energy[0][0].upTo == Nano(units: 20_000))
        #expect(tf.versions[0].fixed.first?.per == .day)
        // June 2026, quarter-hours of 7.5 kWh (30 kW) and one of 30 kWh (120 kW): 2879 × 7.5 + 30 = 21,622.5 kWh;
        // 20,000 × 0.078891 = 1577.82; 1,622.5 × 0.06 = 97.35; 30 days × 3.298 = 98.94;
        // demand 120 kW: 100 kW at 24.368 = 2436.80, 20 kW at 17.031 = 340.62.
        let b = try Rater(tariff: tf, from: t("2026-06-01T00:00:00Z"), to: t("2026-07-01T00:00:00Z"))
            .rate(intervals(from: "2026-06-01T00:00:00Z", count: 720 * 4) { $0 == 100 ? 30_000 : 7500 })
        #expect(b.lines.filter { $0.kind == .energy }.map(\.amount) == [157_782, 9735])
        #expect(line(b, .fixed)?.amount == 9894)
        #expect(b.lines.filter { $0.kind == .demand }.map(\.amount) == [243_680, 34_062])
        #expect(b.total == 157_782 + 9735 + 9894 + 243_680 + 34_062)
    }
}

/// Bills from the store: register advances where a meter has no interval data.
@Suite struct BillingStoreTests {
    @Test func aMeterWithoutIntervalsIsBilledByItsRegisterAdvance() throws {
        let f = try StoreFixture()
        let reading = #"{"type":"reading","v":1,"meter":"R1","quantity":"energy","value":VALUE,"unit":"Wh","time":"TIME","protocol":"mbus"}"#
        try f.ingest([("1000000", "2026-05-31T23:50:00Z"), ("1040000", "2026-06-15T00:00:00Z"), ("1150500", "2026-06-30T23:55:00Z"),
                      ("1200000", "2026-07-01T00:05:00Z")].map {
            reading.replacingOccurrences(of: "VALUE", with: $0.0).replacingOccurrences(of: "TIME", with: $0.1)
        }, vee: false)
        let billing = BillingStore(store: f.store)
        try billing.addTariff(#"{"tariff": "flat", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": "0.20"}]}"#,
                              file: "flat.json", run: nil)
        try billing.addAccount(name: "A", meter: "R1", tariff: "flat", prepaid: false, contact: nil,
                               opened: UTCTime(iso8601: "2026-06-01T00:00:00Z")!, debt: 0, run: nil)
        // The last readings at or before each end: 1,000,000 Wh and 1,150,500 Wh: 150.5 kWh × 0.20 = 30.10.
        let bills = try billing.billAccounts([], from: BillTime("2026-06-01")!, to: BillTime("2026-07-01")!, run: nil)
        #expect(bills.count == 1)
        #expect(bills.first?.body.fromRegisters == true)
        #expect(bills.first?.body.usage == Nano(text: "150.5"))
        #expect(bills.first?.body.total == 3010)
        #expect(bills.first?.record.text.contains(#""basis":"register""#) == true)
        // A time-of-use tariff cannot split a register advance: refused, nothing billed.
        try billing.addTariff(#"{"tariff": "flat", "medium": "electricity", "unit": "kWh", "currency": "EUR", "time_zone": "UTC", "time_of_use": [{"period": "a", "hours": [["00:00", "12:00"]]}, {"period": "b", "hours": [["12:00", "24:00"]]}], "prices": [{"from": "2026-01-01", "energy": {"a": 1, "b": 2}}]}"#,
                              file: "tou.json", run: nil)
        #expect(throws: BillingError("account A: tariff flat has time-of-use periods or demand charges: it needs interval data, not register readings")) {
            try billing.billAccounts([], from: BillTime("2026-07-01")!, to: BillTime("2026-08-01")!, run: nil)
        }
        #expect(try f.store.db.scalar("SELECT count(*) FROM bill") == 1)
    }
}
