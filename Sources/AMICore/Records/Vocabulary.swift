/// A measured quantity's stable name, from the vocabulary documented in ami-jsonl(5).
/// Open for extension: decoders may only use names listed there.
public struct Quantity: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let energy: Quantity = "energy"
    public static let energyExport: Quantity = "energy_export"
    public static let reactiveEnergy: Quantity = "reactive_energy"
    public static let apparentEnergy: Quantity = "apparent_energy"
    public static let volume: Quantity = "volume"
    public static let mass: Quantity = "mass"
    public static let power: Quantity = "power"
    public static let powerExport: Quantity = "power_export"
    public static let reactivePower: Quantity = "reactive_power"
    public static let apparentPower: Quantity = "apparent_power"
    public static let volumeFlow: Quantity = "volume_flow"
    public static let massFlow: Quantity = "mass_flow"
    public static let flowTemperature: Quantity = "flow_temperature"
    public static let returnTemperature: Quantity = "return_temperature"
    public static let temperatureDifference: Quantity = "temperature_difference"
    public static let externalTemperature: Quantity = "external_temperature"
    public static let pressure: Quantity = "pressure"
    public static let voltage: Quantity = "voltage"
    public static let current: Quantity = "current"
    public static let frequency: Quantity = "frequency"
    public static let powerFactor: Quantity = "power_factor"
    public static let onTime: Quantity = "on_time"
    public static let operatingTime: Quantity = "operating_time"
    public static let timePoint: Quantity = "time_point"
    public static let hca: Quantity = "hca"
    public static let fabricationNumber: Quantity = "fabrication_number"
    public static let equipmentId: Quantity = "equipment_id"
    public static let manufacturerSpecific: Quantity = "manufacturer_specific"
    public static let register: Quantity = "register"
}

/// A unit from the set documented in ami-jsonl(5). Decoders convert prefixed units to these
/// (kWh → Wh, kW → W, GJ → J, minutes → s) exactly, by moving the decimal exponent.
public struct Unit: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let wattHour: Unit = "Wh"
    public static let watt: Unit = "W"
    public static let varHour: Unit = "varh"
    public static let varUnit: Unit = "var"
    public static let voltAmpereHour: Unit = "VAh"
    public static let voltAmpere: Unit = "VA"
    public static let volt: Unit = "V"
    public static let ampere: Unit = "A"
    public static let hertz: Unit = "Hz"
    public static let cubicMetre: Unit = "m3"
    public static let cubicMetrePerHour: Unit = "m3/h"
    public static let kilogram: Unit = "kg"
    public static let kilogramPerHour: Unit = "kg/h"
    public static let joule: Unit = "J"
    public static let joulePerHour: Unit = "J/h"
    public static let degreeCelsius: Unit = "degC"
    public static let kelvin: Unit = "K"
    public static let second: Unit = "s"
    public static let bar: Unit = "bar"
    public static let percent: Unit = "%"
}

/// The M-Bus data-record function (EN 13757-3 §6.3.2, DIF bits 4–5).
public enum RecordFunction: String, Sendable, Equatable {
    case instantaneous
    case maximum
    case minimum
    case error
}

/// The protocols `ami-decode` knows, by the names used in records and on the command line.
public enum ProtocolID: String, Sendable, Equatable, CaseIterable {
    case mbus = "mbus"
    case iec62056_21 = "iec62056-21"
    case dsmr = "dsmr"
}
