/// The data records of the variable data structure (EN 13757-3 "Variable data structure"; M-Bus
/// documentation rev. 4.8 §6.3): each a data information block (DIF and up to 10 DIFEs), a value
/// information block (VIF and up to 10 VIFEs) and the data the DIF codes.
enum MBusDataRecord {
    /// What is fixed for all records of one frame (besides the meter, given to the emitter).
    struct FrameInfo {
        /// Mode 2 (CI 0x76): multi-byte values most significant byte first.
        var bigEndian: Bool
        var zone: LocalTimeZone
    }

    /// A plain time point of a storage (VIF 0x6C / 0x6D without VIFEs), for the `time` of the
    /// readings of that storage.
    struct TimePoint {
        var storage: Int
        var subunit: Int
        var utc: UTCTime
        var isDateTime: Bool
    }

    /// The plain time points of a frame. Most frames have one (the frame's own time, storage 0),
    /// kept inline: only a second one makes an array.
    struct TimePoints {
        private(set) var first: TimePoint? = nil
        private(set) var rest: [TimePoint] = []

        mutating func append(_ p: TimePoint) {
            if first == nil { first = p } else { rest.append(p) }
        }

        var isEmpty: Bool { first == nil }

        /// The point of `storage` and `subunit`, a date and time before a date.
        func best(storage: Int, subunit: Int) -> TimePoint? {
            guard let f = first else { return nil }
            var best: TimePoint? = f.storage == storage && f.subunit == subunit ? f : nil
            for p in rest where p.storage == storage && p.subunit == subunit {
                if best == nil || (p.isDateTime && !(best?.isDateTime ?? false)) { best = p }
            }
            return best
        }
    }

    /// The `time` of each reading of a frame: the plain time point of the same storage number and
    /// subunit (else of subunit 0) in the frame, a date and time before a date; for storage 0 without
    /// one, the frame's receive time; else none.
    struct FrameTimes {
        var points: TimePoints
        var receiveTime: UTCTime?
        /// The time of storage 0, subunit 0: the frame's own time.
        private(set) var now: UTCTime? = nil

        init(points: TimePoints, receiveTime: UTCTime?) {
            self.points = points
            self.receiveTime = receiveTime
            self.now = lookup(0, 0)
        }

        @inline(__always)
        func time(storage: Int, subunit: Int) -> UTCTime? {
            if storage == 0 && subunit == 0 { return now }
            if points.isEmpty { return storage == 0 ? receiveTime : nil }
            return lookup(storage, subunit)
        }

        private func lookup(_ storage: Int, _ subunit: Int) -> UTCTime? {
            if let b = points.best(storage: storage, subunit: subunit) { return b.utc }
            if subunit != 0 { return lookup(storage, 0) }
            return storage == 0 ? receiveTime : nil
        }
    }

    /// Finds the plain time points of the records in `range` ahead of decoding them, so that every
    /// reading is made with its time. Stops quietly at anything malformed: decoding reports it.
    static func scanTimePoints(_ bytes: [UInt8], _ range: Range<Int>, bigEndian: Bool,
                               zone: LocalTimeZone) -> TimePoints {
        var points = TimePoints()
        guard mayHoldTimePoints(bytes, range) else { return points }
        _ = walk(bytes, range) { dif, h, data in
            let coding = dif & 0x0F
            if (h.vif == 0x6C || h.vif == 0x6D), coding == 0x2 || coding == 0x3 || coding == 0x4 || coding == 0x6 {
                let t = MBusDateTime.decode(bytes, data, bigEndian: bigEndian)
                if let u = t.utc(in: zone) {
                    points.append(TimePoint(storage: h.storage, subunit: h.subunit, utc: u, isDateTime: t.isDateTime))
                }
            }
        }
        return points
    }

    /// Whether a byte of `range` is 0x6C or 0x6D, the VIF of a plain time point: without one, a
    /// frame's records need no look-ahead. Eight bytes at a time: with bit 0 of each byte set, such a
    /// byte is 0x6D, which makes a zero byte of `x ^ 0x6D6D…` (the exact zero-byte test).
    static func mayHoldTimePoints(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        let r = range.clamped(to: 0..<bytes.count)
        return bytes.withUnsafeBytes { raw in
            let ones: UInt64 = 0x0101_0101_0101_0101
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let x = (raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | ones) ^ (0x6D &* ones)
                if (x &- ones) & ~x & (0x80 &* ones) != 0 { return true }
                i += 8
            }
            while i < r.upperBound {
                if raw[i] | 1 == 0x6D { return true }
                i += 1
            }
            return false
        }
    }

    /// Steps through the records of `range` without decoding them, handing `body` each record's DIF,
    /// DIB and VIB layout (`header`) and data range. Returns the special-function DIF (0x0F
    /// manufacturer-specific data, 0x1F more records follow) the records end with, nil when they end
    /// without one or at anything malformed (decoding reports that).
    static func walk(_ bytes: [UInt8], _ range: Range<Int>,
                     _ body: (UInt8, (end: Int, storage: Int, subunit: Int, vif: UInt8), Range<Int>) -> Void) -> UInt8? {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let dif = bytes[i]
            if dif == 0x2F || dif == 0x7F { i += 1; continue }
            if dif & 0x0F == 0x0F { return dif }
            guard let h = header(bytes, at: i, end: end),
                  let d = dataSize(dif, bytes, at: h.end, end: end), d.lengthBytes + d.size <= end - h.end
            else { return nil }
            let data = (h.end + d.lengthBytes)..<(h.end + d.lengthBytes + d.size)
            body(dif, h, data)
            i = data.upperBound
        }
        return nil
    }

    /// The layout of a record's DIB and VIB (DIF, DIFEs, VIF, plain-text unit, VIFEs) starting at
    /// `bytes[start]`: where they end, the storage number and subunit, and the VIF. Nil when they run
    /// past `end` or have too many extensions. Used to look ahead and by compact frames, which send
    /// the DIBs and VIBs apart from the data (the decoding itself is `decodeAll`'s).
    static func header(_ bytes: [UInt8], at start: Int, end: Int)
        -> (end: Int, storage: Int, subunit: Int, vif: UInt8)? {
        var i = start
        guard i < end else { return nil }
        let dif = bytes[i]
        i += 1
        var storage = Int((dif >> 6) & 1), subunit = 0, n = 0
        var more = dif & 0x80 != 0
        while more {
            guard i < end, n < maxExtensions else { return nil }
            let d = bytes[i]
            i += 1
            storage |= Int(d & 0x0F) << (1 + 4 * n)
            subunit |= Int((d >> 6) & 1) << n
            n += 1
            more = d & 0x80 != 0
        }
        guard i < end else { return nil }
        let vif = bytes[i]
        i += 1
        if vif & 0x7F == 0x7C {
            guard i < end else { return nil }
            i += 1 + Int(bytes[i])
        }
        more = vif & 0x80 != 0
        n = 0
        while more {
            guard i < end, n < maxExtensions else { return nil }
            more = bytes[i] & 0x80 != 0
            i += 1
            n += 1
        }
        guard i <= end else { return nil }
        return (i, storage, subunit, vif)
    }

    /// Whether the record starting at `bytes[start]` needs more bytes than there are before `end`.
    static func runsPastEnd(_ bytes: [UInt8], at start: Int, end: Int) -> Bool {
        guard start < end, end <= bytes.count else { return false }
        guard let h = header(bytes, at: start, end: end) else {
            // No header: cut short when the DIF and VIF chains do not both end before `end` (rather
            // than too many extensions).
            var i = start, chains = 0
            while i < end, chains < 2 {
                if bytes[i] & 0x80 == 0 { chains += 1 }
                i += 1
            }
            return chains < 2
        }
        guard let d = dataSize(bytes[start], bytes, at: h.end, end: end) else { return h.end >= end }
        return h.end + d.lengthBytes + d.size > end
    }

    /// The size of the data a DIF codes (EN 13757-3:2018 Table 4), reading the length byte of
    /// variable-length data (LVAR, coding 0xD) at `bytes[at]`: how many length bytes come first (0 or
    /// 1) and how many data bytes follow them. Nil when the LVAR byte is missing or reserved.
    static func dataSize(_ dif: UInt8, _ bytes: [UInt8], at i: Int, end: Int) -> (lengthBytes: Int, size: Int)? {
        let coding = dif & 0x0F
        switch coding {
        case 0x0, 0x8: return (0, 0)
        case 0x1...0x4: return (0, Int(coding))
        case 0x5: return (0, 4)
        case 0x6, 0xE: return (0, 6)
        case 0x7: return (0, 8)
        case 0x9...0xC: return (0, Int(coding) - 8)
        case 0xD:
            guard i < end else { return nil }
            let l = Int(bytes[i])
            switch l {
            case 0x00...0xBF: return (1, l)
            case 0xC0...0xDF: return (1, l & 0x0F)
            case 0xE0...0xEF: return (1, l - 0xE0)
            case 0xF0...0xF4: return (1, 4 * (l - 0xEC))
            case 0xF5: return (1, 48)
            case 0xF6: return (1, 64)
            default: return nil
            }
        default: return nil
        }
    }

    /// The most DIFEs and VIFEs a record may have (EN 13757-3; libmbus's limit too).
    static let maxExtensions = 10

    // MARK: - the record loop

    /// Decodes every record from the cursor to its end, appending one reading per data record to
    /// `out`, each with the time `times` gives its storage. A record that cannot be decoded stops
    /// the frame: the error names the record and points at its DIF.
    static func decodeAll<E: RecordEmitter>(_ c: inout ByteCursor, frame info: FrameInfo, times: FrameTimes,
                                            layouts: MBusLayoutCache, into out: inout E) throws(DecodeError) {
        var index = 0
        while !c.isAtEnd {
            let difOffset = c.offset
            let dif = try c.u8()
            if dif & 0x0F == 0x0F {
                // Special functions (DIF data field 1111).
                switch dif {
                case 0x2F:
                    continue        // idle filler
                case 0x7F:
                    continue        // global readout request: a master's, no data
                case 0x0F, 0x1F:
                    // Manufacturer-specific data to the end of the user data; 0x1F: more records
                    // follow in the next telegram (EN 13757-3:2018 §6.5).
                    let r = try c.range(c.remaining)
                    var hex: [UInt8] = []
                    hex.reserveCapacity(r.count * 2)
                    Hex.append(c.bytes[r], to: &hex)
                    out.reading(quantity: .manufacturerSpecific, obis: nil,
                                value: .text(String(decoding: hex, as: UTF8.self)), unit: nil, time: times.now,
                                storage: 0, tariff: 0, subunit: 0, function: .instantaneous, record: index,
                                note: dif == 0x1F ? "more_records_follow" : nil)
                    return
                default:
                    throw DecodeError(.mbusApplication, at: difOffset, .unsupported,
                                      "record \(index): reserved special function DIF \(Hex.byte(dif))")
                }
            }
            var stage: StaticString = "DIF"
            do {
                try decodeRecord(&c, dif: dif, difOffset: difOffset, index: index, stage: &stage, frame: info,
                                 times: times, layouts: layouts, into: &out)
            } catch {
                if case .needMore = error.kind {
                    throw DecodeError(.mbusApplication, at: difOffset, .malformed,
                                      "record \(index): premature end of record at \(stage) (\(error.message))")
                }
                throw error
            }
            index += 1
        }
    }

    // MARK: - one record

    /// Decodes one record after its DIF: the layout its DIB and VIB give (from `layouts` when the
    /// same DIB and VIB came before), then its data.
    private static func decodeRecord<E: RecordEmitter>(_ c: inout ByteCursor, dif: UInt8, difOffset: Int, index: Int,
                                                       stage: inout StaticString, frame info: FrameInfo,
                                                       times: FrameTimes, layouts: MBusLayoutCache,
                                                       into out: inout E) throws(DecodeError) {
        let key = MBusLayoutCache.key(c.bytes, at: c.position - 1, end: c.end, bigEndian: info.bigEndian)
        let cached = layouts[key]
        var parsed: MBusRecordLayout? = nil
        let shape: MBusRecordLayout.Shape
        if let known = cached {
            shape = known._withUnsafeGuaranteedRef { $0.shape }
            try c.skip(shape.length - 1)
        } else {
            let layout = try parseLayout(&c, dif: dif, difOffset: difOffset, index: index, stage: &stage, frame: info)
            if key != 0 { layouts.insert(layout, key: key) }
            shape = layout.shape
            parsed = layout
        }
        stage = "data"
        var dataNote: String? = nil
        guard var value = try decodeData(&c, shape, dif: dif, difOffset: difOffset, index: index, frame: info,
                                         note: &dataNote) else { return }
        if shape.secret { value = .text("withheld") }
        let time = times.time(storage: shape.storage, subunit: shape.subunit)
        if let known = cached, dataNote == nil {
            known._withUnsafeGuaranteedRef { out.reading($0.template, value: value, time: time, record: index) }
            return
        }
        let layout = parsed ?? cached!.takeUnretainedValue()
        let t = layout.template
        guard let extra = dataNote else {
            out.reading(t, value: value, time: time, record: index)
            return
        }
        // A note the data adds goes before the secret's (the order the checks run in).
        var note = layout.headerNote.map { $0 + "; " + extra } ?? extra
        if shape.secret { note += "; secret not printed" }
        out.reading(quantity: t.quantity, obis: t.obis, value: value, unit: t.unit, time: time, storage: t.storage,
                    tariff: t.tariff, subunit: t.subunit, function: t.function, record: index, note: note)
    }

    /// The layout of a record from its DIB and VIB (the cursor just after the DIF): EN 13757-3
    /// "Data information block" and "Value information block".
    static func parseLayout(_ c: inout ByteCursor, dif: UInt8, difOffset: Int, index: Int,
                            stage: inout StaticString, frame info: FrameInfo) throws(DecodeError) -> MBusRecordLayout {
        let start = c.position - 1
        // DIB: DIF bit 6 is storage bit 0; each DIFE adds 4 storage bits, 2 tariff bits and 1
        // subunit bit (EN 13757-3 "Data information block").
        var storage = Int((dif >> 6) & 1), tariff = 0, subunit = 0
        var more = dif & 0x80 != 0
        var difeCount = 0
        while more {
            guard difeCount < maxExtensions else {
                throw DecodeError(.mbusApplication, at: difOffset, .malformed,
                                  "record \(index): too many DIFEs (more than \(maxExtensions))")
            }
            let dife = try c.u8()
            storage |= Int(dife & 0x0F) << (1 + 4 * difeCount)
            tariff |= Int((dife >> 4) & 0x03) << (2 * difeCount)
            subunit |= Int((dife >> 6) & 0x01) << difeCount
            difeCount += 1
            more = dife & 0x80 != 0
        }
        let function: RecordFunction
        switch (dif >> 4) & 0x03 {
        case 0: function = .instantaneous
        case 1: function = .maximum
        case 2: function = .minimum
        default: function = .error
        }

        // VIB.
        stage = "VIF"
        let vif = try c.u8()
        var more2 = vif & 0x80 != 0
        var vifeCount = 0
        // The index of the VIF's entry in `MBusVIFTables.entries`; its fields are read in place (no
        // copy of a table or an entry) on this hot path.
        let entries = MBusVIFTables.entries
        var at = MBusVIFTables.primaryOffset + Int(vif & 0x7F)
        var note: String? = nil
        func addNote(_ s: String) { note = note.map { $0 + "; " + s } ?? s }
        let code = vif & 0x7F
        switch code {
        case 0x7C:
            // Plain-text VIF: a length and the unit in ASCII, last character first; the VIFEs follow
            // the text (the order libmbus and the meters of the corpus use).
            stage = "variable-length VIF"
            let length = try c.u8()
            guard length <= 0xBF else {
                throw DecodeError(.mbusApplication, at: difOffset, .malformed,
                                  "record \(index): variable-length VIF too long (\(length) bytes)")
            }
            let r = try c.range(Int(length))
            addNote(text(c.bytes, r, reversed: !info.bigEndian))
            stage = "VIF"
        case 0x7B where more2, 0x7D where more2:
            // 0xFB / 0xFD: the first VIFE is a code of the extension table.
            let ext = try c.u8()
            vifeCount = 1
            more2 = ext & 0x80 != 0
            at = (code == 0x7B ? MBusVIFTables.fbOffset : MBusVIFTables.fdOffset) + Int(ext & 0x7F)
            if entries[at].kind == .reserved {
                addNote("vif " + Hex.string([vif, ext], separator: " "))
            }
        default:
            if entries[at].kind == .reserved { addNote("vif " + Hex.string(CollectionOfOne(vif))) }
        }
        let kind = entries[at].kind
        let vifExponent = Int(entries[at].exponent)
        if let n = entries[at].note { addNote(n.description) }

        // Combinable VIFEs. A VIFE that makes the value a date, duration or count of what the VIF
        // says is kept by its code (`modifier`, 0 for none) and read when the data is.
        var exponent = vifExponent
        var modifier = 0
        var manufacturerVIFEs = kind == .manufacturer
        var manufacturerBytes: [UInt8] = []
        var fcNext = false
        while more2 {
            guard vifeCount < maxExtensions else {
                throw DecodeError(.mbusApplication, at: difOffset, .malformed,
                                  "record \(index): too many VIFEs (more than \(maxExtensions))")
            }
            let vife = try c.u8()
            vifeCount += 1
            more2 = vife & 0x80 != 0
            if manufacturerVIFEs {
                manufacturerBytes.append(vife)
                continue
            }
            if fcNext {
                fcNext = false
                addNote("vife fc " + Hex.string(CollectionOfOne(vife & 0x7F)))
                continue
            }
            switch MBusVIFTables.combinable[Int(vife & 0x7F)] {
            case .nothing: break
            case .note(let s): addNote(s)
            case .error(let s): addNote("error: " + s)
            case .scale(let n): exponent += Int(n)
            case .dateOf, .durationOf, .countOf: modifier = Int(vife & 0x7F)
            case .manufacturer: manufacturerVIFEs = true
            case .extensionFC: fcNext = true
            }
        }
        if manufacturerVIFEs && kind != .manufacturer {
            addNote(manufacturerBytes.isEmpty ? "manufacturer-specific"
                                              : "manufacturer-specific vife " + Hex.string(manufacturerBytes))
        } else if !manufacturerBytes.isEmpty {
            addNote("vife " + Hex.string(manufacturerBytes))
        }

        var quantity = entries[at].quantity
        var unit = entries[at].unit
        var factor = Int64(entries[at].factor)
        var isDate = kind == .timePoint
        if modifier != 0 {
            switch MBusVIFTables.combinable[modifier] {
            case .dateOf(let s):
                addNote(s + " " + quantity.rawValue)
                quantity = .timePoint
                unit = nil
                isDate = true
            case .durationOf(let s, let f):
                addNote(s + " " + quantity.rawValue)
                quantity = .duration
                unit = .second
                factor = Int64(f)
                exponent -= vifExponent
            case .countOf(let s):
                addNote(s + " " + quantity.rawValue)
                quantity = .count
                unit = nil
                factor = 1
                exponent -= vifExponent
            default: break
            }
        }
        let secret = entries[at].secret
        let template = ReadingTemplate(
            quantity: quantity, unit: unit, storage: storage, tariff: tariff, subunit: subunit, function: function,
            note: secret ? (note.map { $0 + "; secret not printed" } ?? "secret not printed") : note)
        let shape = MBusRecordLayout.Shape(length: c.position - start, coding: dif & 0x0F, kind: kind, isDate: isDate,
                                           secret: secret, storage: storage, subunit: subunit, exponent: exponent,
                                           factor: factor)
        return MBusRecordLayout(shape, headerNote: note, template: template)
    }

    /// The value of a record's data (EN 13757-3:2018 Table 4, "Coding of the data field"); nil for
    /// no data. Adds to `note` what the data says about itself (invalid BCD, a date sent as a number).
    private static func decodeData(_ c: inout ByteCursor, _ layout: MBusRecordLayout.Shape, dif: UInt8, difOffset: Int,
                                   index: Int, frame info: FrameInfo,
                                   note: inout String?) throws(DecodeError) -> ReadingValue? {
        func addNote(_ s: String) { note = note.map { $0 + "; " + s } ?? s }
        let coding = layout.coding, kind = layout.kind, isDate = layout.isDate
        let exponent = layout.exponent, factor = layout.factor
        var value: ReadingValue
        switch coding {
        case 0x0, 0x8:
            // No data, or a selection for readout (a master's request): nothing to report.
            return nil
        case 0x1, 0x2, 0x3, 0x4, 0x6, 0x7:
            let size = coding == 0x6 ? 6 : (coding == 0x7 ? 8 : Int(coding))
            let r = try c.range(size)
            if isDate {
                value = .text(MBusDateTime.decode(c.bytes, r, bigEndian: info.bigEndian).text)
            } else {
                let raw = uint(c.bytes, r, bigEndian: info.bigEndian)
                if kind == .unsignedNumber {
                    guard raw <= UInt64(Int64.max) else {
                        value = .text(String(raw))
                        break
                    }
                    value = .number(try scaled(Int64(raw), exponent, factor, difOffset, index))
                } else {
                    value = .number(try scaled(signExtend(raw, bytes: size), exponent, factor, difOffset, index))
                }
            }
        case 0x5:
            let r = try c.range(4)
            let f = Float(bitPattern: UInt32(truncatingIfNeeded: uint(c.bytes, r, bigEndian: info.bigEndian)))
            if let d = ExactDecimal(float: f) {
                let s = d.scaled(byPowerOfTen: exponent)
                guard factor != 1 else { value = .number(s); break }
                guard let m = s.multiplied(by: factor) else {
                    throw overflow(difOffset, index)
                }
                value = .number(m)
            } else {
                value = .text(f.isNaN ? "NaN" : (f < 0 ? "-Infinity" : "Infinity"))
            }
        case 0x9, 0xA, 0xB, 0xC, 0xE:
            let size = coding == 0xE ? 6 : Int(coding) - 8
            let r = try c.range(size)
            if let v = try bcd(c.bytes, r, bigEndian: info.bigEndian, signNibble: true, difOffset: difOffset,
                               index: index) {
                value = .number(try scaled(v, exponent, factor, difOffset, index))
            } else {
                value = .text(bcdDigits(c.bytes, r, bigEndian: info.bigEndian))
                addNote("invalid BCD")
            }
        case 0xD:
            let (v, invalidBCD) = try lvar(&c, exponent: exponent, factor: factor, bigEndian: info.bigEndian,
                                           difOffset: difOffset, index: index)
            value = v
            if invalidBCD { addNote("invalid BCD") }
        default:
            // 0xF is a special function, handled before the record is parsed.
            throw DecodeError(.mbusApplication, at: difOffset, .unsupported,
                              "record \(index): DIF \(Hex.byte(dif)) codes no data")
        }
        if isDate, case .number = value { addNote("unexpected data coding for a date") }
        return value
    }

    // MARK: - values

    /// `value × 10^exponent × factor`, exactly; an overflow of the significand is a record error.
    @inline(__always)
    static func scaled(_ value: Int64, _ exponent: Int, _ factor: Int64, _ difOffset: Int,
                       _ index: Int) throws(DecodeError) -> ExactDecimal {
        let d = ExactDecimal(value, exponent: exponent)
        if factor == 1 { return d }
        guard let m = d.multiplied(by: factor) else { throw overflow(difOffset, index) }
        return m
    }

    static func overflow(_ difOffset: Int, _ index: Int) -> DecodeError {
        DecodeError(.mbusApplication, at: difOffset, .outOfRange,
                    "record \(index): value overflows when converted to its base unit")
    }

    /// The unsigned integer in `range` (at most 8 bytes), least significant byte first unless
    /// `bigEndian` (mode 2).
    @inline(__always)
    static func uint(_ bytes: [UInt8], _ range: Range<Int>, bigEndian: Bool) -> UInt64 {
        var v: UInt64 = 0
        if bigEndian {
            for i in range { v = (v << 8) | UInt64(bytes[i]) }
        } else {
            var i = range.upperBound - 1
            while i >= range.lowerBound {
                v = (v << 8) | UInt64(bytes[i])
                i -= 1
            }
        }
        return v
    }

    /// Two's complement of `bytes` bytes (type B, EN 13757-3 Annex A).
    @inline(__always)
    static func signExtend(_ raw: UInt64, bytes: Int) -> Int64 {
        if bytes >= 8 { return Int64(bitPattern: raw) }
        let shift = UInt64(64 - 8 * bytes)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }

    /// BCD digits (type A, EN 13757-3 Annex A), most significant digit first after byte order. With
    /// `signNibble`, a high nibble F in the most significant byte makes the value negative. Nil when
    /// another digit is above 9: meters fill values they do not have (e.g. values during an error
    /// state) with such digits, so the record is kept, as its digits (`bcdDigits`), and the frame
    /// with it.
    static func bcd(_ bytes: [UInt8], _ range: Range<Int>, bigEndian: Bool, signNibble: Bool, difOffset: Int,
                    index: Int) throws(DecodeError) -> Int64? {
        let n = range.count
        var v: Int64 = 0
        var negative = false
        for k in 0..<n {
            // k counts from the most significant byte.
            let b = bigEndian ? bytes[range.lowerBound + k] : bytes[range.upperBound - 1 - k]
            var hi = b >> 4
            let lo = b & 0x0F
            if k == 0 && hi == 0xF && signNibble {
                negative = true
                hi = 0
            }
            guard hi <= 9, lo <= 9 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 100)
            let (s, o2) = m.addingReportingOverflow(Int64(hi) * 10 + Int64(lo))
            guard !o1 && !o2 else {
                throw DecodeError(.mbusApplication, at: difOffset, .outOfRange,
                                  "record \(index): BCD number of \(2 * n) digits does not fit 64 bits")
            }
            v = s
        }
        return negative ? -v : v
    }

    /// The digits of a BCD field as sent, most significant first, in uppercase hex (`DDDDEBBD`).
    static func bcdDigits(_ bytes: [UInt8], _ range: Range<Int>, bigEndian: Bool) -> String {
        String(unsafeUninitializedCapacity: 2 * range.count) { buf in
            var j = 0
            for k in 0..<range.count {
                let b = bigEndian ? bytes[range.lowerBound + k] : bytes[range.upperBound - 1 - k]
                buf[j] = Hex.upperDigits[Int(b >> 4)]
                buf[j + 1] = Hex.upperDigits[Int(b & 0x0F)]
                j += 2
            }
            return j
        }
    }

    /// Text of `range`, reversed when sent last character first (mode 1). Bytes above 0x7F are
    /// ISO 8859-1.
    static func text(_ bytes: [UInt8], _ range: Range<Int>, reversed: Bool) -> String {
        var ascii = true
        for i in range where bytes[i] >= 0x80 { ascii = false; break }
        if ascii {
            return String(unsafeUninitializedCapacity: range.count) { buf in
                var j = 0
                if reversed {
                    var i = range.upperBound - 1
                    while i >= range.lowerBound { buf[j] = bytes[i]; j += 1; i -= 1 }
                } else {
                    for i in range { buf[j] = bytes[i]; j += 1 }
                }
                return j
            }
        }
        var scalars = String.UnicodeScalarView()
        if reversed {
            for i in range.reversed() { scalars.append(Unicode.Scalar(bytes[i])) }
        } else {
            for i in range { scalars.append(Unicode.Scalar(bytes[i])) }
        }
        return String(scalars)
    }

    /// A variable-length data field (DIF data field 1101): the LVAR byte says what follows
    /// (the LVAR coding of EN 13757-3:2013; M-Bus documentation rev. 4.8 §6.3.2): 0x00–0xBF text of that many
    /// characters; 0xC0–0xCF positive and 0xD0–0xDF negative BCD of (LVAR & 0x0F) bytes; 0xE0–0xEF a
    /// binary number of (LVAR − 0xE0) bytes; 0xF0–0xF4 binary of 4·(LVAR − 0xEC) bytes; 0xF5 48 and
    /// 0xF6 64 bytes of binary; 0xF7–0xFF reserved. Binary numbers of up to 8 bytes are numbers,
    /// longer ones hex in frame order. `invalidBCD` when BCD digits above 9 made the value its digits.
    static func lvar(_ c: inout ByteCursor, exponent: Int, factor: Int64, bigEndian: Bool, difOffset: Int,
                     index: Int) throws(DecodeError) -> (value: ReadingValue, invalidBCD: Bool) {
        let l = try c.u8()
        switch l {
        case 0x00...0xBF:
            let r = try c.range(Int(l))
            return (.text(text(c.bytes, r, reversed: !bigEndian)), false)
        case 0xC0...0xDF:
            let r = try c.range(Int(l & 0x0F))
            guard let v = try bcd(c.bytes, r, bigEndian: bigEndian, signNibble: false, difOffset: difOffset,
                                  index: index) else {
                return (.text(bcdDigits(c.bytes, r, bigEndian: bigEndian)), true)
            }
            return (.number(try scaled(l >= 0xD0 ? -v : v, exponent, factor, difOffset, index)), false)
        case 0xE0...0xF6:
            let n: Int
            switch l {
            case 0xE0...0xEF: n = Int(l) - 0xE0
            case 0xF5: n = 48
            case 0xF6: n = 64
            default: n = 4 * (Int(l) - 0xEC)
            }
            let r = try c.range(n)
            if n <= 8 {
                let raw = uint(c.bytes, r, bigEndian: bigEndian)
                if raw <= UInt64(Int64.max) {
                    return (.number(try scaled(Int64(raw), exponent, factor, difOffset, index)), false)
                }
            }
            return (.text(Hex.string(c.bytes[r])), false)
        default:
            throw DecodeError(.mbusApplication, at: difOffset, .unsupported,
                              "record \(index): reserved variable-length coding LVAR \(Hex.byte(l))")
        }
    }
}
