/// A physical unit code of COSEM (IEC 62056-6-2 / DLMS UA 1000-1 Ed. 12 §4.3.2, Table
/// "Enumerated values for physical units"), as sent in a scaler_unit.
public struct DLMSUnit: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let second = DLMSUnit(rawValue: 7)
    public static let degreeCelsius = DLMSUnit(rawValue: 9)
    public static let cubicMetre = DLMSUnit(rawValue: 13)
    public static let watt = DLMSUnit(rawValue: 27)
    public static let voltAmpere = DLMSUnit(rawValue: 28)
    public static let varUnit = DLMSUnit(rawValue: 29)
    public static let wattHour = DLMSUnit(rawValue: 30)
    public static let voltAmpereHour = DLMSUnit(rawValue: 31)
    public static let varHour = DLMSUnit(rawValue: 32)
    public static let ampere = DLMSUnit(rawValue: 33)
    public static let volt = DLMSUnit(rawValue: 35)
    public static let hertz = DLMSUnit(rawValue: 44)
    /// 255: a count, no unit.
    public static let count = DLMSUnit(rawValue: 255)

    /// The standard's symbol (`Wh`, `m3`, `°C`…), nil for codes the table leaves unassigned.
    public var symbol: String? {
        switch rawValue {
        case 1...72: DLMSUnit.symbols[Int(rawValue) - 1]
        case 254: "other"
        case 255: "count"
        default: nil
        }
    }

    public var description: String { symbol ?? "unit \(rawValue)" }

    /// Symbols of codes 1…72; nil where the table assigns none.
    private static let symbols: [String?] = [
        "a", "mo", "wk", "d", "h", "min", "s", "°", "°C", "currency",                      // 1–10
        "m", "m/s", "m3", "m3 (corrected)", "m3/h", "m3/h (corrected)", "m3/d",             // 11–17
        "m3/d (corrected)", "l", "kg", "N", "Nm", "Pa", "bar", "J", "J/h", "W", "VA",       // 18–28
        "var", "Wh", "VAh", "varh", "A", "C", "V", "V/m", "F", "Ω", "Ωm2/m", "Wb", "T",      // 29–41
        "A/m", "H", "Hz", "1/(Wh)", "1/(varh)", "1/(VAh)", "V2h", "A2h", "kg/s", "S", "K",   // 42–52
        "1/(V2h)", "1/(A2h)", "1/m3", "%", "Ah", nil, nil, "Wh/m3", "J/m3", "Mol %",        // 53–62
        "g/m3", "Pa s", "J/kg", nil, nil, nil, nil, "dBm", "dBµV", "dB",                   // 63–72
    ]

    /// `value` (in this unit) in the base units of ami-jsonl(5), converted exactly: litres and
    /// pascals by moving the decimal point, hours, minutes, days and weeks to seconds and kg/s to
    /// kg/h by integer factors. Nil for units without a counterpart there (and on overflow).
    public func convert(_ value: ExactDecimal) -> (value: ExactDecimal, unit: Unit)? {
        func times(_ f: Int64, _ u: Unit) -> (value: ExactDecimal, unit: Unit)? {
            value.multiplied(by: f).map { ($0, u) }
        }
        switch rawValue {
        case 3: return times(604_800, .second)
        case 4: return times(86_400, .second)
        case 5: return times(3_600, .second)
        case 6: return times(60, .second)
        case 7: return (value, .second)
        case 8: return (value, .degree)
        case 9: return (value, .degreeCelsius)
        case 13, 14: return (value, .cubicMetre)
        case 15, 16: return (value, .cubicMetrePerHour)
        case 19: return (value.scaled(byPowerOfTen: -3), .cubicMetre)
        case 20: return (value, .kilogram)
        case 23: return (value.scaled(byPowerOfTen: -5), .bar)
        case 24: return (value, .bar)
        case 25: return (value, .joule)
        case 26: return (value, .joulePerHour)
        case 27: return (value, .watt)
        case 28: return (value, .voltAmpere)
        case 29: return (value, .varUnit)
        case 30: return (value, .wattHour)
        case 31: return (value, .voltAmpereHour)
        case 32: return (value, .varHour)
        case 33: return (value, .ampere)
        case 35: return (value, .volt)
        case 44: return (value, .hertz)
        case 50: return times(3_600, .kilogramPerHour)
        case 52: return (value, .kelvin)
        case 56: return (value, .percent)
        default: return nil
        }
    }
}

/// The `scaler_unit` of a Register or Extended register (IEC 62056-6-2 §4.3.2, class 3 attribute 3):
/// `structure { scaler integer, unit enum }`. The value is `raw × 10^scaler` in `unit`.
public struct ScalerUnit: Sendable, Hashable, CustomStringConvertible {
    public var scaler: Int8
    public var unit: DLMSUnit

    public init(scaler: Int8, unit: DLMSUnit) {
        self.scaler = scaler
        self.unit = unit
    }

    /// Reads `structure { integer, enum }`; any integer type in −128…127 is taken for the scaler and
    /// an unsigned for the unit, as some meters send them. Nil for anything else.
    public init?(_ data: DLMSData) {
        guard case .structure(let parts) = data, parts.count == 2,
              let s = parts[0].integerValue, (-128...127).contains(s) else { return nil }
        switch parts[1] {
        case .enumerated(let u), .unsigned(let u): self.init(scaler: Int8(s), unit: DLMSUnit(rawValue: u))
        default: return nil
        }
    }

    /// `structure { integer scaler, enum unit }`.
    public var data: DLMSData { .structure([.integer(scaler), .enumerated(unit.rawValue)]) }

    /// `value × 10^scaler`, exactly; nil when `value` is not a number (see `DLMSData.decimalValue`).
    public func scaled(_ value: DLMSData) -> ExactDecimal? {
        value.decimalValue?.scaled(byPowerOfTen: Int(scaler))
    }

    /// `value × 10^scaler` in the base units of ami-jsonl(5) (`DLMSUnit.convert`); nil when the
    /// value is not a number or the unit has no counterpart there.
    public func reading(_ value: DLMSData) -> (value: ExactDecimal, unit: Unit)? {
        scaled(value).flatMap { unit.convert($0) }
    }

    public var description: String { "10^\(scaler) \(unit)" }
}
