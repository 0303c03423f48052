/// What readings made again and again from one layout share (an M-Bus record's DIB and VIB say
/// everything but the value and the time): all of a reading but its meter, value, time, record
/// number and provenance, with its JSON text rendered once.
///
/// Decoders pass a template to `RecordEmitter.reading(_:value:time:record:)`; the JSON emitter
/// copies the rendered pieces around the value, the time and the record number instead of writing
/// each field again.
public final class ReadingTemplate: @unchecked Sendable {   // immutable after init
    public let quantity: Quantity
    public let obis: String?
    public let unit: Unit?
    public let storage: Int?
    public let tariff: Int?
    public let subunit: Int?
    public let function: RecordFunction?
    public let note: String?

    /// The fields in ami-jsonl(5) order, in four pieces: `json[..<valueAt]` before the value
    /// (quantity, obis), `json[valueAt..<timeAt]` between the value and the time (unit),
    /// `json[timeAt..<recordAt]` from the time to the record number (storage to function and
    /// `,"record":`), `json[recordAt...]` after it (note).
    let json: UnsafeBufferPointer<UInt8>
    let valueAt: Int
    let timeAt: Int
    let recordAt: Int

    public init(quantity: Quantity, obis: String? = nil, unit: Unit?, storage: Int?, tariff: Int?, subunit: Int?,
                function: RecordFunction?, note: String?) {
        self.quantity = quantity
        self.obis = obis
        self.unit = unit
        self.storage = storage
        self.tariff = tariff
        self.subunit = subunit
        self.function = function
        self.note = note
        let bound = 200 + JSONLineWriter.JSONBytes.fieldsBound(quantity: quantity, obis: obis, value: .number(.zero),
                                                                unit: unit, note: note)
        var at = (value: 0, time: 0, record: 0)
        let time = JSONLineWriter.TimeText()
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: bound)
        var e = JSONLineWriter.JSONBytes(bytes, time)
        e.quantityFields(quantity, obis: obis)
        at.value = e.k
        e.unitField(unit)
        at.time = e.k
        e.layoutFields(storage: storage, tariff: tariff, subunit: subunit, function: function)
        e.raw(#","record":"#)
        at.record = e.k
        e.noteField(note)
        withExtendedLifetime(time) {}
        json = UnsafeBufferPointer(start: bytes, count: e.k)
        (valueAt, timeAt, recordAt) = at
    }

    deinit { json.baseAddress?.deallocate() }
}
