/// Quantity names used by the M-Bus decoder beyond those shared with other decoders
/// (`Vocabulary.swift`). Each is a stable lower_snake name for a VIF / VIFE meaning of
/// EN 13757-3; the man page ami-jsonl(5) lists them.
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
