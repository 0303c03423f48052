import Foundation

/// Meter-local civil time turned into UTC through an IANA time zone (for meters whose clocks keep
/// local time). Ambiguous times (the repeated hour when DST ends) take `isDST` when the frame says
/// which one it is, else the earlier (DST) instant; times in the skipped hour are read with the
/// offset in force before the change.
public struct LocalTimeZone: Sendable, Equatable {
    public let identifier: String
    private let zone: TimeZone

    /// Nil when the identifier is not a known IANA zone.
    public init?(_ identifier: String) {
        guard let z = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = z
    }

    public static let utc = LocalTimeZone("UTC")!

    public static func == (a: LocalTimeZone, b: LocalTimeZone) -> Bool { a.identifier == b.identifier }

    /// Offset from UTC in seconds in force at `time`.
    public func offset(at time: UTCTime) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(time.milliseconds / 1000)))
    }

    /// True when daylight saving time is in force at `time`.
    public func isDaylightSavingTime(at time: UTCTime) -> Bool {
        zone.isDaylightSavingTime(for: Date(timeIntervalSince1970: TimeInterval(time.milliseconds / 1000)))
    }

    /// The UTC instant of a local civil time; nil when a field is out of range.
    public func utc(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
                    isDST: Bool? = nil) -> UTCTime? {
        guard let naive = UTCTime(year: year, month: month, day: day, hour: hour, minute: minute,
                                  second: second) else { return nil }
        if identifier == "UTC" { return naive }
        // Candidates: the offsets in force a day before and a day after bracket every transition.
        let before = offset(at: UTCTime(milliseconds: naive.milliseconds - 86_400_000))
        let after = offset(at: UTCTime(milliseconds: naive.milliseconds + 86_400_000))
        var matches: [(UTCTime, Bool)] = []
        for off in Set([before, after]) {
            let t = UTCTime(milliseconds: naive.milliseconds - Int64(off) * 1000)
            if offset(at: t) == off {
                matches.append((t, isDaylightSavingTime(at: t)))
            }
        }
        if matches.isEmpty { return UTCTime(milliseconds: naive.milliseconds - Int64(before) * 1000) }
        if let want = isDST, let m = matches.first(where: { $0.1 == want }) { return m.0 }
        return matches.min(by: { $0.0 < $1.0 })!.0
    }
}
