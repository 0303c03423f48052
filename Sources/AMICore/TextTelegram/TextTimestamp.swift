/// Timestamps in text telegrams: DSMR `YYMMDDhhmmssX` (DSMR P1 5.0.2, value format TST), where X is `W`
/// (winter time, UTC+1) or `S` (summer time, UTC+2), or absent (DSMR 2.2/3); and the `YYMMDDhhmm`
/// or `YYMMDDhhmmss` of IEC 62056-21 readouts, in the meter's local time.
///
/// Two-digit years follow POSIX `strptime %y`: 69–99 are 1969–1999, 00–68 are 2000–2068 (DSMR meters
/// send `700101010000W`, the epoch, for "no value").
enum TextTimestamp {
    /// True when `text` has the shape of a timestamp: 10 or 12 digits, then optionally `W` or `S`.
    static func looksLikeTimestamp(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var n = b.count
        if let last = b.last, last == UInt8(ascii: "W") || last == UInt8(ascii: "S") { n -= 1 }
        guard n == 10 || n == 12 else { return false }
        return b[0..<n].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The UTC instant of `text`; a time without `W`/`S` is read in `zone`. Nil when the text is not
    /// a timestamp or names no valid date and time.
    static func parse(_ text: String, zone: LocalTimeZone) -> UTCTime? {
        guard looksLikeTimestamp(text) else { return nil }
        let b = Array(text.utf8)
        func two(_ i: Int) -> Int { Int(b[i] - UInt8(ascii: "0")) * 10 + Int(b[i + 1] - UInt8(ascii: "0")) }
        var digits = b.count
        var offsetHours: Int64? = nil
        switch b.last {
        case UInt8(ascii: "W")?: offsetHours = 1; digits -= 1
        case UInt8(ascii: "S")?: offsetHours = 2; digits -= 1
        default: break
        }
        let yy = two(0)
        let year = yy >= 69 ? 1900 + yy : 2000 + yy
        let second = digits == 12 ? two(10) : 0
        if let h = offsetHours {
            guard let naive = UTCTime(year: year, month: two(2), day: two(4), hour: two(6), minute: two(8),
                                      second: second) else { return nil }
            return UTCTime(milliseconds: naive.milliseconds - h * 3_600_000)
        }
        return zone.utc(year: year, month: two(2), day: two(4), hour: two(6), minute: two(8), second: second)
    }
}
