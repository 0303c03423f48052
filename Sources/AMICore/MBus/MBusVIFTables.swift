/// What a VIF (or the first VIFE after 0xFB / 0xFD) says about a data record's value: the quantity,
/// the base unit, and the exact factor `factor × 10^exponent` from the coded value to that unit.
struct MBusVIFEntry: Sendable {
    enum Kind: UInt8, Sendable {
        /// A measured value or a count (type B signed integers, BCD, real).
        case number
        /// An identifier, bit field or counter that the standard codes as unsigned (type C / D).
        case unsignedNumber
        /// A time point: type G for 2 bytes, J for 3, F for 4, I for 6.
        case timePoint
        /// A code the standard reserves.
        case reserved
        /// VIF 0x7F / 0xFF.
        case manufacturer
        /// VIF 0x7C / 0xFC.
        case plainText
        /// VIF 0x7E / 0xFE.
        case anyVIF
    }

    var quantity: Quantity
    var unit: Unit?
    var exponent: Int8
    var factor: Int32
    var kind: Kind
    /// A qualifier the unit table has no name for (`months`, `degF`, `US gallons`).
    var note: StaticString?
    /// The value is a secret (access codes, passwords): reported as withheld, never written out.
    var secret: Bool

    init(_ quantity: Quantity, _ unit: Unit?, _ exponent: Int, factor: Int32 = 1, kind: Kind = .number,
         note: StaticString? = nil, secret: Bool = false) {
        self.secret = secret
        self.quantity = quantity
        self.unit = unit
        self.exponent = Int8(exponent)
        self.factor = factor
        self.kind = kind
        self.note = note
    }

    static let reservedEntry = MBusVIFEntry(.reserved, nil, 0, kind: .reserved)
}

/// What a combinable (orthogonal) VIFE does to a record (EN 13757-3:2018 Table 15; M-Bus
/// documentation rev. 4.8 §8.4.5).
enum MBusVIFEAction: Sendable {
    /// Error code "none": nothing to say.
    case nothing
    /// A qualifier the quantity vocabulary has no name for; goes into `note`.
    case note(String)
    /// A record error code (slave to master, EN 13757-3:2018 §6.4.8); goes into `note`.
    case error(String)
    /// Multiplicative correction factor 10^n, applied to the value exactly.
    case scale(Int8)
    /// The value is the date (or date and time) of what the text says.
    case dateOf(String)
    /// The value is a duration (factor to seconds) of what the text says.
    case durationOf(String, Int32)
    /// The value counts what the text says.
    case countOf(String)
    /// 0x7F: the following VIFEs and the data are manufacturer specific.
    case manufacturer
    /// 0x7C: the next VIFE is from the extension of this table (not decoded; kept in `note`).
    case extensionFC
}

/// The VIF code tables of EN 13757-3, as arrays indexed by the 7-bit code (the extension bit
/// masked), so that a lookup is one bounds-free index.
enum MBusVIFTables {
    /// The three tables one after the other, `primary`, `fd`, `fb`, for lookups on the hot path:
    /// the entry of a code is `entries[offset + code]`, without a copy of a table.
    static let entries: [MBusVIFEntry] = primary + fd + fb
    static let primaryOffset = 0, fdOffset = 128, fbOffset = 256

    /// The four time units of the "nn" codes of on time, operating time and the durations
    /// (seconds, minutes, hours, days) as factors to seconds.
    static let secondsPerNN: [Int32] = [1, 60, 3600, 86_400]

    /// The primary VIF table (EN 13757-3 "Primary VIF-codes"; M-Bus documentation rev. 4.8 §8.4.3).
    /// Codes 0x7B and 0x7D (the extension tables without their extension bit) and 0x6F are reserved;
    /// 0x7C, 0x7E and 0x7F are handled by kind.
    static let primary: [MBusVIFEntry] = {
        var t = [MBusVIFEntry](repeating: .reservedEntry, count: 128)
        for n in 0..<8 {
            t[0x00 + n] = MBusVIFEntry(.energy, .wattHour, n - 3)            // E000 0nnn 10^(nnn-3) Wh
            t[0x08 + n] = MBusVIFEntry(.energy, .joule, n)                   // E000 1nnn 10^nnn J
            t[0x10 + n] = MBusVIFEntry(.volume, .cubicMetre, n - 6)          // E001 0nnn 10^(nnn-6) m3
            t[0x18 + n] = MBusVIFEntry(.mass, .kilogram, n - 3)              // E001 1nnn 10^(nnn-3) kg
            t[0x28 + n] = MBusVIFEntry(.power, .watt, n - 3)                 // E010 1nnn 10^(nnn-3) W
            t[0x30 + n] = MBusVIFEntry(.power, .joulePerHour, n)             // E011 0nnn 10^nnn J/h
            t[0x38 + n] = MBusVIFEntry(.volumeFlow, .cubicMetrePerHour, n - 6)          // m3/h
            t[0x40 + n] = MBusVIFEntry(.volumeFlow, .cubicMetrePerHour, n - 7, factor: 60)   // m3/min
            t[0x48 + n] = MBusVIFEntry(.volumeFlow, .cubicMetrePerHour, n - 9, factor: 3600) // m3/s
            t[0x50 + n] = MBusVIFEntry(.massFlow, .kilogramPerHour, n - 3)   // E101 0nnn 10^(nnn-3) kg/h
        }
        for n in 0..<4 {
            let s = secondsPerNN[n]
            t[0x20 + n] = MBusVIFEntry(.onTime, .second, 0, factor: s)
            t[0x24 + n] = MBusVIFEntry(.operatingTime, .second, 0, factor: s)
            t[0x58 + n] = MBusVIFEntry(.flowTemperature, .degreeCelsius, n - 3)
            t[0x5C + n] = MBusVIFEntry(.returnTemperature, .degreeCelsius, n - 3)
            t[0x60 + n] = MBusVIFEntry(.temperatureDifference, .kelvin, n - 3)
            t[0x64 + n] = MBusVIFEntry(.externalTemperature, .degreeCelsius, n - 3)
            t[0x68 + n] = MBusVIFEntry(.pressure, .bar, n - 3)
            t[0x70 + n] = MBusVIFEntry(.averagingDuration, .second, 0, factor: s)
            t[0x74 + n] = MBusVIFEntry(.actualityDuration, .second, 0, factor: s)
        }
        t[0x6C] = MBusVIFEntry(.timePoint, nil, 0, kind: .timePoint)     // date (type G)
        t[0x6D] = MBusVIFEntry(.timePoint, nil, 0, kind: .timePoint)     // date and time (F, I, J)
        t[0x6E] = MBusVIFEntry(.hca, nil, 0)
        t[0x78] = MBusVIFEntry(.fabricationNumber, nil, 0, kind: .unsignedNumber)
        t[0x79] = MBusVIFEntry(.enhancedIdentification, nil, 0, kind: .unsignedNumber)
        t[0x7A] = MBusVIFEntry(.busAddress, nil, 0, kind: .unsignedNumber)
        t[0x7C] = MBusVIFEntry(.plainTextUnit, nil, 0, kind: .plainText)
        t[0x7E] = MBusVIFEntry(.anyVIF, nil, 0, kind: .anyVIF)
        t[0x7F] = MBusVIFEntry(.manufacturerSpecific, nil, 0, kind: .manufacturer)
        return t
    }()

    /// The main VIF extension table after VIF 0xFD (EN 13757-3:2018 Table 12; M-Bus documentation
    /// rev. 4.8 §8.4.4 a). Codes that later editions use for things this decoder cannot express
    /// (security key, daylight saving type K, containers) stay `reserved`.
    static let fd: [MBusVIFEntry] = {
        var t = [MBusVIFEntry](repeating: .reservedEntry, count: 128)
        for n in 0..<4 {
            t[0x00 + n] = MBusVIFEntry(.credit, nil, n - 3)       // 10^(nn-3) local currency units
            t[0x04 + n] = MBusVIFEntry(.debit, nil, n - 3)
            t[0x24 + n] = MBusVIFEntry(.storageInterval, .second, 0, factor: secondsPerNN[n])
            t[0x2C + n] = MBusVIFEntry(.durationSinceReadout, .second, 0, factor: secondsPerNN[n])
            t[0x34 + n] = MBusVIFEntry(.tariffPeriod, .second, 0, factor: secondsPerNN[n])
        }
        t[0x08] = MBusVIFEntry(.accessNumber, nil, 0, kind: .unsignedNumber)
        t[0x09] = MBusVIFEntry(.deviceType, nil, 0, kind: .unsignedNumber)
        t[0x0A] = MBusVIFEntry(.manufacturer, nil, 0, kind: .unsignedNumber)
        t[0x0B] = MBusVIFEntry(.parameterSetID, nil, 0, kind: .unsignedNumber)
        t[0x0C] = MBusVIFEntry(.modelVersion, nil, 0, kind: .unsignedNumber)
        t[0x0D] = MBusVIFEntry(.hardwareVersion, nil, 0, kind: .unsignedNumber)
        t[0x0E] = MBusVIFEntry(.firmwareVersion, nil, 0, kind: .unsignedNumber)
        t[0x0F] = MBusVIFEntry(.softwareVersion, nil, 0, kind: .unsignedNumber)
        t[0x10] = MBusVIFEntry(.customerLocation, nil, 0, kind: .unsignedNumber)
        t[0x11] = MBusVIFEntry(.customer, nil, 0, kind: .unsignedNumber)
        t[0x12] = MBusVIFEntry(.accessCodeUser, nil, 0, kind: .unsignedNumber, secret: true)
        t[0x13] = MBusVIFEntry(.accessCodeOperator, nil, 0, kind: .unsignedNumber, secret: true)
        t[0x14] = MBusVIFEntry(.accessCodeSystemOperator, nil, 0, kind: .unsignedNumber, secret: true)
        t[0x15] = MBusVIFEntry(.accessCodeDeveloper, nil, 0, kind: .unsignedNumber, secret: true)
        t[0x16] = MBusVIFEntry(.password, nil, 0, kind: .unsignedNumber, secret: true)
        t[0x17] = MBusVIFEntry(.errorFlags, nil, 0, kind: .unsignedNumber)
        t[0x18] = MBusVIFEntry(.errorMask, nil, 0, kind: .unsignedNumber)
        t[0x1A] = MBusVIFEntry(.digitalOutput, nil, 0, kind: .unsignedNumber)
        t[0x1B] = MBusVIFEntry(.digitalInput, nil, 0, kind: .unsignedNumber)
        t[0x1C] = MBusVIFEntry(.baudRate, nil, 0, kind: .unsignedNumber, note: "baud")
        t[0x1D] = MBusVIFEntry(.responseDelay, nil, 0, kind: .unsignedNumber, note: "bit times")
        t[0x1E] = MBusVIFEntry(.retry, nil, 0, kind: .unsignedNumber)
        t[0x1F] = MBusVIFEntry(.remoteControl, nil, 0, kind: .unsignedNumber)
        t[0x20] = MBusVIFEntry(.firstStorageNumber, nil, 0, kind: .unsignedNumber)
        t[0x21] = MBusVIFEntry(.lastStorageNumber, nil, 0, kind: .unsignedNumber)
        t[0x22] = MBusVIFEntry(.storageBlockSize, nil, 0, kind: .unsignedNumber)
        t[0x28] = MBusVIFEntry(.storageInterval, nil, 0, note: "months")
        t[0x29] = MBusVIFEntry(.storageInterval, nil, 0, note: "years")
        // E011 0000 start (date/time) of tariff; E011 00nn (nn = 01…11) duration of tariff.
        t[0x30] = MBusVIFEntry(.tariffStart, nil, 0, kind: .timePoint)
        for n in 1..<4 { t[0x30 + n] = MBusVIFEntry(.tariffDuration, .second, 0, factor: secondsPerNN[n]) }
        t[0x38] = MBusVIFEntry(.tariffPeriod, nil, 0, note: "months")
        t[0x39] = MBusVIFEntry(.tariffPeriod, nil, 0, note: "years")
        t[0x3A] = MBusVIFEntry(.dimensionless, nil, 0)
        for n in 0..<16 {
            t[0x40 + n] = MBusVIFEntry(.voltage, .volt, n - 9)     // E100 nnnn 10^(nnnn-9) V
            t[0x50 + n] = MBusVIFEntry(.current, .ampere, n - 12)  // E101 nnnn 10^(nnnn-12) A
        }
        t[0x60] = MBusVIFEntry(.resetCounter, nil, 0, kind: .unsignedNumber)
        t[0x61] = MBusVIFEntry(.cumulationCounter, nil, 0, kind: .unsignedNumber)
        t[0x62] = MBusVIFEntry(.controlSignal, nil, 0, kind: .unsignedNumber)
        t[0x63] = MBusVIFEntry(.dayOfWeek, nil, 0, kind: .unsignedNumber)
        t[0x64] = MBusVIFEntry(.weekNumber, nil, 0, kind: .unsignedNumber)
        t[0x65] = MBusVIFEntry(.dayChangeTime, nil, 0, kind: .unsignedNumber)
        t[0x66] = MBusVIFEntry(.parameterActivationState, nil, 0, kind: .unsignedNumber)
        t[0x67] = MBusVIFEntry(.specialSupplierInfo, nil, 0, kind: .unsignedNumber)
        // E110 10pp / E110 11pp: hours, days, months, years.
        t[0x68] = MBusVIFEntry(.durationSinceCumulation, .second, 0, factor: 3600)
        t[0x69] = MBusVIFEntry(.durationSinceCumulation, .second, 0, factor: 86_400)
        t[0x6A] = MBusVIFEntry(.durationSinceCumulation, nil, 0, note: "months")
        t[0x6B] = MBusVIFEntry(.durationSinceCumulation, nil, 0, note: "years")
        t[0x6C] = MBusVIFEntry(.batteryOperatingTime, .second, 0, factor: 3600)
        t[0x6D] = MBusVIFEntry(.batteryOperatingTime, .second, 0, factor: 86_400)
        t[0x6E] = MBusVIFEntry(.batteryOperatingTime, nil, 0, note: "months")
        t[0x6F] = MBusVIFEntry(.batteryOperatingTime, nil, 0, note: "years")
        t[0x70] = MBusVIFEntry(.batteryChangeTime, nil, 0, kind: .timePoint)
        t[0x71] = MBusVIFEntry(.rfLevel, nil, 0, note: "dBm")
        t[0x74] = MBusVIFEntry(.remainingBatteryLife, .second, 0, factor: 86_400)   // days
        return t
    }()

    /// The alternate VIF extension table after VIF 0xFB (EN 13757-3:2018 Table 14; M-Bus
    /// documentation rev. 4.8 §8.4.4 b). Units that do not convert to the base units by a power of
    /// ten (°F, US gallons, cubic feet) keep the value as sent, without a unit, and say so in `note`.
    static let fb: [MBusVIFEntry] = {
        var t = [MBusVIFEntry](repeating: .reservedEntry, count: 128)
        for n in 0..<2 {
            t[0x00 + n] = MBusVIFEntry(.energy, .wattHour, n - 1 + 6)        // 10^(n-1) MWh
            t[0x08 + n] = MBusVIFEntry(.energy, .joule, n - 1 + 9)           // 10^(n-1) GJ
            t[0x10 + n] = MBusVIFEntry(.volume, .cubicMetre, n + 2)          // 10^(n+2) m3
            t[0x18 + n] = MBusVIFEntry(.mass, .kilogram, n + 2 + 3)          // 10^(n+2) t
            t[0x28 + n] = MBusVIFEntry(.power, .watt, n - 1 + 6)             // 10^(n-1) MW
            t[0x30 + n] = MBusVIFEntry(.power, .joulePerHour, n - 1 + 9)     // 10^(n-1) GJ/h
        }
        for n in 0..<2 { t[0x1A + n] = MBusVIFEntry(.relativeHumidity, .percent, n - 1) }   // 10^(n-1) %
        for n in 0..<4 { t[0x2C + n] = MBusVIFEntry(.frequency, .hertz, n - 3) }           // 10^(nn-3) Hz
        t[0x21] = MBusVIFEntry(.volume, nil, -1, note: "cubic feet")
        t[0x22] = MBusVIFEntry(.volume, nil, -1, note: "US gallons")
        t[0x23] = MBusVIFEntry(.volume, nil, 0, note: "US gallons")
        t[0x24] = MBusVIFEntry(.volumeFlow, nil, -3, note: "US gallons per minute")
        t[0x25] = MBusVIFEntry(.volumeFlow, nil, 0, note: "US gallons per minute")
        t[0x26] = MBusVIFEntry(.volumeFlow, nil, 0, note: "US gallons per hour")
        for n in 0..<4 {
            t[0x58 + n] = MBusVIFEntry(.flowTemperature, nil, n - 3, note: "degF")
            t[0x5C + n] = MBusVIFEntry(.returnTemperature, nil, n - 3, note: "degF")
            t[0x60 + n] = MBusVIFEntry(.temperatureDifference, nil, n - 3, note: "degF")
            t[0x64 + n] = MBusVIFEntry(.externalTemperature, nil, n - 3, note: "degF")
            t[0x70 + n] = MBusVIFEntry(.temperatureLimit, nil, n - 3, note: "degF")
            t[0x74 + n] = MBusVIFEntry(.temperatureLimit, .degreeCelsius, n - 3)
        }
        for n in 0..<8 { t[0x78 + n] = MBusVIFEntry(.cumulativeMaxPower, .watt, n - 3) }
        return t
    }()

    /// The combinable (orthogonal) VIFE table (EN 13757-3:2018 Table 15; M-Bus documentation rev. 4.8
    /// §8.4.5), with the record error codes of E000 xxxx / E001 xxxx (EN 13757-3:2018 §6.4.8).
    static let combinable: [MBusVIFEAction] = {
        var t = [MBusVIFEAction](repeating: .note("reserved vife"), count: 128)
        let errors: [(Int, String)] = [
            (0x01, "too many DIFEs"), (0x02, "storage number not implemented"),
            (0x03, "unit number not implemented"), (0x04, "tariff number not implemented"),
            (0x05, "function not implemented"), (0x06, "data class not implemented"),
            (0x07, "data size not implemented"), (0x0B, "too many VIFEs"), (0x0C, "illegal VIF group"),
            (0x0D, "illegal VIF exponent"), (0x0E, "VIF/DIF mismatch"), (0x0F, "unimplemented action"),
            (0x15, "no data available"), (0x16, "data overflow"), (0x17, "data underflow"),
            (0x18, "data error"), (0x1C, "premature end of record"),
        ]
        for code in 0x00..<0x20 { t[code] = .error("reserved error code " + Hex.byte(UInt8(code))) }
        t[0x00] = .nothing
        for (code, text) in errors { t[code] = .error(text) }
        t[0x12] = .note("average value")
        t[0x13] = .note("inverse compact profile")
        t[0x14] = .note("relative deviation")
        t[0x1D] = .note("standard conform data content")
        t[0x1E] = .note("compact profile with register numbers")
        t[0x1F] = .note("compact profile")
        let per = ["per second", "per minute", "per hour", "per day", "per week", "per month", "per year",
                   "per revolution or measurement"]
        for (i, text) in per.enumerated() { t[0x20 + i] = .note(text) }
        t[0x28] = .note("increment per input pulse on input channel 0")
        t[0x29] = .note("increment per input pulse on input channel 1")
        t[0x2A] = .note("increment per output pulse on output channel 0")
        t[0x2B] = .note("increment per output pulse on output channel 1")
        let perUnit = ["per litre", "per m3", "per kg", "per K", "per kWh", "per GJ", "per kW", "per K·l",
                       "per V", "per A", "multiplied by s", "multiplied by s/V", "multiplied by s/A"]
        for (i, text) in perUnit.enumerated() { t[0x2C + i] = .note(text) }
        t[0x39] = .dateOf("start date/time of")
        t[0x3A] = .note("VIF contains uncorrected unit or value")
        t[0x3B] = .note("accumulation only if positive contributions")
        t[0x3C] = .note("accumulation of abs value only if negative contributions")
        t[0x3D] = .note("non-metric units")
        t[0x3E] = .note("value at base conditions")
        t[0x3F] = .note("OBIS declaration")
        for u in 0..<2 {
            let bound = u == 0 ? "lower" : "upper"
            t[0x40 + 8 * u] = .note("\(bound) limit value")
            t[0x41 + 8 * u] = .countOf("number of exceeds of \(bound) limit")
            for f in 0..<2 {
                let which = f == 0 ? "first" : "last"
                // E100 uf1b: date (time) of begin / end of the first / last lower / upper limit exceed.
                t[0x42 + 8 * u + 4 * f] = .dateOf("date of begin of \(which) \(bound) limit exceed")
                t[0x43 + 8 * u + 4 * f] = .dateOf("date of end of \(which) \(bound) limit exceed")
                // E101 ufnn: duration of the first / last lower / upper limit exceed.
                for nn in 0..<4 {
                    t[0x50 + 8 * u + 4 * f + nn] = .durationOf("duration of \(which) \(bound) limit exceed",
                                                                secondsPerNN[nn])
                }
            }
        }
        for f in 0..<2 {
            let which = f == 0 ? "first" : "last"
            for nn in 0..<4 { t[0x60 + 4 * f + nn] = .durationOf("duration of \(which)", secondsPerNN[nn]) }
            // E110 1f1b: date (time) of begin / end of the first / last.
            t[0x6A + 4 * f] = .dateOf("date of begin of \(which)")
            t[0x6B + 4 * f] = .dateOf("date of end of \(which)")
        }
        t[0x68] = .note("value during lower limit exceed")
        t[0x6C] = .note("value during upper limit exceed")
        t[0x69] = .note("leakage values")
        t[0x6D] = .note("overflow values")
        for n in 0..<8 { t[0x70 + n] = .scale(Int8(n - 6)) }           // E111 0nnn 10^(nnn-6)
        for n in 0..<4 {                                                 // E111 10nn 10^(nn-3)
            t[0x78 + n] = .note("additive correction constant 10^\(n - 3) unit of VIF")
        }
        t[0x7C] = .extensionFC
        t[0x7D] = .scale(3)                                              // multiplicative 10^3
        t[0x7E] = .note("future value")
        t[0x7F] = .manufacturer
        return t
    }()
}
