extension JSONLineWriter {
    /// A `RecordEmitter` that writes each record into a writer's output the moment a decoder makes
    /// it. A reading is its frame's head (`{"type":"reading","v":1,"meter":…,"medium":…`) and tail
    /// (`,"protocol":…,"source":…,"frame":…}`), both rendered once per `setMeter` (the head once
    /// per `MeterHead`), around the
    /// reading's own fields: no `Reading` is made and no shared string is copied or escaped again.
    ///
    /// Used frame by frame: `begin()`, decode into it, then `discard()` if the frame failed.
    public struct FrameEmitter: RecordEmitter {
        public let writer: JSONLineWriter
        /// Readings and other records written since `begin()`.
        public private(set) var records = 0
        /// Warnings since `begin()`.
        public private(set) var warnings: [DecodeError] = []
        private var frameStart = 0
        private let head = ByteBuffer(capacity: 256)
        private let tail = ByteBuffer(capacity: 256)
        // The rendered head and tail, valid until the next `setMeter`.
        private var headStart: UnsafePointer<UInt8>
        /// The meter head the head is, kept while its readings are written.
        private var meterHead: MeterHead? = nil
        /// The meter of the head, and where `,"meter":…` ends in it (for status events).
        private var headMeter = ""
        private var headMeterEnd = 0
        private var headCount = 0
        private var tailStart: UnsafePointer<UInt8>
        private var tailCount = 0
        /// What the tail's `provenanceHead` was rendered from, and its length.
        private var tailProtocol = ProtocolID.mbus
        private var tailSource = ""
        private var tailHeadCount = 0
        /// The frame index the tail ends with.
        private var tailFrame = 0
        /// For decoders that fill a `DecodeOutput` (`collect`), kept to reuse its storage.
        private var scratch = DecodeOutput()

        public init(writer: JSONLineWriter) {
            self.writer = writer
            headStart = head.start
            tailStart = tail.start
        }

        /// Starts a frame.
        public mutating func begin() {
            records = 0
            warnings.removeAll(keepingCapacity: true)
            frameStart = writer.output.count
        }

        /// Takes back what was written since `begin()` (the frame could not be decoded).
        public mutating func discard() {
            writer.output.removeLast(after: frameStart)
            records = 0
        }

        public mutating func setMeter(_ meter: String, medium: String?, provenance: Provenance) {
            head.removeAll()
            var bound = 64 + JSONBytes.stringBound(meter)
            if let m = medium { bound += JSONBytes.stringBound(m) }
            var h = JSONBytes(head.reserve(bound), writer.lastTime)
            headMeterEnd = h.readingHead(meter: meter, medium: medium)
            head.commit(h.k)
            headMeter = meter
            headStart = head.start
            headCount = head.count
            setTail(provenance)
        }

        public mutating func setMeter(_ meter: MeterHead, provenance: Provenance) {
            meterHead = meter
            headStart = meter.json.baseAddress!
            headCount = meter.json.count
            headMeter = meter.meter
            headMeterEnd = meter.meterEnd
            setTail(provenance)
        }

        /// Renders the tail of the readings of `provenance`.
        private mutating func setTail(_ provenance: Provenance) {
            // The tail's protocol and source stay while the input does; only the frame index changes.
            if tailHeadCount == 0 || provenance.protocolID != tailProtocol || provenance.source != tailSource {
                tail.removeAll()
                var t = JSONBytes(tail.reserve(100 + JSONBytes.stringBound(provenance.source)), writer.lastTime)
                t.provenanceHead(provenance)
                tail.commit(t.k)
                tailHeadCount = tail.count
                tailProtocol = provenance.protocolID
                tailSource = provenance.source
            }
            tail.removeLast(after: tailHeadCount)
            var t = JSONBytes(tail.reserve(24), writer.lastTime)
            t.provenanceFrame(provenance.frame)
            tail.commit(t.k)
            tailFrame = provenance.frame
            tailStart = tail.start
            tailCount = tail.count
        }

        public mutating func reading(quantity: Quantity, obis: String?, value: ReadingValue, unit: Unit?,
                                     time: UTCTime?, storage: Int?, tariff: Int?, subunit: Int?,
                                     function: RecordFunction?, record: Int?, note: String?) {
            let bound = 400 + headCount + tailCount
                + JSONBytes.fieldsBound(quantity: quantity, obis: obis, value: value, unit: unit, note: note)
            var e = JSONBytes(writer.output.reserve(bound), writer.lastTime)
            e.copy(headStart, headCount)
            e.fields(quantity: quantity, obis: obis, value: value, unit: unit, time: time, storage: storage,
                     tariff: tariff, subunit: subunit, function: function, record: record, note: note)
            e.copy(tailStart, tailCount)
            writer.output.commit(e.k)
            records += 1
        }

        public mutating func reading(_ t: ReadingTemplate, value: ReadingValue, time: UTCTime?, record: Int) {
            var bound = 100 + headCount + tailCount + t.json.count
            switch value {
            case .number(let d): bound += d.maxTextLength
            case .text(let s): bound += JSONBytes.stringBound(s)
            }
            var e = JSONBytes(writer.output.reserve(bound), writer.lastTime)
            e.copy(headStart, headCount)
            let j = t.json.baseAddress!
            e.copy(j, t.valueAt)
            e.value(value)
            e.copy(j + t.valueAt, t.timeAt - t.valueAt)
            if let time { e.time(#","time":"#, time) }
            e.copy(j + t.timeAt, t.recordAt - t.timeAt)
            e.int("", record)
            e.copy(j + t.recordAt, t.json.count - t.recordAt)
            e.copy(tailStart, tailCount)
            writer.output.commit(e.k)
            records += 1
        }

        /// Written as `JSONLineWriter.write(_:)` writes an event, from the head's meter and the tail when
        /// they are this event's.
        public mutating func statusEvent(meter: String, event: StaticString, code: String, text: StaticString,
                                         time: UTCTime?, provenance: Provenance) {
            guard meter == headMeter, provenance.frame == tailFrame, provenance.protocolID == tailProtocol,
                  provenance.source == tailSource else {
                record(.event(Event(meter: meter, event: event.description, code: code, text: text.description,
                                    time: time, provenance: provenance)))
                return
            }
            let bound = 200 + headMeterEnd + tailCount + JSONBytes.stringBound(code)
            var e = JSONBytes(writer.output.reserve(bound), writer.lastTime)
            e.raw(#"{"type":"event","v":1"#)
            let start = JSONBytes.readingStart.utf8CodeUnitCount
            e.copy(headStart + start, headMeterEnd - start)
            e.vocabulary(#","event":"#, VocabularyName(event))
            e.string(#","code":"#, code)
            e.vocabulary(#","text":"#, VocabularyName(text))
            if let time { e.time(#","time":"#, time) }
            e.copy(tailStart, tailCount)
            writer.output.commit(e.k)
            records += 1
        }

        public mutating func record(_ record: Record) {
            writer.write(record)
            records += 1
        }

        public mutating func warning(_ warning: DecodeError) { warnings.append(warning) }

        public mutating func collect(_ decode: (inout DecodeOutput) throws(DecodeError) -> Void) throws(DecodeError) {
            scratch.removeAll()
            try decode(&scratch)
            for r in scratch.records { writer.write(r) }
            records += scratch.records.count
            warnings.append(contentsOf: scratch.warnings)
        }
    }
}
