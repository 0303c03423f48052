/// The compound date and time types of EN 13757-3 Annex A (data types F, G, I and J), as meters
/// send them in time-point records. Meter clocks keep local civil time; the text keeps it as sent
/// and `utc` places it in the meter's time zone (`DecodeOptions.meterTimeZone`).
enum MBusDateTime {
    /// A decoded time point: the meter's local civil fields, checked, or `invalid` when the meter
    /// flags it invalid or a field is out of range. Its `text` and `utc` are made only when asked
    /// for (looking ahead for a frame's times needs `utc` only, a time-point reading `text` only).
    struct Decoded: Equatable {
        var year = 0, month = 0, day = 0
        /// Nil for a date (type G).
        var hour: Int?
        var minute = 0
        /// Nil for minute precision (type F, G).
        var second: Int?
        var isDST: Bool?
        /// False for `invalid`.
        var isValid = true
        /// A time of day without a date (type J).
        var isTimeOfDay = false

        static let invalid = Decoded(isValid: false)

        /// Whether it is a date and time (not a date or a time of day alone).
        var isDateTime: Bool { isValid && !isTimeOfDay && hour != nil }

        /// The time as the meter keeps it: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS`
        /// or `HH:MM:SS`; `invalid`.
        var text: String {
            guard isValid else { return "invalid" }
            let length = isTimeOfDay ? 8 : (hour == nil ? 10 : (second == nil ? 16 : 19))
            return String(unsafeUninitializedCapacity: length) { buf in
                func put(_ v: Int, _ at: Int) { MBusDateTime.put2(v, buf, at) }
                var k = 0
                if !isTimeOfDay {
                    put(year / 100, 0); put(year % 100, 2); buf[4] = 0x2D; put(month, 5); buf[7] = 0x2D; put(day, 8)
                    if hour != nil { buf[10] = 0x54 }
                    k = 11
                }
                if let h = hour {
                    put(h, k); buf[k + 2] = 0x3A; put(minute, k + 3)
                    if let s = second { buf[k + 5] = 0x3A; put(s, k + 6) }
                }
                return length
            }
        }

        /// The instant it names in the meter's zone; nil for a time of day or `invalid`.
        func utc(in zone: LocalTimeZone) -> UTCTime? {
            guard isValid && !isTimeOfDay else { return nil }
            return zone.utc(year: year, month: month, day: day, hour: hour ?? 0, minute: minute,
                            second: second ?? 0, isDST: zone.identifier == "UTC" ? nil : isDST)
        }
    }

    /// The byte `k` (0 = least significant) of `range` in `bytes`, for either byte order.
    @inline(__always)
    private static func byte(_ bytes: [UInt8], _ range: Range<Int>, _ k: Int, _ bigEndian: Bool) -> UInt8 {
        bigEndian ? bytes[range.upperBound - 1 - k] : bytes[range.lowerBound + k]
    }

    /// The 7-bit year of the date part (low 3 bits in bits 5–7 of the day byte, high 4 bits in bits
    /// 4–7 of the month byte) to a full year: `century` (the hundred-year bits of type F) counts from
    /// 1900; without them, years 0–80 are 2000–2080 and 81–99 are 1981–1999 (the compatibility rule
    /// of EN 13757-3:2013 for meters that leave the hundred-year bits 0).
    private static func fullYear(_ yy: Int, century: Int) -> Int? {
        guard yy <= 99 else { return nil }
        if century != 0 { return 1900 + 100 * century + yy }
        return yy <= 80 ? 2000 + yy : 1900 + yy
    }

    /// Decodes `range` of `bytes` (2, 3, 4 or 6 bytes: type G, J, F or I).
    /// Any other length is `invalid`.
    static func decode(_ bytes: [UInt8], _ range: Range<Int>, bigEndian: Bool) -> Decoded {
        let n = range.count
        func b(_ k: Int) -> Int { Int(byte(bytes, range, k, bigEndian)) }
        switch n {
        case 2:
            // Type G (CP16): day bits 0–4, year bits 5–7 and 12–15, month bits 8–11.
            guard b(0) | b(1) != 0, b(0) & b(1) != 0xFF else { return .invalid }
            return civil(yy: (b(0) >> 5) | ((b(1) & 0xF0) >> 1), century: 0, month: b(1) & 0x0F,
                         day: b(0) & 0x1F, hour: nil, minute: 0, second: nil, isDST: nil)
        case 4:
            // Type F (CP32): minute bits 0–5, IV (invalid) bit 7; hour bits 8–12, hundred-year
            // bits 13–14, SU (summer time) bit 15; then a type G date.
            guard b(0) & 0x80 == 0, b(0) | b(1) | b(2) | b(3) != 0 else { return .invalid }
            return civil(yy: (b(2) >> 5) | ((b(3) & 0xF0) >> 1), century: (b(1) >> 5) & 0x03,
                         month: b(3) & 0x0F, day: b(2) & 0x1F, hour: b(1) & 0x1F, minute: b(0) & 0x3F,
                         second: nil, isDST: b(1) & 0x80 != 0)
        case 6:
            // Type I (CP48): second bits 0–5, SU bit 6, leap-year bit 7; minute bits 8–13, IV bit 15;
            // hour bits 16–20, day of week bits 21–23; a type G date in bytes 3–4; week and daylight
            // saving deviation in byte 5.
            guard b(1) & 0x80 == 0, b(0) | b(1) | b(2) | b(3) | b(4) != 0 else { return .invalid }
            return civil(yy: (b(3) >> 5) | ((b(4) & 0xF0) >> 1), century: 0, month: b(4) & 0x0F,
                         day: b(3) & 0x1F, hour: b(2) & 0x1F, minute: b(1) & 0x3F, second: b(0) & 0x3F,
                         isDST: b(0) & 0x40 != 0)
        case 3:
            // Type J (CP24): second bits 0–5, minute bits 8–13, hour bits 16–20; a time of day only.
            let s = b(0) & 0x3F, m = b(1) & 0x3F, h = b(2) & 0x1F
            guard s <= 59, m <= 59, h <= 23 else { return .invalid }
            return Decoded(hour: h, minute: m, second: s, isTimeOfDay: true)
        default:
            return .invalid
        }
    }

    /// `time` as a type F date and time (CP32, EN 13757-3 Annex A) of the meter's local civil time
    /// in `zone`, with the summer-time bit from the zone and the hundred-year bits set: the record
    /// of a clock-setting SND_UD. Years 1900–2299.
    static func typeF(_ time: UTCTime, zone: LocalTimeZone) -> [UInt8] {
        let local = UTCTime(milliseconds: time.milliseconds + Int64(zone.offset(at: time)) * 1000).civil
        let yy = local.year % 100, century = (local.year - 1900) / 100
        let summer: UInt8 = zone.identifier != "UTC" && zone.isDaylightSavingTime(at: time) ? 0x80 : 0
        return [UInt8(local.minute), UInt8(local.hour) | UInt8((century & 0x03) << 5) | summer,
                UInt8(local.day) | UInt8((yy & 0x07) << 5), UInt8(local.month) | UInt8((yy >> 3) << 4)]
    }

    /// Checks the fields; `hour` nil for a date, `second` nil for minute precision.
    private static func civil(yy: Int, century: Int, month: Int, day: Int, hour: Int?, minute: Int,
                              second: Int?, isDST: Bool?) -> Decoded {
        guard let year = fullYear(yy, century: century), (1...12).contains(month), day >= 1,
              day <= CivilDate.daysIn(month: month, year: year), (hour ?? 0) <= 23, minute <= 59,
              (second ?? 0) <= 59 else { return .invalid }
        return Decoded(year: year, month: month, day: day, hour: hour, minute: minute, second: second, isDST: isDST)
    }

    @inline(__always)
    private static func put2(_ v: Int, _ buf: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        buf[at] = UInt8(truncatingIfNeeded: 48 + v / 10)
        buf[at + 1] = UInt8(truncatingIfNeeded: 48 + v % 10)
    }
}
