/// A tariff as ami-tariff(5) describes it: a calendar (IANA zone, seasons, holidays, time-of-use
/// rules), price versions with effective dates, and the prepaid policy. Built by `TariffParser`,
/// which checks everything (calendar coverage, prices) before a `Tariff` exists.
public struct Tariff: Sendable {
    public var name: String
    public var medium: String
    /// The quantity billed (`energy`, `volume`) and the unit prices are per (`kWh`, `m3`…).
    public var quantity: String
    public var unit: BillingUnit
    public var currency: String
    /// Decimals of the currency's minor unit (2 for cents).
    public var minorUnits: Int
    public var zone: LocalTimeZone
    /// Tier counters restart every local month or every local day.
    public var tierReset: TierReset
    public var seasons: [Season]
    /// Local dates (days since 1970-01-01) that are holidays.
    public var holidays: Set<Int>
    /// Names of the time-of-use periods, in the order first named.
    public var periods: [String]
    public var rules: [TimeRule]
    public var versions: [PriceVersion]
    public var prepaid: PrepaidPolicy?

    public enum TierReset: String, Sendable { case month, day }

    /// A season from a month and day (local) until the next season's start.
    public struct Season: Sendable {
        public var name: String
        public var month: Int
        public var day: Int
    }

    /// When a rule applies: seasons (indexes), day classes 0–6 = Monday–Sunday, 7 = holiday, and
    /// minute ranges of the local day [from, to).
    public struct When: Sendable {
        public var seasons: [Int]
        public var days: [Int]
        public var minutes: [Range<Int>]
    }

    /// A time-of-use rule: `period` applies `when`.
    public struct TimeRule: Sendable {
        public var period: Int
        public var when: When
    }

    /// Prices in force from `from` (a local date, days since 1970-01-01) until the next version.
    public struct PriceVersion: Sendable {
        public var from: Int
        /// Tiers for each period (indexed like `periods`); a flat price is one tier.
        public var energy: [[Tier]]
        public var fixed: [FixedCharge]
        public var demand: [DemandCharge]
        public var minimum: Int64?
        public var taxes: [Tax]
    }

    /// Usage up to `upTo` (nano-units of the tariff unit, counted per period since the last reset)
    /// at `price` (nano-currency per unit); the last tier has no limit.
    public struct Tier: Sendable {
        public var upTo: Nano?
        public var price: Nano
    }

    public struct FixedCharge: Sendable {
        public enum Per: String, Sendable { case day, month }
        public var name: String
        public var per: Per
        public var price: Nano
    }

    /// The highest average demand over `window` seconds in the bill, among windows that start
    /// when `when` applies, priced by tiers of kW (or the unit's rate per hour).
    public struct DemandCharge: Sendable {
        public var name: String
        public var window: Int
        public var when: [When]
        public var tiers: [Tier]
    }

    public struct Tax: Sendable {
        public var name: String
        public var rate: Nano
    }
}

/// What a prepaid account does: thresholds in minor units, the share of each top-up that pays
/// debt, and the friendly times in which no disconnection happens.
public struct PrepaidPolicy: Sendable {
    public var warn: Int64
    public var emergencyCredit: Int64
    public var debtRecovery: Nano
    public var friendly: [Tariff.When]
}

/// A unit prices are quoted per, and how stored readings convert to it: `base` is the unit the
/// decoders write (Wh, J, m3) and the tariff unit is 10^`power` of it.
public struct BillingUnit: Sendable, Equatable {
    public var name: String
    public var base: String
    public var power: Int
    /// The name of its rate per hour (kW for kWh) for demand charges.
    public var demandName: String

    public static let known: [BillingUnit] = [
        BillingUnit(name: "Wh", base: "Wh", power: 0, demandName: "W"),
        BillingUnit(name: "kWh", base: "Wh", power: 3, demandName: "kW"),
        BillingUnit(name: "MWh", base: "Wh", power: 6, demandName: "MW"),
        BillingUnit(name: "J", base: "J", power: 0, demandName: "J/h"),
        BillingUnit(name: "kJ", base: "J", power: 3, demandName: "kJ/h"),
        BillingUnit(name: "MJ", base: "J", power: 6, demandName: "MJ/h"),
        BillingUnit(name: "GJ", base: "J", power: 9, demandName: "GJ/h"),
        BillingUnit(name: "m3", base: "m3", power: 0, demandName: "m3/h"),
        BillingUnit(name: "l", base: "m3", power: -3, demandName: "l/h"),
    ]

    public static func named(_ name: String) -> BillingUnit? { known.first { $0.name == name } }
}
