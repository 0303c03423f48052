/// The clock status byte of a COSEM date-time (IEC 62056-6-2 / DLMS UA 1000-1 Ed. 12 §4.1.6.1
/// "Date and time formats"). 0xFF means not specified.
public struct ClockStatus: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let invalidValue = ClockStatus(rawValue: 0x01)
    public static let doubtfulValue = ClockStatus(rawValue: 0x02)
    public static let differentClockBase = ClockStatus(rawValue: 0x04)
    public static let invalidClockStatus = ClockStatus(rawValue: 0x08)
    public static let daylightSavingActive = ClockStatus(rawValue: 0x80)
    /// All bits set: the status is not specified.
    public static let notSpecified = ClockStatus(rawValue: 0xFF)
}

/// How the `deviation` of a date-time relates local time and UTC.
public enum DeviationConvention: Sendable, Hashable {
    /// The Blue Book's: minutes from local time to UTC, UTC = local + deviation (Paris in winter: −60).
    /// IDIS and most meters.
    case blueBook
    /// The reverse, local = UTC + deviation (Paris in winter: +60), used by some companion standards.
    case utcOffset
}

/// A COSEM date-time: 12 bytes, each field possibly "not specified" (IEC 62056-6-2 /
/// DLMS UA 1000-1 Ed. 12 §4.1.6.1 "Date and time formats"). Fields are kept as sent.
public struct COSEMDateTime: Sendable, Hashable, CustomStringConvertible {
    public var date: COSEMDate
    public var time: COSEMTime
    /// Minutes between local time and UTC (see `DeviationConvention`); `Int16.min` (0x8000) when
    /// not specified.
    public var deviation: Int16
    public var clockStatus: ClockStatus

    /// The deviation value that means "not specified".
    public static let deviationNotSpecified = Int16.min

    public init(date: COSEMDate, time: COSEMTime, deviation: Int16 = deviationNotSpecified,
                clockStatus: ClockStatus = .notSpecified) {
        self.date = date
        self.time = time
        self.deviation = deviation
        self.clockStatus = clockStatus
    }

    /// The 12 bytes of a date-time; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 12 else { return nil }
        self.init(unchecked: bytes)
    }

    /// From exactly 12 bytes (the caller has checked).
    init(unchecked b: [UInt8]) {
        date = COSEMDate(unchecked: Array(b[0..<5]))
        time = COSEMTime(unchecked: Array(b[5..<9]))
        deviation = Int16(bitPattern: UInt16(b[9]) << 8 | UInt16(b[10]))
        clockStatus = ClockStatus(rawValue: b[11])
    }

    /// The local civil time of `utc` for a meter `deviation` minutes from UTC (read by `convention`),
    /// with the day of the week filled in. Nil when the local year falls outside 1...9998.
    public init?(utc: UTCTime, deviation: Int16 = 0, convention: DeviationConvention = .blueBook,
                 clockStatus: ClockStatus = []) {
        let shift = Int64(deviation) * 60_000
        let local = UTCTime(milliseconds: convention == .blueBook ? utc.milliseconds &- shift : utc.milliseconds &+ shift)
        let c = local.civil
        guard (1...9998).contains(c.year) else { return nil }
        let days = Int64(CivilDate.daysFromCivil(year: c.year, month: c.month, day: c.day))
        // 1970-01-01 was a Thursday; COSEM counts Monday as 1.
        let weekday = UInt8(((days % 7) + 7 + 3) % 7 + 1)
        self.init(date: COSEMDate(year: UInt16(c.year), month: UInt8(c.month), dayOfMonth: UInt8(c.day),
                                  dayOfWeek: weekday),
                  time: COSEMTime(hour: UInt8(c.hour), minute: UInt8(c.minute), second: UInt8(c.second),
                                  hundredths: UInt8(c.millisecond / 10)),
                  deviation: deviation, clockStatus: clockStatus)
    }

    /// The 12 bytes.
    public var bytes: [UInt8] {
        var out = date.bytes + time.bytes
        out.appendBigEndian(deviation)
        out.append(clockStatus.rawValue)
        return out
    }

    /// The instant this date-time names, when year, month, day, hour and minute are specified and in
    /// range (an unspecified second or hundredths counts as 0). The deviation is read by
    /// `convention`; when it is not specified, `unspecifiedDeviation` is used instead (0 to take
    /// the time as UTC), or the result is nil.
    public func utcTime(unspecifiedDeviation: Int16? = nil, convention: DeviationConvention = .blueBook) -> UTCTime? {
        let dev: Int16
        if deviation == COSEMDateTime.deviationNotSpecified {
            guard let d = unspecifiedDeviation else { return nil }
            dev = d
        } else {
            dev = deviation
        }
        guard (-840...840).contains(dev), let local = localTime else { return nil }
        let shift = Int64(dev) * 60_000
        return UTCTime(milliseconds: convention == .blueBook ? local.milliseconds + shift : local.milliseconds - shift)
    }

    /// The civil fields taken as UTC (no deviation applied), when they name a time.
    var localTime: UTCTime? {
        guard date.year != 0xFFFF, time.hour != 0xFF, time.minute != 0xFF else { return nil }
        let second = time.second == 0xFF ? 0 : Int(time.second)
        let hundredths = time.hundredths == 0xFF ? 0 : Int(time.hundredths)
        guard hundredths <= 99 else { return nil }
        return UTCTime(year: Int(date.year), month: Int(date.month), day: Int(date.dayOfMonth),
                       hour: Int(time.hour), minute: Int(time.minute), second: second,
                       millisecond: hundredths * 10)
    }

    /// `2024-03-01 12:30:00.00 deviation -60 status 0x80`; unspecified fields as `*`.
    public var description: String {
        var s = date.text + " " + time.description
        if deviation != COSEMDateTime.deviationNotSpecified { s += " deviation \(deviation)" }
        if clockStatus != .notSpecified { s += " status " + Hex.byte(clockStatus.rawValue) }
        return s
    }
}

/// A COSEM date: 5 bytes (IEC 62056-6-2 §4.1.6.1). Year 0xFFFF, month, day and weekday 0xFF are
/// not specified; month 0xFD/0xFE are the end/start of daylight saving time, day 0xFD/0xFE the
/// second-last/last day of the month.
public struct COSEMDate: Sendable, Hashable, CustomStringConvertible {
    public var year: UInt16
    public var month: UInt8
    public var dayOfMonth: UInt8
    /// 1 = Monday … 7 = Sunday.
    public var dayOfWeek: UInt8

    public init(year: UInt16, month: UInt8, dayOfMonth: UInt8, dayOfWeek: UInt8 = 0xFF) {
        self.year = year
        self.month = month
        self.dayOfMonth = dayOfMonth
        self.dayOfWeek = dayOfWeek
    }

    /// The 5 bytes of a date; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 5 else { return nil }
        self.init(unchecked: bytes)
    }

    init(unchecked b: [UInt8]) {
        self.init(year: UInt16(b[0]) << 8 | UInt16(b[1]), month: b[2], dayOfMonth: b[3], dayOfWeek: b[4])
    }

    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.appendBigEndian(year)
        out += [month, dayOfMonth, dayOfWeek]
        return out
    }

    /// `2024-03-01`, unspecified fields as `*`, special months and days as `dst-end`, `dst-begin`,
    /// `second-last`, `last`.
    var text: String {
        let y = year == 0xFFFF ? "*" : String(year)
        let m: String
        switch month {
        case 0xFF: m = "*"
        case 0xFE: m = "dst-begin"
        case 0xFD: m = "dst-end"
        default: m = month < 10 ? "0\(month)" : String(month)
        }
        let d: String
        switch dayOfMonth {
        case 0xFF: d = "*"
        case 0xFE: d = "last"
        case 0xFD: d = "second-last"
        default: d = dayOfMonth < 10 ? "0\(dayOfMonth)" : String(dayOfMonth)
        }
        return "\(y)-\(m)-\(d)"
    }

    public var description: String { dayOfWeek == 0xFF ? text : text + " weekday \(dayOfWeek)" }
}

/// A COSEM time: 4 bytes, hour, minute, second, hundredths; 0xFF not specified (IEC 62056-6-2 §4.1.6.1).
public struct COSEMTime: Sendable, Hashable, CustomStringConvertible {
    public var hour: UInt8
    public var minute: UInt8
    public var second: UInt8
    public var hundredths: UInt8

    public init(hour: UInt8, minute: UInt8, second: UInt8 = 0, hundredths: UInt8 = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.hundredths = hundredths
    }

    /// The 4 bytes of a time; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 else { return nil }
        self.init(unchecked: bytes)
    }

    init(unchecked b: [UInt8]) {
        self.init(hour: b[0], minute: b[1], second: b[2], hundredths: b[3])
    }

    public var bytes: [UInt8] { [hour, minute, second, hundredths] }

    /// `12:30:00.00`, unspecified fields as `*`.
    public var description: String {
        func f(_ v: UInt8) -> String { v == 0xFF ? "*" : (v < 10 ? "0\(v)" : String(v)) }
        return "\(f(hour)):\(f(minute)):\(f(second)).\(f(hundredths))"
    }
}
