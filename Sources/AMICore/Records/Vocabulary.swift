/// A measured quantity's stable name, from the vocabulary documented in ami-jsonl(5).
/// Open for extension: decoders may only use names listed there.
public struct Quantity: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    let name: VocabularyName
    public var rawValue: String { name.string }
    public init(rawValue: String) { name = .text(rawValue) }
    public init(stringLiteral value: StaticString) { name = VocabularyName(value) }

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
    public static let relativeHumidity: Quantity = "relative_humidity"
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

/// Quantities of the M-Bus VIF tables (EN 13757-3), each a stable lower_snake name for a VIF or
/// VIFE meaning.
extension Quantity {
    // Primary VIF table (EN 13757-3, E111 0nnn and E111 10nn codes).
    public static let averagingDuration: Quantity = "averaging_duration"
    public static let actualityDuration: Quantity = "actuality_duration"
    public static let enhancedIdentification: Quantity = "enhanced_identification"
    public static let busAddress: Quantity = "bus_address"
    /// VIF 0x7C / 0xFC: the unit is given as text (kept in `note`).
    public static let plainTextUnit: Quantity = "plain_text_unit"
    /// VIF 0x7E / 0xFE.
    public static let anyVIF: Quantity = "any_vif"
    /// A VIF or VIF extension code that EN 13757-3 reserves (the code is kept in `note`).
    public static let reserved: Quantity = "reserved"

    // Extension table 0xFD (EN 13757-3:2018 Table 12).
    public static let credit: Quantity = "credit"
    public static let debit: Quantity = "debit"
    public static let accessNumber: Quantity = "access_number"
    /// EN 13757-3 device type (medium) code: M-Bus VIF FD 09, DSMR `0-n:24.1.0`.
    public static let deviceType: Quantity = "device_type"
    public static let manufacturer: Quantity = "manufacturer"
    public static let parameterSetID: Quantity = "parameter_set_id"
    public static let modelVersion: Quantity = "model_version"
    public static let hardwareVersion: Quantity = "hardware_version"
    public static let firmwareVersion: Quantity = "firmware_version"
    public static let softwareVersion: Quantity = "software_version"
    public static let customerLocation: Quantity = "customer_location"
    public static let customer: Quantity = "customer"
    public static let accessCodeUser: Quantity = "access_code_user"
    public static let accessCodeOperator: Quantity = "access_code_operator"
    public static let accessCodeSystemOperator: Quantity = "access_code_system_operator"
    public static let accessCodeDeveloper: Quantity = "access_code_developer"
    public static let password: Quantity = "password"
    public static let errorFlags: Quantity = "error_flags"
    public static let errorMask: Quantity = "error_mask"
    public static let digitalOutput: Quantity = "digital_output"
    public static let digitalInput: Quantity = "digital_input"
    public static let baudRate: Quantity = "baud_rate"
    public static let responseDelay: Quantity = "response_delay"
    public static let retry: Quantity = "retry"
    public static let remoteControl: Quantity = "remote_control"
    public static let firstStorageNumber: Quantity = "first_storage_number"
    public static let lastStorageNumber: Quantity = "last_storage_number"
    public static let storageBlockSize: Quantity = "storage_block_size"
    public static let storageInterval: Quantity = "storage_interval"
    public static let durationSinceReadout: Quantity = "duration_since_readout"
    public static let tariffStart: Quantity = "tariff_start"
    public static let tariffDuration: Quantity = "tariff_duration"
    public static let tariffPeriod: Quantity = "tariff_period"
    public static let dimensionless: Quantity = "dimensionless"
    public static let resetCounter: Quantity = "reset_counter"
    public static let cumulationCounter: Quantity = "cumulation_counter"
    public static let controlSignal: Quantity = "control_signal"
    public static let dayOfWeek: Quantity = "day_of_week"
    public static let weekNumber: Quantity = "week_number"
    public static let dayChangeTime: Quantity = "day_change_time"
    public static let parameterActivationState: Quantity = "parameter_activation_state"
    public static let specialSupplierInfo: Quantity = "special_supplier_info"
    public static let durationSinceCumulation: Quantity = "duration_since_cumulation"
    public static let batteryOperatingTime: Quantity = "battery_operating_time"
    public static let batteryChangeTime: Quantity = "battery_change_time"
    public static let rfLevel: Quantity = "rf_level"
    public static let remainingBatteryLife: Quantity = "remaining_battery_life"

    // Extension table 0xFB (EN 13757-3:2018 Table 14).
    public static let temperatureLimit: Quantity = "temperature_limit"
    public static let cumulativeMaxPower: Quantity = "cumulative_max_power"

    // Combinable VIFEs that change what the value is (EN 13757-3:2018 Table 15).
    /// Duration of a limit exceed, or "duration of D" (`note` says of what).
    public static let duration: Quantity = "duration"
    /// Number of exceeds of a limit (`note` says of what).
    public static let count: Quantity = "count"

    // Fixed data structure (CI 0x73 / 0x77) units without a VIF counterpart.
    /// A temperature that the fixed structure does not say is flow or return.
    public static let temperature: Quantity = "temperature"
    /// A fixed-structure counter without units, or with a reserved unit code.
    public static let counter: Quantity = "counter"
}

/// Quantities of DSMR P1 and IEC 62056-21 registers (IEC 62056-61 OBIS). Phase-specific electricity
/// quantities are the total's name with `_l1`, `_l2` or `_l3` (`power_l1`, `voltage_l3`), see
/// `OBISTable`.
extension Quantity {
    public static let reactiveEnergyExport: Quantity = "reactive_energy_export"
    public static let apparentEnergyExport: Quantity = "apparent_energy_export"
    public static let reactivePowerExport: Quantity = "reactive_power_export"
    /// Reactive energy and power by quadrant (IEC 62056-61 C = 5…8).
    public static let reactiveEnergyQ1: Quantity = "reactive_energy_q1"
    public static let reactiveEnergyQ2: Quantity = "reactive_energy_q2"
    public static let reactiveEnergyQ3: Quantity = "reactive_energy_q3"
    public static let reactiveEnergyQ4: Quantity = "reactive_energy_q4"
    public static let reactivePowerQ1: Quantity = "reactive_power_q1"
    public static let reactivePowerQ2: Quantity = "reactive_power_q2"
    public static let reactivePowerQ3: Quantity = "reactive_power_q3"
    public static let reactivePowerQ4: Quantity = "reactive_power_q4"
    public static let apparentPowerExport: Quantity = "apparent_power_export"
    /// |+A| + |−A| (IEC 62056-61 C = 15).
    public static let energyAbsolute: Quantity = "energy_absolute"
    public static let powerAbsolute: Quantity = "power_absolute"
    /// +A − (−A) (IEC 62056-61 C = 16).
    public static let energyNet: Quantity = "energy_net"
    public static let powerNet: Quantity = "power_net"
    public static let currentNeutral: Quantity = "current_neutral"
    /// Fuse supervision threshold (e-MUCS / E.ON `1-0:31.4.0`).
    public static let fuseThreshold: Quantity = "fuse_threshold"
    public static let voltageSagCount: Quantity = "voltage_sag_count"
    public static let voltageSwellCount: Quantity = "voltage_swell_count"
    /// The meter's clock (DSMR `0-0:1.0.0`), as ISO 8601 UTC text.
    public static let clock: Quantity = "clock"
    /// A version: DSMR P1 version `1-3:0.2.8`, e-MUCS `0-0:96.1.4`, firmware `0.2.0`.
    public static let version: Quantity = "version"
    public static let tariffIndicator: Quantity = "tariff_indicator"
    public static let powerFailureCount: Quantity = "power_failure_count"
    public static let longPowerFailureCount: Quantity = "long_power_failure_count"
    public static let textMessage: Quantity = "text_message"
    public static let textMessageCode: Quantity = "text_message_code"
    /// Breaker (disconnector) state `0-0:96.3.10`: 0 disconnected, 1 connected, 2 ready.
    public static let breakerState: Quantity = "breaker_state"
    /// Disconnect control (DLMS IC 70) `output_state`: 1 when the supply is connected.
    public static let outputState: Quantity = "output_state"
    /// Disconnect control (DLMS IC 70) `control_mode` (0–6), as sent.
    public static let controlMode: Quantity = "control_mode"
    /// Limiter threshold `0-0:17.0.0` (kW, or A in some DSMR 2.2 meters).
    public static let limiterThreshold: Quantity = "limiter_threshold"
    public static let valveState: Quantity = "valve_state"
    public static let logicalDeviceName: Quantity = "logical_device_name"
    /// Operating status word (`96.5.x`, `C.5.0`), as sent.
    public static let status: Quantity = "status"
    /// Error register (`F.F`, 97.97), as sent.
    public static let errorRegister: Quantity = "error_register"
}

/// A unit from the set documented in ami-jsonl(5). Decoders convert prefixed units to these
/// (kWh → Wh, kW → W, GJ → J, minutes → s) exactly, by moving the decimal exponent.
public struct Unit: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
    let name: VocabularyName
    public var rawValue: String { name.string }
    public init(rawValue: String) { name = .text(rawValue) }
    public init(stringLiteral value: StaticString) { name = VocabularyName(value) }

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
    /// Angle in degrees (DLMS phase angles, unit code 8).
    public static let degree: Unit = "deg"
}

/// The M-Bus data-record function (EN 13757-3 §6.3.2, DIF bits 4–5).
public enum RecordFunction: String, Sendable, Equatable {
    case instantaneous
    case maximum
    case minimum
    case error
}

/// Where records came from, by the names used in records and on the command line: the meter
/// protocols `ami-decode` decodes (`decodable`), and the file formats `ami-export` imports.
public enum ProtocolID: String, Sendable, Hashable, CaseIterable {
    case mbus = "mbus"
    case iec62056_21 = "iec62056-21"
    case dsmr = "dsmr"
    case dlms = "dlms"
    /// Wireless M-Bus and OMS (EN 13757-4, -7).
    case wmbus = "wmbus"
    case sml = "sml"
    /// Modbus TCP and RTU, decoded with a device profile.
    case modbus = "modbus"
    /// AEMO Meter Data File Format NEM12 (read by `ami-export --from nem12`).
    case nem12 = "nem12"
    /// Green Button (NAESB REQ.21 ESPI) XML (read by `ami-export --from espi`).
    case espi = "espi"

    /// The protocols whose frames `ami-decode` decodes.
    public static let decodable: [ProtocolID] = [.mbus, .wmbus, .iec62056_21, .dsmr, .dlms, .sml, .modbus]

    /// The case's place in the declaration. Protocols are compared and hashed by it, not by their
    /// names (as `RawRepresentable` would): the enabled protocols are asked about for every frame.
    private var ordinal: UInt8 {
        switch self {
        case .mbus: 0
        case .iec62056_21: 1
        case .dsmr: 2
        case .dlms: 3
        case .wmbus: 4
        case .sml: 5
        case .modbus: 6
        case .nem12: 7
        case .espi: 8
        }
    }

    public static func == (a: ProtocolID, b: ProtocolID) -> Bool { a.ordinal == b.ordinal }

    public func hash(into hasher: inout Hasher) { hasher.combine(ordinal) }
}

/// A name of the vocabulary (of a `Quantity` or `Unit`): a literal of the program, which is copied
/// without reference counting (the readings of a frame copy their quantity and unit many times),
/// or text made at run time. Equal names are equal whichever way they are held.
enum VocabularyName: Hashable, Sendable {
    case literal(StaticString)
    case text(String)

    /// A literal of the program. It must need no escaping in JSON (printable ASCII without `"` or
    /// `\`), so that writers copy it as it is: checked in debug builds.
    init(_ s: StaticString) {
        assert(s.withUTF8Buffer { $0.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C } },
               "vocabulary literal \(s) needs escaping")
        self = .literal(s)
    }

    var string: String {
        switch self {
        case .literal(let s): return s.description
        case .text(let s): return s
        }
    }

    /// The length of the name in UTF-8.
    @inline(__always)
    var count: Int {
        switch self {
        case .literal(let s): return s.utf8CodeUnitCount
        case .text(let s): return s.utf8.count
        }
    }

    /// The name's UTF-8 bytes, for the duration of `body`.
    @inline(__always)
    func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        switch self {
        case .literal(let s): return s.withUTF8Buffer(body)
        case .text(let s):
            var t = s
            return t.withUTF8(body)
        }
    }

    static func == (a: VocabularyName, b: VocabularyName) -> Bool {
        switch (a, b) {
        case (.text(let x), .text(let y)): return x == y
        case (.literal(let x), .literal(let y)) where x.hasPointerRepresentation && y.hasPointerRepresentation
            && x.utf8Start == y.utf8Start && x.utf8CodeUnitCount == y.utf8CodeUnitCount:
            return true
        default: return a.withUTF8 { x in b.withUTF8 { y in x.elementsEqual(y) } }
        }
    }

    func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
