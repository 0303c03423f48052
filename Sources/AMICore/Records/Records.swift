/// Where a record came from: the protocol, the input (`file:NAME`, `tcp://host:port`, `-` for stdin,
/// or the `source` of the `frame` record it was decoded from) and the 0-based index of the frame
/// within that input.
public struct Provenance: Sendable, Equatable {
    public var protocolID: ProtocolID
    public var source: String
    public var frame: Int

    public init(protocolID: ProtocolID, source: String, frame: Int) {
        self.protocolID = protocolID
        self.source = source
        self.frame = frame
    }
}

/// A reading's value: an exact decimal number, or text (dates kept in the meter's own terms,
/// identifiers, hex of opaque data).
public enum ReadingValue: Sendable, Equatable {
    case number(ExactDecimal)
    case text(String)
}

/// One measured value (`"type":"reading"` in ami-jsonl(5)).
public struct Reading: Sendable, Equatable {
    /// Stable meter identity: M-Bus `MAN-ID-VV-MM` (manufacturer, 8-digit id, version and medium
    /// in hex); DSMR and IEC 62056-21 the equipment identifier.
    public var meter: String
    /// The medium of the meter when the protocol says it (`electricity`, `water`, `heat`, `gas`…).
    public var medium: String?
    public var quantity: Quantity
    /// The OBIS code as the meter gave it, where a standard gives one.
    public var obis: String?
    public var value: ReadingValue
    public var unit: Unit?
    /// The meter's own timestamp for the value when the frame carries one, else the frame's
    /// receive time; nil when neither is known.
    public var time: UTCTime?
    /// M-Bus storage number, tariff, subunit and function; nil for other protocols.
    public var storage: Int?
    public var tariff: Int?
    public var subunit: Int?
    public var function: RecordFunction?
    /// Index of the data record within its frame (M-Bus), or of the line within its telegram.
    public var record: Int?
    /// A short description of a qualifier a decoder could not fold into `quantity` (e.g. an M-Bus
    /// VIFE the vocabulary has no name for, or `more_records_follow`).
    public var note: String?
    /// For an interval reading, the interval's length in seconds: `value` is what accumulated in the
    /// interval that ends at `time`. Nil for a register (a reading at an instant).
    public var interval: Int?
    /// Reading-quality codes (IEC 61968-9), e.g. `3.8.0` for an estimate; empty when none is known.
    public var quality: [ReadingQuality]
    public var provenance: Provenance

    public init(meter: String, medium: String? = nil, quantity: Quantity, obis: String? = nil,
                value: ReadingValue, unit: Unit? = nil, time: UTCTime? = nil, storage: Int? = nil,
                tariff: Int? = nil, subunit: Int? = nil, function: RecordFunction? = nil, record: Int? = nil,
                note: String? = nil, interval: Int? = nil, quality: [ReadingQuality] = [],
                provenance: Provenance) {
        self.meter = meter
        self.medium = medium
        self.quantity = quantity
        self.obis = obis
        self.value = value
        self.unit = unit
        self.time = time
        self.storage = storage
        self.tariff = tariff
        self.subunit = subunit
        self.function = function
        self.record = record
        self.note = note
        self.interval = interval
        self.quality = quality
        self.provenance = provenance
    }
}

/// An alarm, status bit, error state or logged occurrence (`"type":"event"`).
public struct Event: Sendable, Equatable {
    public var meter: String?
    /// Stable name from the event vocabulary in ami-jsonl(5), e.g. `application_error`, `power_low`,
    /// `power_failure`.
    public var event: String
    /// The code as the meter sent it (hex byte, register value), when there is one.
    public var code: String?
    /// Human-readable detail.
    public var text: String?
    public var time: UTCTime?
    /// Duration in seconds, for logged occurrences that have one.
    public var duration: ExactDecimal?
    public var provenance: Provenance

    public init(meter: String?, event: String, code: String? = nil, text: String? = nil, time: UTCTime? = nil,
                duration: ExactDecimal? = nil, provenance: Provenance) {
        self.meter = meter
        self.event = event
        self.code = code
        self.text = text
        self.time = time
        self.duration = duration
        self.provenance = provenance
    }
}

/// Raw bytes as exchanged with or captured from a meter (`"type":"frame"`).
public struct FrameRecord: Sendable, Equatable {
    public enum Direction: String, Sendable { case rx, tx }
    public var bytes: [UInt8]
    public var time: UTCTime?
    /// Protocol name as written (one of `ProtocolID` for those ami-decode decodes, or another).
    public var protocolName: String?
    public var source: String?
    public var direction: Direction
    public var meter: String?
    /// The deciphered APDU that this frame completes, when it was ciphered (`plain`): a reader can
    /// decode it without holding the keys.
    public var plain: [UInt8]?
    /// The device profile the frame's registers are read with (Modbus): a built-in profile's
    /// name or a profile file's path, as given to ami-read.
    public var profile: String?

    public init(bytes: [UInt8], time: UTCTime? = nil, protocolName: String? = nil, source: String? = nil,
                direction: Direction = .rx, meter: String? = nil, plain: [UInt8]? = nil, profile: String? = nil) {
        self.bytes = bytes
        self.time = time
        self.protocolName = protocolName
        self.source = source
        self.direction = direction
        self.meter = meter
        self.plain = plain
        self.profile = profile
    }
}

/// Any record of the JSON-lines stream.
public enum Record: Sendable, Equatable {
    case frame(FrameRecord)
    case reading(Reading)
    case event(Event)
}

/// The schema version written in every record's `"v"` and documented in ami-jsonl(5).
public let jsonlSchemaVersion = 1
