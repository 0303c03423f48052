/// How a register's value text is read.
enum TextValueKind: Sendable, Equatable {
    /// A decimal number; text when it is not one.
    case number
    /// Text, decoded from hex when it is hex-encoded printable ASCII (DSMR sends identifiers and text
    /// messages that way).
    case identifier
    /// Text as sent.
    case text
}

/// What an OBIS code says about a value.
struct OBISMeaning: Sendable, Equatable {
    var quantity: Quantity
    var kind: TextValueKind = .number
    /// The base unit the value must be in to be that quantity; nil when any unit (or none) fits.
    var unit: Unit? = nil
    var tariff: Int? = nil
    var function: RecordFunction? = nil
    var note: String? = nil
    /// An M-Bus channel value (`0-n:24.2.x`, `0-n:24.3.0`): volume or energy by unit and medium.
    var mbusValue = false
    /// The telegram's clock `0-0:1.0.0`.
    var isClock = false

    static let register = OBISMeaning(quantity: .register)
}

/// OBIS codes to quantities (IEC 62056-61, value groups C and D for electricity; the abstract and
/// M-Bus objects in the data object tables of DSMR P1 5.0.2 and e-MUCS P1 1.7.1). Unknown codes are `register`.
///
/// Electricity (A = 1, or no A as in IEC 62056-21 short addresses), C = total, C + 20/40/60 = L1/L2/L3:
/// | C | D = 7 (and demand D = 4, 5, 6) | D = 8 (tariff = E when 1…63) |
/// | --- | --- | --- |
/// | 1 / 2 | power / power_export | energy / energy_export |
/// | 3 / 4 | reactive_power / reactive_power_export | reactive_energy / reactive_energy_export |
/// | 5…8 | reactive_power_q1…q4 | reactive_energy_q1…q4 |
/// | 9 / 10 | apparent_power / apparent_power_export | apparent_energy / apparent_energy_export |
/// | 15 / 16 | power_absolute / power_net | energy_absolute / energy_net |
///
/// and 11.7 current, 12.7 voltage, 13.7 power_factor, 14.7 frequency, 91.7 current_neutral, 11.4
/// fuse_threshold (e-MUCS), 12.32 / 12.36 voltage_sag_count / voltage_swell_count, each with phase
/// suffixes where C is a phase code. D = 6 (maximum demand) sets `function` = maximum; D = 4 / 5 say
/// "current average" / "last average" in `note`. C = 0: 0.0.x equipment_id, 0.2.x version.
///
/// Any A: 96.1.x equipment_id (96.1.4 version), 96.3.10 breaker_state, 96.5.x status,
/// 96.7.0/96.7.21 power_failure_count, 96.7.9 long_power_failure_count, 96.13.0 text_message,
/// 96.13.1 text_message_code, 96.14.0 tariff_indicator, 97.97 error_register. A = 0: 1.0.0 clock,
/// 17.0.0 limiter_threshold, 24.1.0 device_type, 24.2.x and 24.3.0 the M-Bus value, 24.4.0
/// valve_state, 42.0.0 logical_device_name.
enum OBISTable {
    private static let powerQuantities: [Int: Quantity] = [
        1: .power, 2: .powerExport, 3: .reactivePower, 4: .reactivePowerExport,
        5: .reactivePowerQ1, 6: .reactivePowerQ2, 7: .reactivePowerQ3, 8: .reactivePowerQ4,
        9: .apparentPower, 10: .apparentPowerExport, 15: .powerAbsolute, 16: .powerNet,
    ]
    private static let energyQuantities: [Int: Quantity] = [
        1: .energy, 2: .energyExport, 3: .reactiveEnergy, 4: .reactiveEnergyExport,
        5: .reactiveEnergyQ1, 6: .reactiveEnergyQ2, 7: .reactiveEnergyQ3, 8: .reactiveEnergyQ4,
        9: .apparentEnergy, 10: .apparentEnergyExport, 15: .energyAbsolute, 16: .energyNet,
    ]

    static func meaning(of code: OBISAddress?) -> OBISMeaning {
        guard let o = code else { return .register }
        if o.c >= 96 { return service(o) }
        switch o.a {
        case nil, 1?: return electricity(o)
        case 0?: return abstract(o)
        default: return .register
        }
    }

    /// C = 96…99: service entries, meaningful whatever A is.
    private static func service(_ o: OBISAddress) -> OBISMeaning {
        switch (o.c, o.d, o.e) {
        case (96, 1, 4?): return OBISMeaning(quantity: .version, kind: .text)
        case (96, 1, _): return OBISMeaning(quantity: .equipmentId, kind: .identifier)
        case (96, 3, 10?): return OBISMeaning(quantity: .breakerState)
        case (96, 5, _): return OBISMeaning(quantity: .status, kind: .text)
        case (96, 7, 0?), (96, 7, 21?), (96, 7, nil): return OBISMeaning(quantity: .powerFailureCount)
        case (96, 7, 9?): return OBISMeaning(quantity: .longPowerFailureCount)
        case (96, 13, 0?), (96, 13, nil): return OBISMeaning(quantity: .textMessage, kind: .identifier)
        case (96, 13, 1?): return OBISMeaning(quantity: .textMessageCode, kind: .identifier)
        case (96, 14, _): return OBISMeaning(quantity: .tariffIndicator)
        case (97, 97, _): return OBISMeaning(quantity: .errorRegister, kind: .text)
        default: return .register
        }
    }

    /// A = 0: abstract objects and the M-Bus channels of DSMR.
    private static func abstract(_ o: OBISAddress) -> OBISMeaning {
        switch (o.c, o.d) {
        case (0, 0): return OBISMeaning(quantity: .equipmentId, kind: .identifier)
        case (0, 2): return OBISMeaning(quantity: .version, kind: .text)
        case (1, 0) where o.b == 0: return OBISMeaning(quantity: .clock, kind: .text, isClock: true)
        case (17, 0): return OBISMeaning(quantity: .limiterThreshold)
        case (24, 1): return OBISMeaning(quantity: .deviceType)
        case (24, 2), (24, 3): return OBISMeaning(quantity: .register, mbusValue: true)
        case (24, 4): return OBISMeaning(quantity: .valveState)
        case (42, 0): return OBISMeaning(quantity: .logicalDeviceName, kind: .identifier)
        default: return .register
        }
    }

    /// A = 1 or none: electricity (IEC 62056-61, value groups C and D for electricity).
    private static func electricity(_ o: OBISAddress) -> OBISMeaning {
        if o.c == 0 {
            switch o.d {
            case 0: return OBISMeaning(quantity: .equipmentId, kind: .identifier)
            case 2: return OBISMeaning(quantity: .version, kind: .text)
            default: return .register
            }
        }
        if o.c == 91 && o.d == 7 { return OBISMeaning(quantity: .currentNeutral, unit: .ampere) }
        var c = o.c
        var suffix = ""
        switch o.c {
        case 21...40: c -= 20; suffix = "_l1"
        case 41...60: c -= 40; suffix = "_l2"
        case 61...80: c -= 60; suffix = "_l3"
        case 1...20: break
        default: return .register
        }
        func named(_ base: Quantity, _ unit: Unit?) -> OBISMeaning {
            OBISMeaning(quantity: Quantity(rawValue: base.rawValue + suffix), unit: unit)
        }
        switch (c, o.d) {
        case (11, 7): return named(.current, .ampere)
        case (11, 4): return named(.fuseThreshold, .ampere)
        case (12, 7): return named(.voltage, .volt)
        case (12, 32): return named(.voltageSagCount, nil)
        case (12, 36): return named(.voltageSwellCount, nil)
        case (13, 7): return named(.powerFactor, nil)
        case (14, 7): return named(.frequency, .hertz)
        case (_, 8):
            guard let q = energyQuantities[c] else { return .register }
            var m = named(q, energyUnit(c))
            if let e = o.e, (1...63).contains(e) { m.tariff = e }
            return m
        case (_, 4), (_, 5), (_, 6), (_, 7):
            guard let q = powerQuantities[c] else { return .register }
            var m = named(q, powerUnit(c))
            switch o.d {
            case 6: m.function = .maximum
            case 4: m.note = "current average"
            case 5: m.note = "last average"
            default: break
            }
            return m
        default:
            return .register
        }
    }

    private static func energyUnit(_ c: Int) -> Unit {
        switch c {
        case 3...8: return .varHour
        case 9, 10: return .voltAmpereHour
        default: return .wattHour
        }
    }

    private static func powerUnit(_ c: Int) -> Unit {
        switch c {
        case 3...8: return .varUnit
        case 9, 10: return .voltAmpere
        default: return .watt
        }
    }
}
