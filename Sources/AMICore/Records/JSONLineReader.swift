#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads ami-jsonl(5) lines into `Record`s in a single pass over their bytes, without building a
/// JSON tree: the counterpart of `JSONLineWriter` for tools that consume streams. Members it does
/// not know are skipped (whatever their value); members it knows must have the documented type.
/// Errors are `.json`-layer `DecodeError`s with the byte offset within the line.
///
/// A reader keeps the text of each string member of the last line it read, so that the meter,
/// quantity, unit or source that a stream repeats line after line is not made into a new String
/// each time: use one reader for a whole stream.
public final class JSONLineReader {
    /// What one line holds.
    public enum Line: Sendable, Equatable {
        case record(Record)
        /// A record of a type other than reading, event or frame (its `type`).
        case other(String)
        /// An empty or all-blank line.
        case blank
    }

    /// The last bytes and String of each cached member (by `Key.cacheSlot`). Not checked for
    /// exclusive access at run time (as `ByteBuffer`): only `Scanner.cachedString` touches them, one
    /// access at a time, for every string member of every line.
    @exclusivity(unchecked) fileprivate var cachedBytes = [[UInt8]](repeating: [], count: Key.cacheSlots)
    @exclusivity(unchecked) fileprivate var cachedStrings = [String](repeating: "", count: Key.cacheSlots)
    /// The day of the last time read whole in the form `YYYY-MM-DDTHH:MM:SSZ` (its first 11
    /// bytes, as two overlapping 8-byte words) and the milliseconds of its midnight: a time of the
    /// same day needs only its time of day read.
    fileprivate var timeDay: (UInt64, UInt64) = (0, 0)
    fileprivate var timeMidnight: Int64 = 0

    public init() {}

    /// Parses one line with a fresh reader.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, source: String) throws(DecodeError) -> Line {
        try JSONLineReader().parse(line, source: source)
    }

    /// Parses one line (without its newline). `source` is used for records that carry none.
    public func parse(_ line: UnsafeBufferPointer<UInt8>, source: String) throws(DecodeError) -> Line {
        var s = Scanner(b: line)
        s.space()
        if s.i == line.count { return .blank }
        var f = Fields()
        try s.expect(0x7B, "expected '{'")
        s.space()
        if s.peek == 0x7D {
            s.i += 1
        } else {
            while true {
                s.space()
                let keyAt = s.i
                let key = try s.key()
                s.space()
                try s.expect(0x3A, "expected ':'")
                s.space()
                try f.member(key, at: keyAt, &s, self)
                s.space()
                if s.peek == 0x2C { s.i += 1; continue }
                try s.expect(0x7D, "expected ',' or '}'")
                break
            }
        }
        s.space()
        guard s.i == line.count else { throw s.fail("unexpected bytes after the record") }
        return try f.record(source: source)
    }

    /// The members this reader knows, by their names packed little-endian into a UInt64 (every
    /// name has at most 8 bytes): `"type"` is 0x65707974.
    fileprivate enum Key {
        static let type: UInt64 = 0x65707974 // "type"
        static let v: UInt64 = 0x76 // "v"
        static let meter: UInt64 = 0x726574656D // "meter"
        static let medium: UInt64 = 0x6D756964656D // "medium"
        static let quantity: UInt64 = 0x797469746E617571 // "quantity"
        static let obis: UInt64 = 0x7369626F // "obis"
        static let unit: UInt64 = 0x74696E75 // "unit"
        static let function: UInt64 = 0x6E6F6974636E7566 // "function"
        static let note: UInt64 = 0x65746F6E // "note"
        static let protocolName: UInt64 = 0x6C6F636F746F7270 // "protocol"
        static let source: UInt64 = 0x656372756F73 // "source"
        static let text: UInt64 = 0x74786574 // "text"
        static let code: UInt64 = 0x65646F63 // "code"
        static let event: UInt64 = 0x746E657665 // "event"
        static let hex: UInt64 = 0x786568 // "hex"
        static let dir: UInt64 = 0x726964 // "dir"
        static let value: UInt64 = 0x65756C6176 // "value"
        static let duration: UInt64 = 0x6E6F697461727564 // "duration"
        static let time: UInt64 = 0x656D6974 // "time"
        static let storage: UInt64 = 0x656761726F7473 // "storage"
        static let tariff: UInt64 = 0x666669726174 // "tariff"
        static let subunit: UInt64 = 0x74696E75627573 // "subunit"
        static let record: UInt64 = 0x64726F636572 // "record"
        static let frame: UInt64 = 0x656D617266 // "frame"
        static let interval: UInt64 = 0x6C61767265746E69 // "interval"
        static let quality: UInt64 = 0x7974696C617571 // "quality"

        /// Cache slots of the string members that streams repeat.
        static let cacheSlots = 13
        static let names = ["meter", "medium", "quantity", "obis", "unit", "function", "note", "protocol", "source", "code", "event", "dir", "type"]

        static func slot(_ key: UInt64) -> Int? {
            switch key {
            case meter: return 0
            case medium: return 1
            case quantity: return 2
            case obis: return 3
            case unit: return 4
            case function: return 5
            case note: return 6
            case protocolName: return 7
            case source: return 8
            case code: return 9
            case event: return 10
            case dir: return 11
            case type: return 12
            default: return nil
            }
        }
    }


    /// The members of a record as they are read.
    private struct Fields {
        var type: String?
        var meter, medium, quantity, obis, unit, function, note, protocolName, source, text, code, event,
            hex, dir: String?
        var value, duration: ExactDecimal?
        var time: UTCTime?
        var storage, tariff, subunit, record, frame, interval: Int?
        var quality: [ReadingQuality] = []

        /// Reads the value of member `key` (packed name, nil for one longer than 8 bytes).
        mutating func member(_ key: UInt64?, at offset: Int, _ s: inout Scanner, _ r: JSONLineReader) throws(DecodeError) {
            guard let key else { return try s.skipValue(depth: 0) }
            if let slot = Key.slot(key) {
                let v = try s.cachedString(slot, r)
                switch key {
                case Key.meter: meter = v
                case Key.medium: medium = v
                case Key.quantity: quantity = v
                case Key.obis: obis = v
                case Key.unit: unit = v
                case Key.function: function = v
                case Key.note: note = v
                case Key.protocolName: protocolName = v
                case Key.source: source = v
                case Key.code: code = v
                case Key.event: event = v
                case Key.dir: dir = v
                default: type = v
                }
                return
            }
            switch key {
            case Key.v:
                let v = try s.integerValue("v")
                guard v == jsonlSchemaVersion else {
                    throw DecodeError(.json, at: offset, .unsupported, "schema version \(v) is not 1")
                }
            case Key.text: text = try s.stringValue("text")
            case Key.hex: hex = try s.stringValue("hex")
            case Key.value: value = try s.decimalValue("value")
            case Key.duration: duration = try s.decimalValue("duration")
            case Key.time: time = try s.timeValue("time", r)
            case Key.storage: storage = try s.integerValue("storage")
            case Key.tariff: tariff = try s.integerValue("tariff")
            case Key.subunit: subunit = try s.integerValue("subunit")
            case Key.record: record = try s.integerValue("record")
            case Key.frame: frame = try s.integerValue("frame")
            case Key.interval:
                let n = try s.integerValue("interval")
                guard n > 0 && n <= 31_622_400 else {
                    throw s.fail("\"interval\" must be a positive number of seconds, at most a year")
                }
                interval = n
            case Key.quality: quality = try s.qualityValue()
            default: try s.skipValue(depth: 0)
            }
        }

        func missing(_ name: String, _ what: String) -> DecodeError {
            DecodeError(.json, at: 0, .malformed, "\(what) without \"\(name)\"")
        }

        /// The record the members make. Its strings are moved out of the members (`take()`), not
        /// copied: every reading would otherwise retain and release each of them once more.
        mutating func record(source defaultSource: String) throws(DecodeError) -> Line {
            guard let type else { throw DecodeError(.json, at: 0, .malformed, "not a record: no \"type\"") }
            switch type {
            case "reading":
                guard let meter = meter.take() else { throw missing("meter", "reading") }
                guard let quantity = quantity.take() else { throw missing("quantity", "reading") }
                let v: ReadingValue
                if let value { v = .number(value) } else if let text = text.take() { v = .text(text) } else {
                    throw DecodeError(.json, at: 0, .malformed, "reading without \"value\" or \"text\"")
                }
                var fn: RecordFunction?
                if let function {
                    guard let f = RecordFunction(rawValue: function) else {
                        throw DecodeError(.json, at: 0, .malformed, "unknown function \"\(function)\"")
                    }
                    fn = f
                }
                let provenance = try provenance(defaultSource, "reading")
                return .record(.reading(Reading(
                    meter: meter, medium: medium.take(), quantity: Quantity(rawValue: quantity), obis: obis.take(),
                    value: v, unit: unit.take().map(Unit.init(rawValue:)), time: time, storage: storage,
                    tariff: tariff, subunit: subunit, function: fn, record: record, note: note.take(),
                    interval: interval, quality: quality, provenance: provenance)))
            case "event":
                guard let event else { throw missing("event", "event") }
                return .record(.event(Event(meter: meter, event: event, code: code, text: text, time: time,
                                            duration: duration, provenance: try provenance(defaultSource, "event"))))
            case "frame":
                guard let hex else { throw missing("hex", "frame") }
                let bytes: [UInt8]
                do { bytes = try Hex.decode(Array(hex.utf8)) } catch {
                    throw DecodeError(.json, at: 0, .malformed, "frame \"hex\" is not hex")
                }
                var direction = FrameRecord.Direction.rx
                if let dir {
                    guard let d = FrameRecord.Direction(rawValue: dir) else {
                        throw DecodeError(.json, at: 0, .malformed, "frame \"dir\" is \"\(dir)\", not rx or tx")
                    }
                    direction = d
                }
                return .record(.frame(FrameRecord(bytes: bytes, time: time, protocolName: protocolName,
                                                  source: source, direction: direction, meter: meter)))
            default:
                return .other(type)
            }
        }

        mutating func provenance(_ defaultSource: String, _ what: String) throws(DecodeError) -> Provenance {
            guard let protocolName else { throw missing("protocol", what) }
            guard let p = ProtocolID(rawValue: protocolName) else {
                throw DecodeError(.json, at: 0, .unsupported, "unknown protocol \"\(protocolName)\"")
            }
            return Provenance(protocolID: p, source: source.take() ?? defaultSource, frame: frame ?? 0)
        }
    }

    /// A cursor over the line's bytes.
    private struct Scanner {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        var peek: UInt8? { i < b.count ? b[i] : nil }

        func fail(_ message: String) -> DecodeError { DecodeError(.json, at: i, .malformed, message) }

        mutating func space() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D || b[i] == 0x0A { i += 1 }
        }

        mutating func expect(_ c: UInt8, _ message: String) throws(DecodeError) {
            guard i < b.count, b[i] == c else { throw fail(message) }
            i += 1
        }

        /// The end of a plain string (no escapes or control characters) that starts at the cursor,
        /// or nil when it has some.
        func plainEnd() -> Int? {
            var j = i + 1
            if let base = b.baseAddress {
                // Eight bytes at a time, up to the first byte that ends the plain string.
                let raw = UnsafeRawPointer(base)
                while j + 8 <= b.count {
                    let special = JSONLineWriter.specialBytes(word(raw, j))
                    if special != 0 {
                        j += special.trailingZeroBitCount / 8
                        break
                    }
                    j += 8
                }
            }
            while j < b.count, b[j] != 0x22, b[j] != 0x5C, b[j] >= 0x20 { j += 1 }
            return j < b.count && b[j] == 0x22 ? j : nil
        }

        /// UTF-8 bytes as a String (ASCII, the usual case, needs no validation).
        func text(_ body: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> String {
            var ascii = true
            for c in body where c >= 0x80 { ascii = false; break }
            if ascii { return String(decoding: body, as: UTF8.self) }
            guard let s = String(validating: body, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
            return s
        }

        /// The eight bytes at `offset`, the first one lowest.
        @inline(__always)
        func word(_ raw: UnsafeRawPointer, _ offset: Int) -> UInt64 {
            UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }

        /// A member name: its packed bytes when it is plain and at most 8 bytes long, else nil.
        mutating func key() throws(DecodeError) -> UInt64? {
            guard peek == 0x22 else { throw fail("expected a member name") }
            // The usual case, a plain name of at most 8 bytes: its closing quote is the first byte
            // to escape of the 8 after the opening one, or else the 9th.
            if i + 10 <= b.count, let base = b.baseAddress {
                let w = word(UnsafeRawPointer(base), i + 1)
                let special = JSONLineWriter.specialBytes(w)
                let n = special == 0 ? 8 : special.trailingZeroBitCount / 8
                if b[i + 1 + n] == 0x22 {
                    i += n + 2
                    return n == 8 ? w : w & ((1 << (8 * UInt64(n))) - 1)
                }
            }
            // Near the end of the line: byte by byte.
            if let end = plainEnd(), end - i - 1 <= 8 {
                var v: UInt64 = 0
                for k in (i + 1)..<end { v |= UInt64(b[k]) << (8 * UInt64(k - i - 1)) }
                i = end + 1
                return v
            }
            // An escaped name: unescaped, then packed the same way.
            let name = Array(try string().utf8)
            guard name.count <= 8 else { return nil }
            var v: UInt64 = 0
            for (k, c) in name.enumerated() { v |= UInt64(c) << (8 * UInt64(k)) }
            return v
        }

        /// A string member whose text is often the same as on the line before: that String is reused.
        mutating func cachedString(_ slot: Int, _ r: JSONLineReader) throws(DecodeError) -> String {
            guard peek == 0x22 else { throw fail("\"\(Key.names[slot])\" must be a string") }
            guard let end = plainEnd() else { return try string() }
            let body = UnsafeBufferPointer(rebasing: b[(i + 1)..<end])
            let same = r.cachedBytes[slot].withUnsafeBufferPointer { c in
                c.count == body.count && (c.count == 0 || memcmp(c.baseAddress!, body.baseAddress!, c.count) == 0)
            }
            if !same {
                r.cachedStrings[slot] = try text(body)
                r.cachedBytes[slot] = Array(body)
            }
            i = end + 1
            return r.cachedStrings[slot]
        }

        /// A JSON string at the cursor, unescaped.
        mutating func string() throws(DecodeError) -> String {
            guard peek == 0x22 else { throw fail("expected a string") }
            let start = i + 1
            if let j = plainEnd() {
                let s = try text(UnsafeBufferPointer(rebasing: b[start..<j]))
                i = j + 1
                return s
            }
            // Escapes or a control character: the general JSON parser reads the string exactly.
            var end = start
            while end < b.count, b[end] != 0x22 { end += b[end] == 0x5C ? 2 : 1 }
            guard end < b.count else { throw fail("unterminated string") }
            let value = try JSONValue.parse(UnsafeBufferPointer(rebasing: b[i...end]), base: i)
            i = end + 1
            guard let s = value.stringValue else { throw fail("expected a string") }
            return s
        }

        mutating func stringValue(_ key: String) throws(DecodeError) -> String {
            guard peek == 0x22 else { throw fail("\"\(key)\" must be a string") }
            return try string()
        }

        /// The bytes of a JSON number at the cursor (RFC 8259 grammar).
        mutating func number() throws(DecodeError) -> UnsafeBufferPointer<UInt8> {
            let start = i
            if peek == 0x2D { i += 1 }
            let intStart = i
            while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
            guard i > intStart else { throw fail("bad number") }
            if i - intStart > 1 && b[intStart] == 0x30 { throw fail("leading zero in number") }
            if peek == 0x2E {
                i += 1
                let f = i
                while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
                guard i > f else { throw fail("bad fraction") }
            }
            if peek == 0x65 || peek == 0x45 {
                i += 1
                if peek == 0x2B || peek == 0x2D { i += 1 }
                let e = i
                while let c = peek, c >= 0x30 && c <= 0x39 { i += 1 }
                guard i > e else { throw fail("bad exponent") }
            }
            return UnsafeBufferPointer(rebasing: b[start..<i])
        }

        /// A number of at most 17 plain digits (no sign, fraction or exponent; no leading zero) at
        /// the cursor, read as it is scanned; nil (the cursor unmoved) for any other.
        mutating func plainInteger() -> Int? {
            var j = i, n = 0
            while j < b.count, j - i < 17, b[j] &- 0x30 < 10 {
                n = n * 10 + Int(b[j] &- 0x30)
                j += 1
            }
            guard j > i, j < b.count, b[i] != 0x30 || j == i + 1 else { return nil }
            let c = b[j]
            guard c &- 0x30 >= 10, c != 0x2E, c != 0x65, c != 0x45 else { return nil }
            i = j
            return n
        }

        mutating func decimalValue(_ key: String) throws(DecodeError) -> ExactDecimal {
            if let n = plainInteger() { return ExactDecimal(Int64(n)) }
            guard let c = peek, c == 0x2D || (c >= 0x30 && c <= 0x39) else { throw fail("\"\(key)\" must be a number") }
            let at = i
            guard let d = ExactDecimal(utf8: try number()) else {
                throw DecodeError(.json, at: at, .unsupported, "\"\(key)\" has more than 18 significant digits")
            }
            return d
        }

        mutating func integerValue(_ key: String) throws(DecodeError) -> Int {
            if let n = plainInteger() { return n }
            let at = i
            let d = try decimalValue(key)
            guard let n = d.integer(atScale: 0), let v = Int(exactly: n) else {
                throw DecodeError(.json, at: at, .malformed, "\"\(key)\" must be a whole number")
            }
            return v
        }

        mutating func timeValue(_ key: String, _ r: JSONLineReader) throws(DecodeError) -> UTCTime {
            let at = i
            guard peek == 0x22 else { throw fail("\"\(key)\" must be an ISO 8601 string") }
            // `YYYY-MM-DDTHH:MM:SSZ`, the form ami tools write: of the same day as the time before,
            // only the time of day is read; else the whole, and its day kept.
            if i + 22 <= b.count, b[i + 21] == 0x22, let base = b.baseAddress {
                let raw = UnsafeRawPointer(base)
                let day = (word(raw, i + 1), word(raw, i + 4))
                if day == r.timeDay, let seconds = timeOfDay(i + 12) {
                    i += 22
                    return UTCTime(milliseconds: r.timeMidnight + Int64(seconds) * 1000)
                }
                if let seconds = timeOfDay(i + 12),
                   let t = UTCTime(iso8601: UnsafeBufferPointer(rebasing: b[(i + 1)..<(i + 21)])) {
                    r.timeDay = day
                    r.timeMidnight = t.milliseconds - Int64(seconds) * 1000
                    i += 22
                    return t
                }
            }
            // Times have no escapes: read the bytes between the quotes directly.
            var j = i + 1
            while j < b.count, b[j] != 0x22, b[j] != 0x5C { j += 1 }
            if j < b.count, b[j] == 0x22, let t = UTCTime(iso8601: UnsafeBufferPointer(rebasing: b[(i + 1)..<j])) {
                i = j + 1
                return t
            }
            let text = try string()
            guard let t = UTCTime(iso8601: text) else {
                throw DecodeError(.json, at: at, .malformed, "\"\(key)\" is not an ISO 8601 time: \"\(text)\"")
            }
            return t
        }

        /// The seconds since midnight of `HH:MM:SSZ` at `k` (as `UTCTime(iso8601:)` takes them: a
        /// leap second 60 too), or nil when the bytes are not that.
        func timeOfDay(_ k: Int) -> Int? {
            func two(_ k: Int) -> Int? {
                let hi = b[k] &- 0x30, lo = b[k + 1] &- 0x30
                return hi < 10 && lo < 10 ? Int(hi) * 10 + Int(lo) : nil
            }
            guard b[k + 2] == 0x3A, b[k + 5] == 0x3A, b[k + 8] == 0x5A || b[k + 8] == 0x7A,
                  let h = two(k), h < 24, let m = two(k + 3), m < 60, let s = two(k + 6), s <= 60 else { return nil }
            return h * 3600 + m * 60 + s
        }

        mutating func qualityValue() throws(DecodeError) -> [ReadingQuality] {
            try expect(0x5B, "\"quality\" must be an array of codes")
            var out: [ReadingQuality] = []
            space()
            if peek == 0x5D { i += 1; return out }
            while true {
                space()
                let text = try stringValue("quality")
                guard let q = ReadingQuality(text) else { throw fail("\"\(text)\" is not a quality code S.C.I") }
                out.append(q)
                space()
                if peek == 0x2C { i += 1; continue }
                try expect(0x5D, "expected ',' or ']'")
                return out
            }
        }

        /// Skips any JSON value (for members this reader does not know).
        mutating func skipValue(depth: Int) throws(DecodeError) {
            guard depth < 64 else { throw fail("nesting deeper than 64") }
            guard let c = peek else { throw fail("unexpected end of line") }
            switch c {
            case 0x22: _ = try string()
            case 0x7B, 0x5B:
                let close: UInt8 = c == 0x7B ? 0x7D : 0x5D
                i += 1
                space()
                if peek == close { i += 1; return }
                while true {
                    space()
                    if c == 0x7B {
                        _ = try string()
                        space()
                        try expect(0x3A, "expected ':'")
                        space()
                    }
                    try skipValue(depth: depth + 1)
                    space()
                    if peek == 0x2C { i += 1; continue }
                    try expect(close, "expected ',' or '\(Character(Unicode.Scalar(close)))'")
                    return
                }
            case 0x74: try word("true")
            case 0x66: try word("false")
            case 0x6E: try word("null")
            default: _ = try number()
            }
        }

        mutating func word(_ w: StaticString) throws(DecodeError) {
            let n = w.utf8CodeUnitCount
            guard i + n <= b.count, memcmpEqual(b.baseAddress! + i, w.utf8Start, n) else { throw fail("bad literal") }
            i += n
        }

        private func memcmpEqual(_ a: UnsafePointer<UInt8>, _ c: UnsafePointer<UInt8>, _ n: Int) -> Bool {
            for k in 0..<n where a[k] != c[k] { return false }
            return true
        }
    }
}
