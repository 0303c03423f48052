import Glibc

/// A point in time in UTC, to the millisecond, formatted as ISO 8601 (`2016-11-13T19:57:57Z`,
/// `…57.250Z` when milliseconds are not zero). Locale- and time-zone-free.
public struct UTCTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int64) { self.milliseconds = seconds &* 1000 }

    public static func < (a: UTCTime, b: UTCTime) -> Bool { a.milliseconds < b.milliseconds }

    /// The civil date-time `year-month-day hour:minute:second` taken as UTC; nil when a field is out of range.
    public init?(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0,
                 millisecond: Int = 0) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysIn(month: month, year: year)).contains(day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (0...999).contains(millisecond) else { return nil }
        let days = CivilDate.daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        self.milliseconds = secs * 1000 + Int64(millisecond)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`; a zone offset is folded into UTC.
    public init?(iso8601 text: String) {
        var text = text
        guard let t = text.withUTF8({ UTCTime(iso8601: $0) }) else { return nil }
        self = t
    }

    /// Parses ISO 8601 text (as `init?(iso8601:)` for a String) from UTF-8 bytes.
    public init?(iso8601 b: UnsafeBufferPointer<UInt8>) {
        func num(_ i: Int, _ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                guard b[k] >= 48 && b[k] <= 57 else { return nil }
                v = v * 10 + Int(b[k] - 48)
            }
            return v
        }
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 32, b[13] == 58, b[16] == 58,
              let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2),
              let h = num(11, 2), let mi = num(14, 2), let s = num(17, 2) else { return nil }
        var i = 19
        var ms = 0
        if i < b.count && b[i] == 46 {
            i += 1
            var scale = 100
            var any = false
            while i < b.count, b[i] >= 48 && b[i] <= 57 {
                ms += Int(b[i] - 48) * scale
                scale /= 10
                any = true
                i += 1
            }
            guard any else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == 90 || b[i] == 122 {
            i += 1
        } else if b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58,
                  let om = num(i + 4, 2) {
            offset = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count, let t = UTCTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s,
                                            millisecond: ms) else { return nil }
        self.milliseconds = t.milliseconds - Int64(offset) * 60_000
    }

    /// Civil fields of this instant in UTC.
    public var civil: (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
        let ms = Int(((milliseconds % 1000) + 1000) % 1000)
        let secs = (milliseconds - Int64(ms)) / 1000
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let (y, m, d) = CivilDate.civilFromDays(Int(days))
        return (y, m, d, Int(rem / 3600), Int(rem % 3600 / 60), Int(rem % 60), ms)
    }

    public var description: String {
        String(unsafeUninitializedCapacity: UTCTime.maxTextLength) { write(to: $0.baseAddress!) }
    }

    /// The most bytes `write(to:)` writes.
    public static let maxTextLength = 24

    /// Writes the ISO 8601 text at `p` (room for `maxTextLength` bytes) and returns its length.
    public func write(to p: UnsafeMutablePointer<UInt8>) -> Int {
        let c = civil
        // Each field's lowest digits, zero-padded, then the separator after it.
        func put(_ v: Int, _ width: Int, at end: Int, _ separator: UInt8) {
            _ = DecimalDigits.write(UInt64(v.magnitude), count: width, endingAt: p + end)
            p[end] = separator
        }
        put(c.year, 4, at: 4, 45); put(c.month, 2, at: 7, 45); put(c.day, 2, at: 10, 84)
        put(c.hour, 2, at: 13, 58); put(c.minute, 2, at: 16, 58)
        guard c.millisecond != 0 else {
            put(c.second, 2, at: 19, 90)
            return 20
        }
        put(c.second, 2, at: 19, 46); put(c.millisecond, 3, at: 23, 90)
        return 24
    }
}

/// Proleptic Gregorian calendar arithmetic (H. Hinnant's days-from-civil algorithms).
public enum CivilDate {
    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a civil date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Civil date of a count of days since 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension UTCTime {
    /// The system's wall-clock time.
    public static func now() -> UTCTime {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UTCTime(milliseconds: Int64(ts.tv_sec) &* 1000 &+ Int64(ts.tv_nsec / 1_000_000))
    }
}
