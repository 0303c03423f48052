/// A parsed JSON value. Numbers keep their text, so decimals read from a stream stay exact.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var numberText: String? {
        if case .number(let s) = self { return s }
        return nil
    }

    /// Parses one JSON text (RFC 8259) from UTF-8 bytes. Errors are `.json` layer, offsets relative to
    /// `base`. Nesting deeper than 64 is refused.
    public static func parse<C: Collection>(_ text: C, base: Int = 0) throws(DecodeError) -> JSONValue
    where C.Element == UInt8 {
        var p = JSONParser(bytes: Array(text), base: base)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.fail("unexpected \(Hex.printable(p.bytes[p.i])) after value") }
        return v
    }

    /// Parses one JSON object from UTF-8 bytes into its members in the order they are written
    /// (tools that lay members out as columns keep the writer's order). Errors as `parse`.
    public static func parseMembers<C: Collection>(_ text: C, base: Int = 0) throws(DecodeError) -> [(String, JSONValue)]
    where C.Element == UInt8 {
        var p = JSONParser(bytes: Array(text), base: base)
        p.skipSpace()
        guard p.i < p.bytes.count, p.bytes[p.i] == 0x7B else { throw p.fail("expected '{'") }
        let members = try p.members(depth: 0)
        p.skipSpace()
        guard p.i == p.bytes.count else { throw p.fail("unexpected \(Hex.printable(p.bytes[p.i])) after value") }
        return members
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    let base: Int
    var i = 0

    init(bytes: [UInt8], base: Int) {
        self.bytes = bytes
        self.base = base
    }

    func fail(_ message: String) -> DecodeError { DecodeError(.json, at: base + i, .malformed, message) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws(DecodeError) -> JSONValue {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("bad literal") }
        i += w.count
        return v
    }

    mutating func value(depth: Int) throws(DecodeError) -> JSONValue {
        guard depth < 64 else { throw fail("nesting deeper than 64") }
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case 0x7B: // {
            var obj: [String: JSONValue] = [:]
            for (k, v) in try members(depth: depth) { obj[k] = v }
            return .object(obj)
        case 0x5B: // [
            i += 1
            var arr: [JSONValue] = []
            skipSpace()
            if i < bytes.count && bytes[i] == 0x5D { i += 1; return .array(arr) }
            while true {
                skipSpace()
                arr.append(try value(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end of array") }
                if bytes[i] == 0x2C { i += 1; continue }
                if bytes[i] == 0x5D { i += 1; return .array(arr) }
                throw fail("expected ',' or ']'")
            }
        case 0x22: return .string(try string())
        case 0x74: return try literal("true", .bool(true))
        case 0x66: return try literal("false", .bool(false))
        case 0x6E: return try literal("null", .null)
        default: return .number(try number())
        }
    }

    /// The members of the object at `i` (its `{`), in order; a repeated name keeps each occurrence.
    mutating func members(depth: Int) throws(DecodeError) -> [(String, JSONValue)] {
        i += 1
        var out: [(String, JSONValue)] = []
        skipSpace()
        if i < bytes.count && bytes[i] == 0x7D { i += 1; return out }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == 0x22 else { throw fail("expected a member name") }
            let k = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == 0x3A else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            out.append((k, try value(depth: depth + 1)))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of object") }
            if bytes[i] == 0x2C { i += 1; continue }
            if bytes[i] == 0x7D { i += 1; return out }
            throw fail("expected ',' or '}'")
        }
    }

    mutating func number() throws(DecodeError) -> String {
        let start = i
        if i < bytes.count && bytes[i] == 0x2D { i += 1 }
        func digits(_ i: inout Int, _ bytes: [UInt8]) -> Int {
            let s = i
            while i < bytes.count, bytes[i] >= 0x30 && bytes[i] <= 0x39 { i += 1 }
            return i - s
        }
        let intStart = i
        let n = digits(&i, bytes)
        guard n > 0 else { throw fail("bad value") }
        if n > 1 && bytes[intStart] == 0x30 { throw fail("leading zero in number") }
        if i < bytes.count && bytes[i] == 0x2E {
            i += 1
            guard digits(&i, bytes) > 0 else { throw fail("bad fraction") }
        }
        if i < bytes.count && (bytes[i] == 0x65 || bytes[i] == 0x45) {
            i += 1
            if i < bytes.count && (bytes[i] == 0x2B || bytes[i] == 0x2D) { i += 1 }
            guard digits(&i, bytes) > 0 else { throw fail("bad exponent") }
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    mutating func hex4() throws(DecodeError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let n = Hex.nibble(bytes[i]) else { throw fail("bad \\u escape") }
            v = v << 4 | UInt32(n)
            i += 1
        }
        return v
    }

    mutating func string() throws(DecodeError) -> String {
        i += 1 // opening quote
        var out: [UInt8] = []
        while true {
            guard i < bytes.count else { throw fail("unterminated string") }
            let c = bytes[i]
            if c == 0x22 { i += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != 0x5C { out.append(c); i += 1; continue }
            i += 1
            guard i < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < bytes.count, bytes[i] == 0x5C, bytes[i + 1] == 0x75 else {
                        throw fail("lone surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("bad surrogate pair") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("bad unicode escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default: throw fail("bad escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
        return s
    }
}
