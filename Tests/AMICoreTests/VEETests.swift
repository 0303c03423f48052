import Foundation
import Testing
@testable import AMICore

/// Every validation rule and estimator, with expectations worked out by hand; the like-day
/// estimator on the 23- and 25-hour days of Europe/Amsterdam.
@Suite struct VEETests {
    static let hour: Int64 = 3_600_000
    static let quarter: Int64 = 900_000

    func points(_ values: [Int128?], step: Int64 = quarter, start: Int64 = 0) -> [Point] {
        values.enumerated().compactMap { i, v in v.map { Point(time: start + Int64(i + 1) * step, value: $0, quality: 0) } }
    }

    func rules(_ config: VEEConfig = VEEConfig(), quantity: Quantity = "energy", exponent: Int = 0,
               activity: MeterActivity = MeterActivity()) -> Rules {
        Rules(config: config, quantity: quantity, exponent: exponent, activity: activity)
    }

    // MARK: exact arithmetic

    @Test func scaledArithmeticIsExact() {
        #expect(Scaled.floor(ExactDecimal(105, exponent: -1), scale: 0) == 10)
        #expect(Scaled.floor(ExactDecimal(-105, exponent: -1), scale: 0) == -11)
        #expect(Scaled.ceil(ExactDecimal(105, exponent: -1), scale: 0) == 11)
        #expect(Scaled.floor(ExactDecimal(3, exponent: 2), scale: -1) == 3000)
        #expect(Scaled.roundDiv(5, 2) == 3)
        #expect(Scaled.roundDiv(-5, 2) == -3)
        #expect(Scaled.roundDiv(4, 3) == 1)
        #expect(Scaled.differs(101, 100, percent: ExactDecimal(1), of: 100) == false)
        #expect(Scaled.differs(102, 100, percent: ExactDecimal(1), of: 100) == true)
        #expect(Scaled.differs(1005, 1000, percent: ExactDecimal(5, exponent: -1), of: 1000) == false)
    }

    // MARK: validation rules

    @Test func highAndLowThresholdsInTheChannelsUnit() {
        var c = VEEConfig()
        c.high["energy"] = ExactDecimal(300)
        c.low["energy"] = ExactDecimal(105, exponent: -1)   // 10.5 Wh
        // Values in units of 0.1 Wh (exponent -1): 3000 = 300 Wh is not above, 3001 is; 104 < 10.5 Wh, 105 is not.
        let f = rules(c, exponent: -1).intervals(points([3000, 3001, 104, 105]), interval: Self.quarter)
        #expect(f == [[], .high, .low, []])
    }

    @Test func reverseFlowIsANegativeInterval() {
        #expect(rules().intervals(points([5, -1, 0]), interval: Self.quarter) == [[], .reverseFlow, []])
        var c = VEEConfig()
        c.reverseFlow = false
        #expect(rules(c).intervals(points([5, -1]), interval: Self.quarter) == [[], []])
    }

    @Test func spikesAreMeasuredAgainstThePreviousValidValue() {
        // 1001 > 10 × 100: a spike; the next one is still compared with 100 (the spike is not valid).
        // 1000 is not more than 10 × 100. After a zero, nothing is a spike.
        let f = rules().intervals(points([100, 1001, 1001, 1000, 0, 5000]), interval: Self.quarter)
        #expect(f == [[], .spike, .spike, [], [], []])
        var c = VEEConfig()
        c.spikeFactor = ExactDecimal(25, exponent: -1)   // 2.5×
        #expect(rules(c).intervals(points([100, 251, 250]), interval: Self.quarter) == [[], .spike, []])
    }

    @Test func aRunOfZerosLongEnoughIsFlaggedWhole() {
        var c = VEEConfig()
        c.zeroRun = 3600   // four 15-minute intervals
        #expect(rules(c).intervals(points([1, 0, 0, 0, 2]), interval: Self.quarter) == [[], [], [], [], []])
        #expect(rules(c).intervals(points([1, 0, 0, 0, 0, 0, 2]), interval: Self.quarter)
                == [[], .zeros, .zeros, .zeros, .zeros, .zeros, []])
        // A gap breaks the run: 0 0 _ 0 0 is two runs of two.
        #expect(rules(c).intervals(points([0, 0, nil, 0, 0]), interval: Self.quarter) == [[], [], [], []])
    }

    @Test func usageOnAnInactiveMeter() {
        let removed = MeterActivity(status: "removed", installed: nil, removed: 2 * Self.quarter)
        #expect(rules(activity: removed).intervals(points([1, 1, 1, 0]), interval: Self.quarter) == [[], [], .inactiveMeter, []])
        let inactive = MeterActivity(status: "inactive")
        #expect(rules(activity: inactive).registers(points([10, 10, 12])) == [[], [], .inactiveMeter])
        let notYet = MeterActivity(status: "active", installed: 2 * Self.quarter)
        #expect(rules(activity: notYet).intervals(points([1, 1, 1]), interval: Self.quarter) == [.inactiveMeter, .inactiveMeter, []])
    }

    @Test func registerDecreaseAndRollover() {
        #expect(rules().registers(points([100, 90, 95])) == [[], .registerDecrease, []])
        // A 5-digit register passing 99 999: 99 950 → 30 is a rollover; 50 000 → 30 is a decrease.
        #expect(rules().registers(points([99_950, 30])) == [[], .rollover])
        #expect(rules().registers(points([50_000, 30])) == [[], .registerDecrease])
        #expect(Rules.isRollover(from: 99_999_500, to: 1_200))
        #expect(!Rules.isRollover(from: 99_999_500, to: 10_000_000))
    }

    @Test func registerAdvanceAgainstTheSumOfIntervals() {
        // Registers at 00:00 and 01:00: advance 100. Intervals 25+25+25+30 = 105 (5 % off, over 1 %);
        // 25 × 4 = 100 matches; with one interval missing nothing can be said.
        let registers = [Point(time: 0, value: 1000, quality: 0), Point(time: Self.hour, value: 1100, quality: 0)]
        #expect(rules().advances(registers: registers, intervals: points([25, 25, 25, 30]), interval: Self.quarter) == [[], .advanceMismatch])
        #expect(rules().advances(registers: registers, intervals: points([25, 25, 25, 25]), interval: Self.quarter) == [[], []])
        #expect(rules().advances(registers: registers, intervals: points([25, nil, 25, 30]), interval: Self.quarter) == [[], []])
        var c = VEEConfig()
        c.advanceTolerance = ExactDecimal(5)
        #expect(rules(c).advances(registers: registers, intervals: points([25, 25, 25, 30]), interval: Self.quarter) == [[], []])
    }

    @Test func tariffRegistersAgainstTheTotal() {
        let total = [Point(time: 0, value: 300, quality: 0), Point(time: Self.hour, value: 350, quality: 0)]
        let t1 = [Point(time: 0, value: 100, quality: 0), Point(time: Self.hour, value: 120, quality: 0)]
        let t2 = [Point(time: 0, value: 150, quality: 0), Point(time: Self.hour, value: 230, quality: 0)]
        #expect(rules().tou(total: total, tariffs: [t1, t2]) == [.touMismatch, []])
    }

    @Test func meterClockAgainstTheReadingTime() {
        let t = UTCTime(iso8601: "2026-01-05T10:00:00Z")!.milliseconds
        #expect(!rules().clockOff(text: "2026-01-05T10:01:00Z", time: t))
        #expect(rules().clockOff(text: "2026-01-05T10:01:01Z", time: t))
    }

    // MARK: estimators

    @Test func linearInterpolationRoundsHalfAwayFromZero() {
        #expect(Estimators.interpolate(200, 400, count: 1) == [300])
        #expect(Estimators.interpolate(100, 500, count: 3) == [200, 300, 400])
        #expect(Estimators.interpolate(0, 1, count: 2) == [0, 1])        // 1/3 → 0, 2/3 → 1
        #expect(Estimators.interpolate(10, 5, count: 1) == [8])         // 7.5 → 8
    }

    @Test func aSpreadAddsUpExactly() {
        #expect(Estimators.spread(250, count: 3) == [84, 83, 83])
        #expect(Estimators.spread(0, count: 2) == [0, 0])
        #expect(Estimators.spread(-1, count: 2) == nil)
    }

    @Test func likeDaysAreTheSameWeekdayNearestFirst() {
        #expect(Estimators.likeDayCandidates(of: 100, window: 28) == [93, 107, 86, 114, 79, 121, 72, 128])
        #expect(Estimators.average([10, 30, 20]) == 20)
        #expect(Estimators.average([1, 2]) == 2)
        #expect(Estimators.average([]) == nil)
    }

    @Test func amsterdamHas23And25HourDays() {
        let days = LocalDays(zone: LocalTimeZone("Europe/Amsterdam")!)
        let spring = CivilDate.daysFromCivil(year: 2026, month: 3, day: 29)
        let autumn = CivilDate.daysFromCivil(year: 2026, month: 10, day: 25)
        let s = days.bounds(spring)!, a = days.bounds(autumn)!
        #expect(s.end - s.start == 23 * Self.hour)
        #expect(a.end - a.start == 25 * Self.hour)
        #expect(UTCTime(milliseconds: s.start).description == "2026-03-28T23:00:00Z")
        // 04:00 local on the spring day is 02:00 UTC.
        #expect(days.split(UTCTime(iso8601: "2026-03-29T02:00:00Z")!.milliseconds) == (spring, 4 * Self.hour))
    }

    // MARK: through the store

    @Test func aShortGapIsInterpolated() throws {
        let f = try StoreFixture()
        let (_, v) = try f.ingest(intervalLines(start: "2026-01-05T00:15:00Z", values: [100, nil, nil, nil, 500]))
        #expect(v.estimatedBy == ["interpolation": 3])
        #expect(try f.series() == ["2026-01-05T00:15:00Z 100", "2026-01-05T00:30:00Z 200 3.8.0", "2026-01-05T00:45:00Z 300 3.8.0",
                                   "2026-01-05T01:00:00Z 400 3.8.0", "2026-01-05T01:15:00Z 500"])
        #expect(try f.count("SELECT count(*) FROM audit WHERE action = 'estimate' AND new LIKE '%by interpolation'") == 3)
    }

    @Test func aRegisterAdvanceIsSpreadOverTheMissingIntervals() throws {
        let f = try StoreFixture()
        // Register 1000 at 00:00 and 1500 at 02:00; intervals 00:15…02:00 with 00:45, 01:00, 01:15
        // missing and the five others 50 each: 500 − 250 = 250 spread as 84, 83, 83.
        let registers = [readingLine(value: "1000", time: "2026-01-05T00:00:00Z"), readingLine(value: "1500", time: "2026-01-05T02:00:00Z")]
        let (_, v) = try f.ingest(registers + intervalLines(start: "2026-01-05T00:15:00Z", values: [50, 50, nil, nil, nil, 50, 50, 50]))
        #expect(v.estimatedBy == ["register-spread": 3])
        let estimates = try f.series().filter { $0.hasSuffix("3.8.0") }
        #expect(estimates == ["2026-01-05T00:45:00Z 84 3.8.0", "2026-01-05T01:00:00Z 83 3.8.0", "2026-01-05T01:15:00Z 83 3.8.0"])
    }

    @Test func advanceMismatchIsFlaggedOnTheRegister() throws {
        let f = try StoreFixture()
        let lines = [readingLine(value: "1000", time: "2026-01-05T00:00:00Z"), readingLine(value: "1100", time: "2026-01-05T01:00:00Z")]
            + intervalLines(start: "2026-01-05T00:15:00Z", values: [25, 25, 25, 30])
        let (_, v) = try f.ingest(lines)
        #expect(v.flagged == ["advance-mismatch": 1])
    }

    @Test func touMismatchIsFlaggedOnTheTotal() throws {
        let f = try StoreFixture()
        let t = "2026-01-05T00:00:00Z"
        let (_, v) = try f.ingest([readingLine(obis: "1.8.0", value: "300", time: t), readingLine(obis: "1.8.1", value: "100", time: t, tariff: 1),
                                   readingLine(obis: "1.8.2", value: "150", time: t, tariff: 2)])
        #expect(v.flagged == ["tou-mismatch": 1])
        #expect(try f.series().first { $0.contains(" 300") } == "\(t) 300 3.6.1011")
    }

    @Test func offGridIntervalsAreMovedOntoTheGridAndFlaggedBeyondTheTolerance() throws {
        let f = try StoreFixture()
        try f.ingest([readingLine(value: "1", time: "2026-01-05T00:15:30Z", interval: 900),
                      readingLine(value: "2", time: "2026-01-05T00:32:00Z", interval: 900)])
        #expect(try f.series() == ["2026-01-05T00:15:00Z 1", "2026-01-05T00:30:00Z 2 3.6.1010"])
    }

    @Test func aMeterClockOffTheReadingTimeIsFlagged() throws {
        let f = try StoreFixture()
        let (_, v) = try f.ingest([readingLine(quantity: "clock", value: "2026-01-05T10:05:00Z", unit: nil, time: "2026-01-05T10:00:00Z", text: true)])
        #expect(v.flagged == ["clock": 1])
    }

    /// Hourly intervals over whole local days of Amsterdam, `value(day, localHour)` each (nil: left out).
    func hourlyDays(_ days: ClosedRange<Int>, _ value: (Int, Int) -> Int?) -> [String] {
        let zone = LocalDays(zone: LocalTimeZone("Europe/Amsterdam")!)
        var lines: [String] = []
        for d in days {
            let (start, end) = zone.bounds(d)!
            var t = start
            while t < end {
                let localHour = Int(zone.split(t).timeOfDay / Self.hour)
                if let v = value(d, localHour) {
                    lines.append(readingLine(value: String(v), time: UTCTime(milliseconds: t + Self.hour).description, interval: 3600))
                }
                t += Self.hour
            }
        }
        return lines
    }

    func amsterdam() throws -> StoreFixture {
        var c = VEEConfig()
        c.timeZone = LocalTimeZone("Europe/Amsterdam")!
        return try StoreFixture(config: c)
    }

    @Test func likeDayOnThe23HourDay() throws {
        // Sunday 2026-03-29 (no 02:00 local) misses 04:00–06:00 local (02:00–04:00 UTC): two hours, more
        // than the 1-hour interpolation limit. Like days, nearest first: 03-22 (base 10), 04-05 (30),
        // 03-15 (20); the estimate at local hour h is (10+h + 30+h + 20+h) / 3 = 20 + h.
        let d = CivilDate.daysFromCivil(year: 2026, month: 3, day: 29)
        let base = [d - 14: 20, d - 7: 10, d + 7: 30]
        let f = try amsterdam()
        let (_, v) = try f.ingest(hourlyDays((d - 14)...(d + 7)) { day, h in
            day == d && (h == 4 || h == 5) ? nil : (base[day] ?? 100) + h
        }, chunkSize: 1000)
        #expect(v.estimatedBy == ["like-day": 2])
        #expect(try f.series().filter { $0.hasSuffix("3.8.0") } == ["2026-03-29T03:00:00Z 24 3.8.0", "2026-03-29T04:00:00Z 25 3.8.0"])
    }

    @Test func likeDayOnThe25HourDayUsesTheSameHourForBothOccurrences() throws {
        // Sunday 2026-10-25: 02:00 local comes twice. Missing: the intervals starting 01:00, 02:00 (CEST),
        // 02:00 (CET) and 03:00 local. Like days 10-18 (10), 11-01 (30), 10-11 (20): 21, 22, 22, 23.
        let d = CivilDate.daysFromCivil(year: 2026, month: 10, day: 25)
        let base = [d - 14: 20, d - 7: 10, d + 7: 30]
        let f = try amsterdam()
        let (_, v) = try f.ingest(hourlyDays((d - 14)...(d + 7)) { day, h in
            day == d && (1...3).contains(h) ? nil : (base[day] ?? 100) + h
        }, chunkSize: 1000)
        #expect(v.estimatedBy == ["like-day": 4])
        // 01:00 CEST = 23:00 UTC (ends 00:00Z); 02:00 CEST = 00:00Z; 02:00 CET = 01:00Z; 03:00 CET = 02:00Z.
        #expect(try f.series().filter { $0.hasSuffix("3.8.0") } == [
            "2026-10-25T00:00:00Z 21 3.8.0", "2026-10-25T01:00:00Z 22 3.8.0", "2026-10-25T02:00:00Z 22 3.8.0",
            "2026-10-25T03:00:00Z 23 3.8.0",
        ])
    }

    @Test func likeDaysWithEstimatedOrMissingDataAreSkipped() throws {
        // As on the 23-hour day, but 03-22 misses one hour (interpolated, so estimated): the like days
        // are 04-05 (30), 03-15 (20) and 04-12 (40): 30 + h.
        let d = CivilDate.daysFromCivil(year: 2026, month: 3, day: 29)
        let base = [d - 14: 20, d - 7: 10, d + 7: 30, d + 14: 40]
        let f = try amsterdam()
        let (_, v) = try f.ingest(hourlyDays((d - 14)...(d + 14)) { day, h in
            (day == d && (h == 4 || h == 5)) || (day == d - 7 && h == 12) ? nil : (base[day] ?? 100) + h
        }, chunkSize: 1000)
        #expect(v.estimatedBy == ["like-day": 2, "interpolation": 1])
        #expect(try f.series().filter { $0.hasPrefix("2026-03-29") && $0.hasSuffix("3.8.0") }
                == ["2026-03-29T03:00:00Z 34 3.8.0", "2026-03-29T04:00:00Z 35 3.8.0"])
    }

    @Test func aLongGapWithoutLikeDaysIsKnownMissing() throws {
        let f = try StoreFixture()
        let (_, v) = try f.ingest(intervalLines(start: "2026-01-05T00:15:00Z", values: [1, nil, nil, nil, nil, nil, 2]))
        #expect(v.missing == 5)
        #expect(v.estimated == 0)
        #expect(try f.count("SELECT count(*) FROM reading WHERE value IS NULL AND quality = 2") == 5)
        #expect(try f.series().count == 2)   // known-missing rows are not written by query
        // When the data arrives, it replaces the missing rows.
        let (s, _) = try f.ingest(intervalLines(start: "2026-01-05T00:30:00Z", values: [3, 3, 3, 3, 3]))
        #expect(s.replacedEstimates == 5)
        #expect(try f.count("SELECT count(*) FROM reading WHERE quality != 0") == 0)
    }

    @Test func hugeValuesExponentsAndFactorsNeitherTrapNorMislead() throws {
        var c = VEEConfig()
        c.high["energy"] = ExactDecimal(1, exponent: 300)
        c.low["energy"] = ExactDecimal(-1, exponent: 300)
        c.spikeFactor = ExactDecimal(1, exponent: -300)
        c.advanceTolerance = ExactDecimal(1, exponent: -300)
        let f = try StoreFixture(config: c)
        let (_, v) = try f.ingest(intervalLines(start: "2026-01-05T00:15:00Z", values: [999_999_999_999_999_999, nil, 5, 6, -7])
                                  + [readingLine(value: "1e300", time: "2026-01-05T01:30:00Z", interval: 900),
                                     readingLine(value: "0", time: "2026-01-05T00:00:00Z"),
                                     readingLine(value: "9e17", time: "2026-01-05T01:00:00Z")])
        // 1e300 cannot be an Int64 at exponent 0: stored, left out of VEE. The spike factor 1e-300
        // makes 5 and 6 spikes against 999…999 (the last valid value); nothing is above 1e300 or
        // below -1e300; -7 is reverse flow.
        #expect(v.flagged == ["spike": 2, "reverse-flow": 1])
        #expect(try f.series().contains("2026-01-05T01:30:00Z 1\(String(repeating: "0", count: 300))"))
        #expect(Scaled.mul(Int128.max, 2) == Int128.max && Scaled.mul(Int128.min, 2) == Int128.min)
        #expect(Scaled.at(Int64.max, 1, 0) == nil)
    }

    @Test func configFileParsesAndNamesBadLines() throws {
        let c = try VEEConfig(text: "# comment\ntimezone = Europe/Amsterdam\nmax-interpolation = 7200\nhigh.energy = 2.5\nreverse-flow = no\n",
                              name: "vee.conf")
        #expect(c.timeZone.identifier == "Europe/Amsterdam")
        #expect(c.maxInterpolation == 7200)
        #expect(c.high["energy"] == ExactDecimal(25, exponent: -1))
        #expect(!c.reverseFlow)
        #expect(throws: StoreError("vee.conf:2: unknown parameter 'spikes'")) { try VEEConfig(text: "\nspikes = 3", name: "vee.conf") }
        #expect(throws: StoreError("vee.conf:1: like-days wants a positive whole number, not 'x'")) {
            try VEEConfig(text: "like-days = x", name: "vee.conf")
        }
    }
}
