/// Where a decoder puts the records of a frame as it makes them. `DecodeOutput` keeps them as
/// `Record` values; `JSONLineWriter.FrameEmitter` writes each as a JSON line at once, without making
/// a `Reading` (a decode session uses it when its sink offers a writer).
///
/// A decoder gives the meter, medium and provenance its readings share once (`setMeter`), then each
/// reading's own fields (`reading`, whose parameters are those of `Reading.init`); anything else is
/// a whole `Record`. The fields are passed one by one, not as a struct, so that no string in them is
/// copied on the way.
public protocol RecordEmitter {
    /// The meter, medium and provenance of the readings emitted after this call.
    mutating func setMeter(_ meter: String, medium: String?, provenance: Provenance)
    /// The same with the meter and medium of `head` (whose JSON is rendered once for all its frames).
    mutating func setMeter(_ head: MeterHead, provenance: Provenance)
    /// A reading of the meter set last by `setMeter`.
    mutating func reading(quantity: Quantity, obis: String?, value: ReadingValue, unit: Unit?, time: UTCTime?,
                          storage: Int?, tariff: Int?, subunit: Int?, function: RecordFunction?, record: Int?,
                          note: String?)
    /// A reading of the meter set last by `setMeter`, with the fields of `template`.
    mutating func reading(_ template: ReadingTemplate, value: ReadingValue, time: UTCTime?, record: Int)
    /// An event of a meter's status (such as the status byte of an M-Bus header); `meter` and
    /// `provenance` are usually those given to `setMeter` last.
    mutating func statusEvent(meter: String, event: StaticString, code: String, text: StaticString, time: UTCTime?,
                              provenance: Provenance)
    /// A whole record: an event, or a reading with its own meter and provenance.
    mutating func record(_ record: Record)
    /// Something that did not stop the frame (such as a checksum mismatch under `ignoreChecksums`).
    mutating func warning(_ warning: DecodeError)
    /// Runs a decoder that fills a `DecodeOutput`, then emits what it made.
    mutating func collect(_ decode: (inout DecodeOutput) throws(DecodeError) -> Void) throws(DecodeError)
}

extension RecordEmitter {
    public mutating func setMeter(_ head: MeterHead, provenance: Provenance) {
        setMeter(head.meter, medium: head.medium, provenance: provenance)
    }

    public mutating func reading(_ t: ReadingTemplate, value: ReadingValue, time: UTCTime?, record: Int) {
        reading(quantity: t.quantity, obis: t.obis, value: value, unit: t.unit, time: time, storage: t.storage,
                tariff: t.tariff, subunit: t.subunit, function: t.function, record: record, note: t.note)
    }

    public mutating func statusEvent(meter: String, event: StaticString, code: String, text: StaticString,
                                     time: UTCTime?, provenance: Provenance) {
        record(.event(Event(meter: meter, event: event.description, code: code, text: text.description, time: time,
                            provenance: provenance)))
    }

    public mutating func collect(_ decode: (inout DecodeOutput) throws(DecodeError) -> Void) throws(DecodeError) {
        var out = DecodeOutput()
        try decode(&out)
        for r in out.records { record(r) }
        for w in out.warnings { warning(w) }
    }
}

/// What decoding a frame yields: records, and warnings about things that did not stop it (such as a
/// checksum mismatch under `ignoreChecksums`). The simple way for a decoder to emit a reading is
/// `out.records.append(.reading(Reading(...)))`.
public struct DecodeOutput: Sendable, RecordEmitter {
    public var records: [Record] = []
    public var warnings: [DecodeError] = []
    /// The meter set last by `setMeter`, for `reading`.
    private var meter = ""
    private var medium: String? = nil
    private var provenance = Provenance(protocolID: .mbus, source: "", frame: 0)

    public init() {}

    public mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        warnings.removeAll(keepingCapacity: true)
    }

    public mutating func setMeter(_ meter: String, medium: String?, provenance: Provenance) {
        self.meter = meter
        self.medium = medium
        self.provenance = provenance
    }

    public mutating func reading(quantity: Quantity, obis: String?, value: ReadingValue, unit: Unit?, time: UTCTime?,
                                 storage: Int?, tariff: Int?, subunit: Int?, function: RecordFunction?, record: Int?,
                                 note: String?) {
        records.append(.reading(Reading(
            meter: meter, medium: medium, quantity: quantity, obis: obis, value: value, unit: unit, time: time,
            storage: storage, tariff: tariff, subunit: subunit, function: function, record: record, note: note,
            provenance: provenance)))
    }

    public mutating func record(_ record: Record) { records.append(record) }

    public mutating func warning(_ warning: DecodeError) { warnings.append(warning) }

    public mutating func collect(_ decode: (inout DecodeOutput) throws(DecodeError) -> Void) throws(DecodeError) {
        try decode(&self)
    }
}
