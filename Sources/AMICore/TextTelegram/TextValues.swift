/// Values of text telegrams: numbers kept exact, units moved to the base units of ami-jsonl(5),
/// identifiers decoded from hex.
enum TextValue {
    /// The number in `text` (spaces around it allowed) when it is a plain decimal `[+-]digits[.digits]`;
    /// nil for anything else (hex codes like `4E38` included).
    static func number(_ text: String) -> ExactDecimal? {
        let t = text.trimmingSpaces
        var digits = 0
        var dots = 0
        for (n, ch) in t.utf8.enumerated() {
            switch ch {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: "-"), UInt8(ascii: "+"): if n != 0 { return nil }
            default: return nil
            }
        }
        guard digits > 0, dots <= 1 else { return nil }
        return ExactDecimal(t)
    }

    /// The text `hex` stands for when it is an even number (2 or more) of hex digits encoding printable
    /// ASCII, as DSMR sends equipment identifiers and text messages (DSMR P1 5.0.2, "Sn"
    /// octet strings); else nil.
    static func hexASCII(_ hex: String) -> String? {
        let b = Array(hex.utf8)
        guard b.count >= 2, b.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(b.count / 2)
        var i = 0
        while i + 1 < b.count {
            guard let h = Hex.nibble(b[i]), let l = Hex.nibble(b[i + 1]) else { return nil }
            let c = h << 4 | l
            guard TextByte.isPrintable(c) else { return nil }
            out.append(c)
            i += 2
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An identifier's text: trimmed, and decoded from hex ASCII when `hex` and it is that.
    static func identifier(_ group: ValueGroup, hex: Bool) -> String {
        let t = group.value.trimmingSpaces
        return (hex ? hexASCII(t)?.trimmingSpaces : nil) ?? t
    }

    /// A value group read as `kind`: the value, its unit in base units, and a note for what did not fit.
    /// Identifiers are decoded from hex when `hexIdentifiers` (DSMR) and they are hex ASCII.
    static func read(_ group: ValueGroup, as kind: TextValueKind,
                     hexIdentifiers: Bool) -> (value: ReadingValue, unit: Unit?, note: String?) {
        let unitNote = group.unit.map { "unit \($0)" }
        switch kind {
        case .identifier:
            return (.text(identifier(group, hex: hexIdentifiers)), nil, unitNote)
        case .text:
            return (.text(group.value.trimmingSpaces), nil, unitNote)
        case .number:
            guard let n = number(group.value) else { return (.text(group.value.trimmingSpaces), nil, unitNote) }
            guard let u = group.unit else { return (.number(n), nil, nil) }
            guard let (v, base) = TextUnit.convert(n, u) else { return (.number(n), nil, unitNote) }
            return (.number(v), base, nil)
        }
    }
}

/// Units as text telegrams write them, to the base units of ami-jsonl(5): the exponent moves by the
/// prefix (kWh → Wh is ×10³, GJ → J ×10⁹), minutes and hours become seconds (×60, ×3600). Unit text
/// is matched exactly as written.
enum TextUnit {
    private static let table: [String: (Unit, Int, Int64)] = [
        "Wh": (.wattHour, 0, 1), "kWh": (.wattHour, 3, 1), "MWh": (.wattHour, 6, 1), "GWh": (.wattHour, 9, 1),
        "W": (.watt, 0, 1), "kW": (.watt, 3, 1), "MW": (.watt, 6, 1),
        "varh": (.varHour, 0, 1), "kvarh": (.varHour, 3, 1), "Mvarh": (.varHour, 6, 1),
        "var": (.varUnit, 0, 1), "kvar": (.varUnit, 3, 1), "Mvar": (.varUnit, 6, 1),
        "VAh": (.voltAmpereHour, 0, 1), "kVAh": (.voltAmpereHour, 3, 1), "MVAh": (.voltAmpereHour, 6, 1),
        "VA": (.voltAmpere, 0, 1), "kVA": (.voltAmpere, 3, 1), "MVA": (.voltAmpere, 6, 1),
        "V": (.volt, 0, 1), "kV": (.volt, 3, 1),
        "A": (.ampere, 0, 1), "mA": (.ampere, -3, 1),
        "Hz": (.hertz, 0, 1),
        "m3": (.cubicMetre, 0, 1), "m\u{B3}": (.cubicMetre, 0, 1),
        "m3/h": (.cubicMetrePerHour, 0, 1),
        "J": (.joule, 0, 1), "kJ": (.joule, 3, 1), "MJ": (.joule, 6, 1), "GJ": (.joule, 9, 1),
        "s": (.second, 0, 1), "min": (.second, 0, 60), "h": (.second, 0, 3600),
        "kg": (.kilogram, 0, 1), "t": (.kilogram, 3, 1),
        "\u{B0}C": (.degreeCelsius, 0, 1), "K": (.kelvin, 0, 1), "bar": (.bar, 0, 1), "%": (.percent, 0, 1),
    ]

    /// `value` in `unit` converted to a base unit; nil when the unit is unknown or the value would
    /// overflow.
    static func convert(_ value: ExactDecimal, _ unit: String) -> (ExactDecimal, Unit)? {
        guard let (base, power, factor) = table[unit] else { return nil }
        var v = value.scaled(byPowerOfTen: power)
        if factor != 1 {
            guard let m = v.multiplied(by: factor) else { return nil }
            v = m
        }
        return (v, base)
    }
}
