/// Exact arithmetic on stored values (integers with a decimal exponent), in Int128: VEE works on
/// values that fit in Int64 at their channel's exponent, whose sums and products fit in Int128.
/// Products with factors from elsewhere (config values, powers of ten) saturate instead of
/// overflowing, which keeps every comparison right.
enum Scaled {
    /// 10^n for n in 0...38; larger n saturate at Int128.max.
    static func pow10(_ n: Int) -> Int128 {
        if n > 38 { return Int128.max }
        var p: Int128 = 1
        for _ in 0..<max(0, n) { p *= 10 }
        return p
    }

    /// a × b, or Int128.max / Int128.min when that overflows.
    static func mul(_ a: Int128, _ b: Int128) -> Int128 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        if !o { return r }
        return (a < 0) != (b < 0) ? Int128.min : Int128.max
    }

    /// `v × 10^e` in units of 10^`target` (target ≤ e), or nil when that is not an Int64.
    static func at(_ v: Int64, _ e: Int, _ target: Int) -> Int64? { Int64(exactly: mul(Int128(v), pow10(e - target))) }

    /// ⌊d / 10^scale⌋: the largest integer at `scale` not above `d` (saturated).
    static func floor(_ d: ExactDecimal, scale: Int) -> Int128 {
        if d.exponent >= scale { return mul(Int128(d.significand), pow10(d.exponent - scale)) }
        let div = pow10(scale - d.exponent)
        let q = Int128(d.significand) / div
        return (Int128(d.significand) % div != 0 && d.significand < 0) ? q - 1 : q
    }

    /// ⌈d / 10^scale⌉.
    static func ceil(_ d: ExactDecimal, scale: Int) -> Int128 {
        -floor(ExactDecimal(-d.significand, exponent: d.exponent), scale: scale)
    }

    /// n / d rounded to the nearest integer, halves away from zero (d > 0).
    static func roundDiv(_ n: Int128, _ d: Int128) -> Int128 {
        let q = n / d, r = n % d
        if r.magnitude * 2 >= d.magnitude { return n < 0 ? q - 1 : q + 1 }
        return q
    }

    /// |a − b| exceeds `percent` % of |reference|.
    static func differs(_ a: Int128, _ b: Int128, percent: ExactDecimal, of reference: Int128) -> Bool {
        let diff = Int128((a - b).magnitude)
        // diff × 100 > p × |ref|, with p = s × 10^e: compare diff × 100 × 10^-e with s × |ref| (e ≤ 0),
        // or diff × 100 with s × 10^e × |ref| (e > 0).
        let s = Int128(percent.significand.magnitude), ref = Int128(reference.magnitude)
        if percent.exponent <= 0 {
            return mul(mul(diff, 100), pow10(-percent.exponent)) > mul(s, ref)
        }
        return mul(diff, 100) > mul(mul(s, pow10(percent.exponent)), ref)
    }
}

/// When a meter may use energy: its status and install/remove times.
public struct MeterActivity: Sendable, Equatable {
    public var status: String
    public var installed: Int64?
    public var removed: Int64?

    public init(status: String = "active", installed: Int64? = nil, removed: Int64? = nil) {
        self.status = status
        self.installed = installed
        self.removed = removed
    }

    /// Active at `t` (ms): status active (or removed, within its install period) and within [installed, removed).
    public func isActive(at t: Int64) -> Bool {
        if status == "inactive" { return false }
        if let i = installed, t <= i { return false }
        if let r = removed, t > r { return false }
        if status == "removed" && removed == nil { return false }
        return true
    }
}

/// A stored value point of one channel: time (ms), value at the series' exponent, quality bits.
struct Point: Equatable {
    var time: Int64
    var value: Int128
    var quality: Int64
}

/// The validation rules (ami-store(1), VEE), as pure functions over one channel's actual points in
/// time order, values at one exponent. Each returns the flags per point.
struct Rules {
    let config: VEEConfig
    let quantity: Quantity
    /// The decimal exponent of the points' values.
    let exponent: Int
    let activity: MeterActivity

    /// High and low thresholds for this quantity.
    func thresholds(_ p: [Point], into flags: inout [QualityFlag]) {
        if let h = config.high[quantity] {
            let limit = Scaled.floor(h, scale: exponent)
            for i in p.indices where p[i].value > limit { flags[i].insert(.high) }
        }
        if let l = config.low[quantity] {
            let limit = Scaled.ceil(l, scale: exponent)
            for i in p.indices where p[i].value < limit { flags[i].insert(.low) }
        }
    }

    /// Interval rules: thresholds, reverse flow, usage on an inactive meter, spikes against the
    /// previous valid value, runs of zeros. `interval` in ms.
    func intervals(_ p: [Point], interval: Int64) -> [QualityFlag] {
        var flags = [QualityFlag](repeating: [], count: p.count)
        thresholds(p, into: &flags)
        let fs = Int128(config.spikeFactor.significand), fe = config.spikeFactor.exponent
        var previousValid: Int128?
        var zeroStart = -1
        let zeroSpan = config.zeroRun * 1000
        for i in p.indices {
            let v = p[i].value
            if config.reverseFlow && v < 0 { flags[i].insert(.reverseFlow) }
            if v != 0 && !activity.isActive(at: p[i].time) { flags[i].insert(.inactiveMeter) }
            if let prev = previousValid, prev > 0 {
                // v > factor × prev, factor = fs × 10^fe
                let spike = fe <= 0 ? Scaled.mul(v, Scaled.pow10(-fe)) > fs * prev
                    : v > Scaled.mul(Scaled.mul(fs, Scaled.pow10(fe)), prev)
                if spike { flags[i].insert(.spike) }
            }
            if flags[i].isDisjoint(with: [.spike, .high, .low]) { previousValid = v }
            // Zero runs: contiguous intervals of zero.
            let contiguous = i > 0 && p[i].time - p[i - 1].time == interval
            if v == 0 {
                if zeroStart < 0 || !contiguous { zeroStart = i }
                let span = Int64(i - zeroStart + 1) * interval
                if zeroSpan > 0 && span >= zeroSpan {
                    for k in zeroStart...i { flags[k].insert(.zeros) }
                }
            } else {
                zeroStart = -1
            }
        }
        return flags
    }

    /// Thresholds alone (registers of values that go up and down: power, voltage, temperature).
    func thresholdsOnly(_ p: [Point]) -> [QualityFlag] {
        var flags = [QualityFlag](repeating: [], count: p.count)
        thresholds(p, into: &flags)
        return flags
    }

    /// Rules for registers that count up: thresholds, decrease (or rollover), usage on an inactive
    /// meter.
    func registers(_ p: [Point]) -> [QualityFlag] {
        var flags = [QualityFlag](repeating: [], count: p.count)
        thresholds(p, into: &flags)
        for i in p.indices.dropFirst() {
            let prev = p[i - 1].value, v = p[i].value
            if v < prev {
                flags[i].insert(Rules.isRollover(from: prev, to: v) ? .rollover : .registerDecrease)
            } else if v > prev && !activity.isActive(at: p[i].time) {
                flags[i].insert(.inactiveMeter)
            }
        }
        return flags
    }

    /// A decrease that looks like a register of k digits passing its largest value: the previous
    /// value is at least 90 % of 10^k and the new one below 10 % of it.
    static func isRollover(from prev: Int128, to v: Int128) -> Bool {
        guard prev > 0, v >= 0 else { return false }
        var top: Int128 = 1
        while top <= prev { top *= 10 }
        return prev * 10 >= top * 9 && v * 10 < top
    }

    /// Flags on register points whose advance since the previous register point differs from the sum
    /// of the actual intervals between them (every interval present), beyond `advanceTolerance`.
    /// Both series at the same exponent; `interval` in ms.
    func advances(registers r: [Point], intervals: [Point], interval: Int64) -> [QualityFlag] {
        var flags = [QualityFlag](repeating: [], count: r.count)
        var byTime: [Int64: Int128] = [:]
        for p in intervals { byTime[p.time] = p.value }
        for i in r.indices.dropFirst() {
            let t0 = r[i - 1].time, t1 = r[i].time
            guard t0 % interval == 0, t1 % interval == 0, t1 > t0 else { continue }
            var sum: Int128 = 0
            var complete = true
            var t = t0 + interval
            while t <= t1 {
                guard let v = byTime[t] else { complete = false; break }
                sum += v
                t += interval
            }
            guard complete else { continue }
            let advance = r[i].value - r[i - 1].value
            if Scaled.differs(advance, sum, percent: config.advanceTolerance, of: advance) { flags[i].insert(.advanceMismatch) }
        }
        return flags
    }

    /// Flags on total-register points where the tariff registers at the same time do not add up.
    func tou(total: [Point], tariffs: [[Point]]) -> [QualityFlag] {
        var flags = [QualityFlag](repeating: [], count: total.count)
        let maps = tariffs.map { Dictionary($0.map { ($0.time, $0.value) }, uniquingKeysWith: { a, _ in a }) }
        for i in total.indices {
            var sum: Int128 = 0
            var all = true
            for m in maps {
                guard let v = m[total[i].time] else { all = false; break }
                sum += v
            }
            if all && Scaled.differs(sum, total[i].value, percent: config.touTolerance, of: total[i].value) {
                flags[i].insert(.touMismatch)
            }
        }
        return flags
    }

    /// A meter-clock reading (`clock` text, ISO 8601) further from its reading time than the tolerance.
    func clockOff(text: String, time: Int64) -> Bool {
        guard let clock = UTCTime(iso8601: text) else { return false }
        return abs(clock.milliseconds - time) > config.timeTolerance * 1000
    }
}

/// How a missing interval was filled.
public enum EstimateMethod: String, Sendable, CaseIterable {
    case registerSpread = "register-spread"
    case interpolation
    case likeDay = "like-day"
}

/// The estimators (ami-store(1), ESTIMATION), as pure functions.
enum Estimators {
    /// Linear interpolation between the intervals before (`a`) and after (`b`) a gap, one value per
    /// missing slot, rounded half away from zero.
    static func interpolate(_ a: Int128, _ b: Int128, count k: Int) -> [Int128] {
        (1...k).map { i in Scaled.roundDiv(a * Int128(k + 1) + (b - a) * Int128(i), Int128(k + 1)) }
    }

    /// `total` spread evenly over `count` slots, the remainder one unit at a time from the first
    /// slot, so the slots add up to `total` exactly. Nil when `total` is negative.
    static func spread(_ total: Int128, count: Int) -> [Int128]? {
        guard total >= 0, count > 0 else { return nil }
        let q = total / Int128(count), r = Int(total % Int128(count))
        return (0..<count).map { q + ($0 < r ? 1 : 0) }
    }

    /// The like days of a local day `day` (days since the epoch): the same weekday, nearest first
    /// (the earlier of two as near), within `window` days.
    static func likeDayCandidates(of day: Int, window: Int) -> [Int] {
        var out: [Int] = []
        var k = 7
        while k <= window {
            out.append(day - k)
            out.append(day + k)
            k += 7
        }
        return out
    }

    /// The average (rounded) of up to `n` values, or nil when there are none.
    static func average(_ values: [Int128]) -> Int128? {
        guard !values.isEmpty else { return nil }
        return Scaled.roundDiv(values.reduce(0, +), Int128(values.count))
    }
}

/// Local calendar days of a zone, for the like-day estimator.
struct LocalDays {
    let zone: LocalTimeZone

    /// The local day (days since the epoch) and time of day (ms) of an instant.
    func split(_ t: Int64) -> (day: Int, timeOfDay: Int64) {
        let local = t + Int64(zone.offset(at: UTCTime(milliseconds: t))) * 1000
        var day = local / 86_400_000
        if local < 0 && local % 86_400_000 != 0 { day -= 1 }
        return (Int(day), local - day * 86_400_000)
    }

    /// The instants at which local day `day` starts and ends (23, 24 or 25 hours apart).
    func bounds(_ day: Int) -> (start: Int64, end: Int64)? {
        func midnight(_ d: Int) -> Int64? {
            let (y, m, dd) = CivilDate.civilFromDays(d)
            return zone.utc(year: y, month: m, day: dd, hour: 0, minute: 0, second: 0)?.milliseconds
        }
        guard let s = midnight(day), let e = midnight(day + 1) else { return nil }
        return (s, e)
    }
}
