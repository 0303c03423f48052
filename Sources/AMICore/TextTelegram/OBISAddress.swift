/// An OBIS code as written in a text telegram (IEC 62056-61 §4–§5): `A-B:C.D.E*F` as DSMR sends it,
/// and the short forms of IEC 62056-21 readouts (`C.D.E`, `C.D`, `1-0:1.8.0*255`, `31.7.0.255`).
/// The letters IEC 62056-61 §5.5 allows for groups C and D stand for 96 (`C`), 97 (`F`), 98 (`L`) and
/// 99 (`P`): `C.1.0` is 96.1.0, `F.F` is 97.97.
struct OBISAddress: Sendable, Equatable {
    var a: Int?
    var b: Int?
    var c: Int
    var d: Int
    var e: Int?
    var f: Int?

    init(a: Int? = nil, b: Int? = nil, c: Int, d: Int, e: Int? = nil, f: Int? = nil) {
        self.a = a
        self.b = b
        self.c = c
        self.d = d
        self.e = e
        self.f = f
    }

    /// Nil when `text` is not an OBIS code in one of these forms.
    init?(_ text: String) {
        var rest = Substring(text.trimmingSpaces)
        if let colon = rest.firstIndex(of: ":") {
            let head = rest[rest.startIndex..<colon]
            let ab = head.split(separator: "-", omittingEmptySubsequences: false)
            guard ab.count == 2, let a = OBISAddress.number(ab[0]), let b = OBISAddress.number(ab[1]) else { return nil }
            self.a = a
            self.b = b
            rest = rest[rest.index(after: colon)...]
        } else {
            a = nil
            b = nil
        }
        var fPart: Substring? = nil
        if let star = rest.firstIndex(where: { $0 == "*" || $0 == "&" }) {
            fPart = rest[rest.index(after: star)...]
            rest = rest[rest.startIndex..<star]
        }
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2 && parts.count <= 4,
              let c = OBISAddress.group(parts[0]), let d = OBISAddress.group(parts[1]) else { return nil }
        self.c = c
        self.d = d
        e = nil
        f = nil
        if parts.count >= 3 {
            guard let e = OBISAddress.number(parts[2]) else { return nil }
            self.e = e
        }
        if parts.count == 4 {
            guard fPart == nil, let f = OBISAddress.number(parts[3]) else { return nil }
            self.f = f
        }
        if let fp = fPart {
            guard let f = OBISAddress.number(fp) else { return nil }
            self.f = f
        }
    }

    /// 0…255 in decimal.
    private static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 3, s.allSatisfy({ $0 >= "0" && $0 <= "9" }), let v = Int(s), v <= 255 else { return nil }
        return v
    }

    /// A number, or one of the letters C, F, L, P.
    private static func group(_ s: Substring) -> Int? {
        switch s {
        case "C": return 96
        case "F": return 97
        case "L": return 98
        case "P": return 99
        default: return number(s)
        }
    }

    /// The M-Bus channel of a DSMR object: B of `0-B:…` when B is 1 or more.
    var mbusChannel: Int? {
        if a == 0, let b, b >= 1 { return b }
        return nil
    }
}
