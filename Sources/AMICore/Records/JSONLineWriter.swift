/// Serialises records as JSON lines (ami-jsonl(5)) into a byte buffer: one object per line, fields in
/// a fixed order, numbers as exact decimal text, no locale involved.
public struct JSONLineWriter: Sendable {
    /// The bytes written so far; callers drain it (e.g. to stdout) and call `removeAll`.
    public var buffer: [UInt8] = []

    public init(capacity: Int = 1 << 16) { buffer.reserveCapacity(capacity) }

    public mutating func write(_ record: Record) {
        switch record {
        case .reading(let r): write(r)
        case .event(let e): write(e)
        case .frame(let f): write(f)
        }
    }

    public mutating func write(_ r: Reading) {
        open("reading")
        string("meter", r.meter)
        if let m = r.medium { string("medium", m) }
        string("quantity", r.quantity.rawValue)
        if let o = r.obis { string("obis", o) }
        switch r.value {
        case .number(let d):
            key("value")
            d.append(to: &buffer)
        case .text(let t):
            string("text", t)
        }
        if let u = r.unit { string("unit", u.rawValue) }
        if let t = r.time { time("time", t) }
        if let s = r.storage { int("storage", s) }
        if let t = r.tariff { int("tariff", t) }
        if let s = r.subunit { int("subunit", s) }
        if let f = r.function { string("function", f.rawValue) }
        if let i = r.record { int("record", i) }
        if let n = r.note { string("note", n) }
        provenance(r.provenance)
    }

    public mutating func write(_ e: Event) {
        open("event")
        if let m = e.meter { string("meter", m) }
        string("event", e.event)
        if let c = e.code { string("code", c) }
        if let t = e.text { string("text", t) }
        if let t = e.time { time("time", t) }
        if let d = e.duration {
            key("duration")
            d.append(to: &buffer)
        }
        provenance(e.provenance)
    }

    public mutating func write(_ f: FrameRecord) {
        open("frame")
        key("hex")
        buffer.append(0x22)
        Hex.append(f.bytes, to: &buffer)
        buffer.append(0x22)
        if let t = f.time { time("time", t) }
        if let p = f.protocolName { string("protocol", p) }
        if let s = f.source { string("source", s) }
        string("dir", f.direction.rawValue)
        if let m = f.meter { string("meter", m) }
        close()
    }

    // MARK: - pieces

    private mutating func open(_ type: StaticString) {
        buffer.append(contentsOf: #"{"type":""#.utf8)
        type.withUTF8Buffer { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: #"","v":1"#.utf8)
    }

    private mutating func close() {
        buffer.append(0x7D)
        buffer.append(0x0A)
    }

    private mutating func provenance(_ p: Provenance) {
        string("protocol", p.protocolID.rawValue)
        string("source", p.source)
        int("frame", p.frame)
        close()
    }

    private mutating func key(_ name: StaticString) {
        buffer.append(0x2C)
        buffer.append(0x22)
        name.withUTF8Buffer { buffer.append(contentsOf: $0) }
        buffer.append(0x22)
        buffer.append(0x3A)
    }

    private mutating func string(_ name: StaticString, _ value: String) {
        key(name)
        JSONLineWriter.appendString(value, to: &buffer)
    }

    private mutating func int(_ name: StaticString, _ value: Int) {
        key(name)
        JSONLineWriter.appendInt(value, to: &buffer)
    }

    private mutating func time(_ name: StaticString, _ value: UTCTime) {
        key(name)
        buffer.append(0x22)
        value.append(to: &buffer)
        buffer.append(0x22)
    }

    /// Appends a JSON string literal (quoted, escaped; control characters as `\u00XX`).
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                switch c {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: out.append(contentsOf: [0x5C, 0x72])
                case 0x09: out.append(contentsOf: [0x5C, 0x74])
                default:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30])
                    Hex.append(CollectionOfOne(c), to: &out)
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        out.append(0x22)
    }

    /// Appends a decimal integer.
    public static func appendInt(_ v: Int, to out: inout [UInt8]) {
        if v == 0 { out.append(0x30); return }
        var m = v.magnitude
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { p in
            while m > 0 {
                p[n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            }
            if v < 0 { out.append(0x2D) }
            var i = n - 1
            while i >= 0 { out.append(p[i]); i -= 1 }
        }
    }
}
