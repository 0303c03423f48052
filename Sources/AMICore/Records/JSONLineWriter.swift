/// Serialises records as JSON lines (ami-jsonl(5)) into a byte buffer: one object per line, fields in
/// a fixed order, numbers as exact decimal text, no locale involved.
///
/// Each record is written with one reservation of its largest possible size, then byte by byte
/// through a raw pointer: this is the hot path of every tool that writes records.
public struct JSONLineWriter {
    /// The bytes written so far; callers drain it (e.g. to stdout) and call `removeAll`.
    public let output: ByteBuffer

    /// The text of the last time written: the readings of a frame mostly share one time.
    let lastTime = TimeText()

    public init(capacity: Int = 1 << 16) { output = ByteBuffer(capacity: capacity) }

    /// A copy of the bytes written so far.
    public var buffer: [UInt8] { output.bytes }

    /// Forgets the bytes written so far.
    public func removeAll() { output.removeAll() }

    /// Appends a line as it is (a record passed through), with its newline.
    public func appendLine<C: Collection>(_ line: C) where C.Element == UInt8 {
        output.append(contentsOf: line)
        output.append(0x0A)
    }

    public func write(_ record: Record) {
        switch record {
        case .reading(let r): write(r)
        case .event(let e): write(e)
        case .frame(let f): write(f)
        }
    }

    public func write(_ r: Reading) {
        var bound = 400 + JSONBytes.stringBound(r.meter) + JSONBytes.stringBound(r.provenance.source)
        if let m = r.medium { bound += JSONBytes.stringBound(m) }
        bound += JSONBytes.fieldsBound(quantity: r.quantity, obis: r.obis, value: r.value, unit: r.unit, note: r.note)
        bound += r.quality.count * ReadingQuality.maxTextLength
        var e = JSONBytes(output.reserve(bound), lastTime)
        e.readingHead(meter: r.meter, medium: r.medium)
        e.fields(quantity: r.quantity, obis: r.obis, value: r.value, unit: r.unit, time: r.time, interval: r.interval,
                 storage: r.storage, tariff: r.tariff, subunit: r.subunit, function: r.function, record: r.record,
                 note: r.note)
        if !r.quality.isEmpty { e.quality(r.quality) }
        e.provenance(r.provenance)
        output.commit(e.k)
    }

    public func write(_ ev: Event) {
        var bound = 300 + JSONBytes.stringBound(ev.event) + JSONBytes.stringBound(ev.provenance.source)
        if let m = ev.meter { bound += JSONBytes.stringBound(m) }
        if let c = ev.code { bound += JSONBytes.stringBound(c) }
        if let t = ev.text { bound += JSONBytes.stringBound(t) }
        if let d = ev.duration { bound += d.maxTextLength }
        var e = JSONBytes(output.reserve(bound), lastTime)
        e.raw(#"{"type":"event","v":1"#)
        if let m = ev.meter { e.string(#","meter":"#, m) }
        e.string(#","event":"#, ev.event)
        if let c = ev.code { e.string(#","code":"#, c) }
        if let t = ev.text { e.string(#","text":"#, t) }
        if let t = ev.time { e.time(#","time":"#, t) }
        if let d = ev.duration { e.decimal(#","duration":"#, d) }
        e.provenance(ev.provenance)
        output.commit(e.k)
    }

    public func write(_ f: FrameRecord) {
        var bound = 200 + 2 * f.bytes.count + 2 * (f.plain?.count ?? 0)
        if let p = f.protocolName { bound += JSONBytes.stringBound(p) }
        if let s = f.source { bound += JSONBytes.stringBound(s) }
        if let m = f.meter { bound += JSONBytes.stringBound(m) }
        if let m = f.profile { bound += JSONBytes.stringBound(m) }
        var e = JSONBytes(output.reserve(bound), lastTime)
        e.raw(#"{"type":"frame","v":1"#)
        e.raw(#","hex":"#)
        e.hex(f.bytes)
        if let t = f.time { e.time(#","time":"#, t) }
        if let p = f.protocolName { e.string(#","protocol":"#, p) }
        if let s = f.source { e.string(#","source":"#, s) }
        e.string(#","dir":"#, f.direction.rawValue)
        if let m = f.meter { e.string(#","meter":"#, m) }
        if let m = f.profile { e.string(#","profile":"#, m) }
        if let plain = f.plain {
            e.raw(#","plain":"#)
            e.hex(plain)
        }
        e.close()
        output.commit(e.k)
    }

    /// Writes JSON pieces into space reserved beforehand (callers size it with `stringBound` and the
    /// fixed allowances above). Keys are given with their punctuation (`,"meter":`), so each is one
    /// copy of a literal.
    struct JSONBytes {
        let p: UnsafeMutablePointer<UInt8>
        // Lives only during one write of the writer that owns `lastTime`: no reference counting
        // (held and called unretained).
        let lastTime: Unmanaged<TimeText>
        var k = 0

        init(_ p: UnsafeMutablePointer<UInt8>, _ lastTime: TimeText) {
            self.p = p
            self.lastTime = .passUnretained(lastTime)
        }

        /// The most bytes a string can take as a JSON literal (every byte escaped as `\u00XX`).
        static func stringBound(_ s: String) -> Int { s.utf8.count * 6 + 16 }

        /// The same for a vocabulary name.
        @inline(__always)
        static func stringBound(_ n: VocabularyName) -> Int { n.count * 6 + 16 }

        /// What the variable-length fields of a reading can take beyond the fixed allowance.
        static func fieldsBound(quantity: Quantity, obis: String?, value: ReadingValue, unit: Unit?,
                                note: String?) -> Int {
            var bound = stringBound(quantity.name)
            if let o = obis { bound += stringBound(o) }
            if let u = unit { bound += stringBound(u.name) }
            if let n = note { bound += stringBound(n) }
            switch value {
            case .number(let d): bound += d.maxTextLength
            case .text(let t): bound += stringBound(t)
            }
            return bound
        }

        /// The start of every reading, before its meter.
        static let readingStart: StaticString = #"{"type":"reading","v":1"#

        /// `{"type":"reading","v":1` and the meter and medium; returns where `,"meter":…` ends.
        @discardableResult
        mutating func readingHead(meter: String, medium: String?) -> Int {
            raw(Self.readingStart)
            string(#","meter":"#, meter)
            let meterEnd = k
            if let m = medium { string(#","medium":"#, m) }
            return meterEnd
        }

        /// The fields of a reading from its quantity to its note, in the documented order.
        @inline(__always)
        mutating func fields(quantity: Quantity, obis: String?, value: ReadingValue, unit: Unit?, time: UTCTime?,
                             interval: Int? = nil, storage: Int?, tariff: Int?, subunit: Int?,
                             function: RecordFunction?, record: Int?, note: String?) {
            quantityFields(quantity, obis: obis)
            self.value(value)
            unitField(unit)
            if let t = time { self.time(#","time":"#, t) }
            if let i = interval { int(#","interval":"#, i) }
            layoutFields(storage: storage, tariff: tariff, subunit: subunit, function: function)
            if let i = record { int(#","record":"#, i) }
            noteField(note)
        }

        /// `,"quantity":…` and `,"obis":…`: a reading's fields before its value.
        @inline(__always)
        mutating func quantityFields(_ quantity: Quantity, obis: String?) {
            vocabulary(#","quantity":"#, quantity.name)
            if let o = obis { string(#","obis":"#, o) }
        }

        /// `,"value":…` or `,"text":…`.
        @inline(__always)
        mutating func value(_ value: ReadingValue) {
            switch value {
            case .number(let d): decimal(#","value":"#, d)
            case .text(let t): string(#","text":"#, t)
            }
        }

        @inline(__always)
        mutating func unitField(_ unit: Unit?) {
            if let u = unit { vocabulary(#","unit":"#, u.name) }
        }

        /// `,"storage":…` to `,"function":…`.
        @inline(__always)
        mutating func layoutFields(storage: Int?, tariff: Int?, subunit: Int?, function: RecordFunction?) {
            if storage == 0, tariff == 0, subunit == 0, function == .instantaneous {
                // Most readings of M-Bus and wireless M-Bus meters: one copy.
                raw(#","storage":0,"tariff":0,"subunit":0,"function":"instantaneous""#)
            } else {
                if let s = storage { int(#","storage":"#, s) }
                if let t = tariff { int(#","tariff":"#, t) }
                if let s = subunit { int(#","subunit":"#, s) }
                if let f = function { name(#","function":"#, JSONLineWriter.literal(f)) }
            }
        }

        @inline(__always)
        mutating func noteField(_ note: String?) {
            if let n = note { string(#","note":"#, n) }
        }

        /// Copies `count` bytes rendered before (a template).
        @inline(__always)
        mutating func copy(_ start: UnsafePointer<UInt8>, _ count: Int) {
            JSONLineWriter.copy(start, count, to: p + k)
            k += count
        }

        /// A key and a vocabulary name as a JSON string: a literal as it is (it needs no escaping, see
        /// `VocabularyName.init`), text escaped.
        @inline(__always)
        mutating func vocabulary(_ key: StaticString, _ value: VocabularyName) {
            raw(key)
            switch value {
            case .literal(let s):
                byte(0x22)
                copy(s.utf8Start, s.utf8CodeUnitCount)
                byte(0x22)
            case .text:
                let start = k
                k = value.withUTF8 { JSONLineWriter.writeString($0, to: p + start) } + start
            }
        }

        @inline(__always)
        mutating func byte(_ b: UInt8) {
            p[k] = b
            k += 1
        }

        /// A literal of the program (keys, punctuation): multi-character, so held as a pointer. Its
        /// length is known when this is inlined, and the copy compiles to a few moves.
        @inline(__always)
        mutating func raw(_ s: StaticString) {
            let n = s.utf8CodeUnitCount
            (p + k).update(from: s.utf8Start, count: n)
            k += n
        }

        /// `bytes` as a JSON string of upper-case hex digits.
        mutating func hex(_ bytes: [UInt8]) {
            byte(0x22)
            for b in bytes {
                byte(Hex.digits[Int(b >> 4)])
                byte(Hex.digits[Int(b & 0x0F)])
            }
            byte(0x22)
        }

        mutating func close() {
            byte(0x7D)
            byte(0x0A)
        }

        @inline(__always)
        mutating func string(_ name: StaticString, _ value: String) {
            raw(name)
            literal(value)
        }

        @inline(__always)
        mutating func literal(_ value: String) {
            var s = value
            let start = k
            k = s.withUTF8 { JSONLineWriter.writeString($0, to: p + start) } + start
        }

        /// A key (with its punctuation) and a JSON literal that needs no escaping.
        @inline(__always)
        mutating func name(_ name: StaticString, _ literal: StaticString) {
            raw(name)
            copy(literal.utf8Start, literal.utf8CodeUnitCount)
        }

        @inline(__always)
        mutating func int(_ name: StaticString, _ value: Int) {
            raw(name)
            if value >= 0 && value < 10 {
                byte(UInt8(48 + value))   // most storage, tariff and subunit numbers
            } else if value >= 10 && value < 100 {
                _ = DecimalDigits.write(UInt64(value), count: 2, endingAt: p + k + 2)
                k += 2
            } else {
                k += ExactDecimal(Int64(value)).write(to: p + k)
            }
        }

        @inline(__always)
        mutating func decimal(_ name: StaticString, _ value: ExactDecimal) {
            raw(name)
            k += value.write(to: p + k)
        }

        @inline(__always)
        mutating func time(_ name: StaticString, _ value: UTCTime) {
            raw(name)
            byte(0x22)
            let at = p + k
            k += lastTime._withUnsafeGuaranteedRef { $0.write(value, to: at) }
            byte(0x22)
        }

        /// `,"quality":["3.8.0",…]`.
        mutating func quality(_ codes: [ReadingQuality]) {
            raw(#","quality":["#)
            for (i, q) in codes.enumerated() {
                if i > 0 { byte(0x2C) }
                byte(0x22)
                k += q.write(to: p + k)
                byte(0x22)
            }
            byte(0x5D)
        }

        mutating func provenance(_ prov: Provenance) {
            provenanceHead(prov)
            provenanceFrame(prov.frame)
        }

        /// `,"protocol":…,"source":…,"frame":`: what the records of one input share.
        mutating func provenanceHead(_ prov: Provenance) {
            name(#","protocol":"#, JSONLineWriter.literal(prov.protocolID))
            string(#","source":"#, prov.source)
            raw(#","frame":"#)
        }

        /// The frame index after `provenanceHead`, and the end of the record.
        mutating func provenanceFrame(_ frame: Int) {
            int("", frame)
            close()
        }
    }

    /// The ISO 8601 text of one time, kept to be copied while the same time is written again.
    final class TimeText {
        // Not checked for exclusive access at run time (as `ByteBuffer`).
        @exclusivity(unchecked) private var time: UTCTime?
        private let text = UnsafeMutablePointer<UInt8>.allocate(capacity: UTCTime.maxTextLength)
        @exclusivity(unchecked) private var count = 0

        deinit { text.deallocate() }

        /// Writes `t` as `UTCTime.write(to:)` does and returns the length.
        @inline(__always)
        func write(_ t: UTCTime, to p: UnsafeMutablePointer<UInt8>) -> Int {
            if t != time {
                count = t.write(to: text)
                time = t
            }
            JSONLineWriter.copy(text, count, to: p)
            return count
        }
    }

    /// The JSON literal of each function name (`RecordFunction.rawValue`, quoted), written without
    /// escaping.
    static func literal(_ f: RecordFunction) -> StaticString {
        switch f {
        case .instantaneous: #""instantaneous""#
        case .maximum: #""maximum""#
        case .minimum: #""minimum""#
        case .error: #""error""#
        }
    }

    /// The JSON literal of each protocol name (`ProtocolID.rawValue`, quoted).
    static func literal(_ p: ProtocolID) -> StaticString {
        switch p {
        case .mbus: #""mbus""#
        case .iec62056_21: #""iec62056-21""#
        case .dsmr: #""dsmr""#
        case .dlms: #""dlms""#
        case .wmbus: #""wmbus""#
        case .sml: #""sml""#
        case .modbus: #""modbus""#
        case .nem12: #""nem12""#
        case .espi: #""espi""#
        }
    }

    /// Copies `n` bytes from `source` to `target` (which do not overlap) by 16-byte vectors or words,
    /// each read and written inside the `n` bytes: short copies (keys, names, templates) cost no call.
    @inline(__always)
    static func copy(_ source: UnsafePointer<UInt8>, _ n: Int, to target: UnsafeMutablePointer<UInt8>) {
        let s = UnsafeRawPointer(source), t = UnsafeMutableRawPointer(target)
        if n >= 16 {
            if n > 128 {
                target.update(from: source, count: n)
                return
            }
            var i = 0
            while i + 32 < n {
                let a = s.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self)
                let b = s.loadUnaligned(fromByteOffset: i + 16, as: SIMD16<UInt8>.self)
                t.storeBytes(of: a, toByteOffset: i, as: SIMD16<UInt8>.self)
                t.storeBytes(of: b, toByteOffset: i + 16, as: SIMD16<UInt8>.self)
                i += 32
            }
            if i + 16 < n {
                t.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: SIMD16<UInt8>.self), toByteOffset: i,
                             as: SIMD16<UInt8>.self)
            }
            t.storeBytes(of: s.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<UInt8>.self), toByteOffset: n - 16,
                         as: SIMD16<UInt8>.self)
        } else if n >= 8 {
            let head = s.loadUnaligned(as: UInt64.self), tail = s.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            t.storeBytes(of: head, as: UInt64.self)
            t.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            let head = s.loadUnaligned(as: UInt32.self), tail = s.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            t.storeBytes(of: head, as: UInt32.self)
            t.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        } else {
            for i in 0..<n { target[i] = source[i] }
        }
    }

    /// Whether none of the eight bytes of `x` needs escaping in a JSON string.
    @inline(__always)
    static func isPlain(_ x: UInt64) -> Bool { specialBytes(x) == 0 }

    /// The bytes of `x` that need escaping in a JSON string, by their high bits (SWAR: a byte below
    /// 0x20, or equal to '"' or '\\', sets its high bit; a byte above such a one may too, as a
    /// borrow carries, so the lowest bit set is always a byte that needs escaping).
    @inline(__always)
    static func specialBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = x ^ (0x22 &* ones), backslash = x ^ (0x5C &* ones)
        let special = ((x &- 0x20 &* ones) & ~x) | ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
        return special & 0x8080_8080_8080_8080
    }

    /// Writes `utf8` as a JSON string literal (quoted, escaped; control characters as `\u00XX`) at
    /// `p`, which has room for `6 × count + 2` bytes; returns the length written. Reads only the bytes
    /// of `utf8`.
    static func writeString(_ utf8: UnsafeBufferPointer<UInt8>, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var k = 0
        p[k] = 0x22; k += 1
        var i = 0
        let n = utf8.count
        // Eight bytes at a time while none of them needs escaping.
        if let base = utf8.baseAddress {
            let source = UnsafeRawPointer(base), target = UnsafeMutableRawPointer(p + 1)
            while i + 8 <= n {
                let x = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if !isPlain(x) { break }
                target.storeBytes(of: x, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            // The last 1–7 bytes, when nothing so far needed escaping: as the string's last eight
            // bytes (overlapping some already copied), or its first and last four.
            if i + 8 > n && i < n {
                if n >= 8 {
                    let x = source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                    if isPlain(x) {
                        target.storeBytes(of: x, toByteOffset: n - 8, as: UInt64.self)
                        i = n
                    }
                } else if n >= 4 {
                    let head = source.loadUnaligned(as: UInt32.self)
                    let tail = source.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
                    if isPlain(UInt64(head) | UInt64(tail) << 32) {
                        target.storeBytes(of: head, as: UInt32.self)
                        target.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
                        i = n
                    }
                }
            }
            k += i
        }
        while i < n {
            let c = utf8[i]
            i += 1
            if c >= 0x20 && c != 0x22 && c != 0x5C {
                p[k] = c; k += 1
                continue
            }
            p[k] = 0x5C; k += 1
            switch c {
            case 0x22: p[k] = 0x22; k += 1
            case 0x5C: p[k] = 0x5C; k += 1
            case 0x0A: p[k] = 0x6E; k += 1
            case 0x0D: p[k] = 0x72; k += 1
            case 0x09: p[k] = 0x74; k += 1
            default:
                p[k] = 0x75; p[k + 1] = 0x30; p[k + 2] = 0x30
                p[k + 3] = Hex.digits[Int(c >> 4)]; p[k + 4] = Hex.digits[Int(c & 0x0F)]
                k += 5
            }
        }
        p[k] = 0x22; k += 1
        return k
    }
}
