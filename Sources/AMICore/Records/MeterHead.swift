/// What the readings of one meter's frames share: its identity and medium, with the start of their
/// JSON lines (`{"type":"reading","v":1,"meter":…,"medium":…`) rendered once.
///
/// Decoders that see the same meters again and again (an M-Bus master polls its meters in turn)
/// keep one per meter and pass it to `RecordEmitter.setMeter(_:provenance:)`; the JSON emitter
/// copies the rendered start instead of writing the meter and medium for every frame.
public final class MeterHead: @unchecked Sendable {   // immutable after init
    public let meter: String
    public let medium: String?
    /// `{"type":"reading","v":1,"meter":…` and, with a medium, `,"medium":…`.
    let json: UnsafeBufferPointer<UInt8>
    /// Where `,"meter":…` ends in `json`.
    let meterEnd: Int

    public init(meter: String, medium: String?) {
        self.meter = meter
        self.medium = medium
        var bound = 64 + JSONLineWriter.JSONBytes.stringBound(meter)
        if let m = medium { bound += JSONLineWriter.JSONBytes.stringBound(m) }
        let time = JSONLineWriter.TimeText()
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: bound)
        var e = JSONLineWriter.JSONBytes(bytes, time)
        meterEnd = e.readingHead(meter: meter, medium: medium)
        withExtendedLifetime(time) {}
        json = UnsafeBufferPointer(start: bytes, count: e.k)
    }

    deinit { json.baseAddress?.deallocate() }
}
