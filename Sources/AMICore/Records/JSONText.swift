/// JSON text of parsed values, and JSON lines built member by member (for records read from
/// files): strings escaped as `JSONLineWriter` escapes them, numbers copied as their text.
public enum JSONText {
    /// The compact JSON text of `value` (object members in name order).
    public static func render(_ value: JSONValue) -> String {
        var out = ""
        render(value, into: &out)
        return out
    }

    static func render(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += quoted(s)
        case .array(let items):
            out += "["
            for (i, v) in items.enumerated() {
                if i > 0 { out += "," }
                render(v, into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                out += quoted(k) + ":"
                render(o[k]!, into: &out)
            }
            out += "}"
        }
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var s = s
        return s.withUTF8 { utf8 in
            let bound = utf8.count * 6 + 2
            return String(unsafeUninitializedCapacity: bound) { buffer in
                JSONLineWriter.writeString(utf8, to: buffer.baseAddress!)
            }
        }
    }

    /// An object's text from ordered members whose values are JSON text already.
    public static func object(_ members: [(String, String)]) -> String {
        var out = "{"
        for (i, (k, v)) in members.enumerated() {
            if i > 0 { out += "," }
            out += quoted(k) + ":" + v
        }
        return out + "}"
    }
}
