/// The parameters of validation, estimation and ingest checks, read from a config file of
/// `name = value` lines (`#` starts a comment line). Defaults are documented in ami-store(1), VEE.
public struct VEEConfig: Sendable, Equatable {
    /// The zone whose calendar days the like-day estimator compares.
    public var timeZone = LocalTimeZone.utc
    /// The longest gap filled by linear interpolation, in seconds.
    public var maxInterpolation: Int64 = 3600
    /// How many like days an estimate averages, and how far (days) to look for them.
    public var likeDays = 3
    public var likeDayWindow = 28
    /// A value more than this many times the previous valid (positive) value is a spike.
    public var spikeFactor = ExactDecimal(10)
    /// Consecutive zero intervals covering at least this many seconds are flagged.
    public var zeroRun: Int64 = 86_400
    /// Negative interval values are flagged as reverse flow.
    public var reverseFlow = true
    /// Seconds a reading's time may be off its interval grid, or a meter clock off the reading time.
    public var timeTolerance: Int64 = 60
    /// Percent by which a register advance may differ from the sum of its intervals.
    public var advanceTolerance = ExactDecimal(1)
    /// Percent by which tariff registers may differ from the total register.
    public var touTolerance = ExactDecimal(0)
    /// How far in the future (seconds) a reading's time may be before it is refused.
    public var maxFuture: Int64 = 86_400
    /// High and low thresholds for interval values, by quantity, in the channel's unit.
    public var high: [Quantity: ExactDecimal] = [:]
    public var low: [Quantity: ExactDecimal] = [:]

    public init() {}

    /// Parses a config file's text; errors name the line.
    public init(text: String, name: String) throws(StoreError) {
        self.init()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed(" \t\r")
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw StoreError("\(name):\(n + 1): expected name = value")
            }
            let key = String(line[..<eq]).trimmed(" \t")
            let value = String(line[line.index(after: eq)...]).trimmed(" \t")
            do throws(StoreError) {
                try set(key, value)
            } catch {
                throw StoreError("\(name):\(n + 1): \(error.description)")
            }
        }
    }

    private mutating func set(_ key: String, _ value: String) throws(StoreError) {
        func seconds() throws(StoreError) -> Int64 {
            guard let v = Int64(value), v >= 0, v <= 3_155_760_000 else {
                throw StoreError("\(key) wants whole seconds (at most 100 years), not '\(value)'")
            }
            return v
        }
        func count() throws(StoreError) -> Int {
            guard let v = Int(value), v > 0 else { throw StoreError("\(key) wants a positive whole number, not '\(value)'") }
            return v
        }
        func decimal() throws(StoreError) -> ExactDecimal {
            guard let v = ExactDecimal(value) else { throw StoreError("\(key) wants a decimal number, not '\(value)'") }
            return v
        }
        switch key {
        case "timezone":
            guard let z = LocalTimeZone(value) else { throw StoreError("unknown time zone '\(value)'") }
            timeZone = z
        case "max-interpolation": maxInterpolation = try seconds()
        case "like-days": likeDays = try count()
        case "like-day-window": likeDayWindow = try count()
        case "spike-factor": spikeFactor = try decimal()
        case "zero-run": zeroRun = try seconds()
        case "reverse-flow":
            guard value == "yes" || value == "no" else { throw StoreError("reverse-flow wants yes or no") }
            reverseFlow = value == "yes"
        case "time-tolerance": timeTolerance = try seconds()
        case "advance-tolerance": advanceTolerance = try decimal()
        case "tou-tolerance": touTolerance = try decimal()
        case "max-future": maxFuture = try seconds()
        default:
            if key.hasPrefix("high."), key.count > 5 {
                high[Quantity(rawValue: String(key.dropFirst(5)))] = try decimal()
            } else if key.hasPrefix("low."), key.count > 4 {
                low[Quantity(rawValue: String(key.dropFirst(4)))] = try decimal()
            } else {
                throw StoreError("unknown parameter '\(key)'")
            }
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters of `set`.
    func trimmed(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s.removeFirst() }
        while let c = s.last, chars.contains(c) { s.removeLast() }
        return String(s)
    }
}
