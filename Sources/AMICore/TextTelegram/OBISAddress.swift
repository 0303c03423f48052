/// An OBIS code as written in a text telegram (IEC 62056-61): `A-B:C.D.E*F` as DSMR sends it,
/// the short forms of IEC 62056-21 readouts (`C.D.E`, `C.D`, `1-0:1.8.0*255`, `31.7.0.255`), and the
/// six dotted groups DLMS tools write (`1.0.1.8.0.255`).
/// The letters IEC 62056-61 allows for groups C and D stand for 96 (`C`), 97 (`F`), 98 (`L`) and
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
        var p = Parser(bytes: Array(text.utf8))
        guard let code = p.parse() else { return nil }
        self = code
    }

    /// `[A-B:]C.D[.E[.F]][*F]` over ASCII bytes, spaces around allowed.
    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) {
            var b = bytes[...]
            while b.first == 0x20 { b = b.dropFirst() }
            while b.last == 0x20 { b = b.dropLast() }
            self.bytes = Array(b)
        }

        mutating func take(_ c: Character) -> Bool {
            guard i < bytes.count, let a = c.asciiValue, bytes[i] == a else { return false }
            i += 1
            return true
        }

        /// 0…255 in decimal, 1 to 3 digits.
        mutating func number() -> Int? {
            var v = 0
            let from = i
            while i < bytes.count, i - from < 3, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
                v = v * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                i += 1
            }
            return i > from && v <= 255 ? v : nil
        }

        /// A number, or one of the letters C, F, L, P standing for 96…99.
        mutating func group() -> Int? {
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "C"): i += 1; return 96
            case UInt8(ascii: "F"): i += 1; return 97
            case UInt8(ascii: "L"): i += 1; return 98
            case UInt8(ascii: "P"): i += 1; return 99
            default: return number()
            }
        }

        mutating func parse() -> OBISAddress? {
            var code = OBISAddress(c: 0, d: 0)
            if bytes.contains(UInt8(ascii: ":")) {
                guard let a = number(), take("-"), let b = number(), take(":") else { return nil }
                code.a = a
                code.b = b
            }
            guard let c = group(), take("."), let d = group() else { return nil }
            code.c = c
            code.d = d
            if take(".") {
                guard let e = number() else { return nil }
                code.e = e
                if take(".") {
                    guard let f = number() else { return nil }
                    code.f = f
                }
            }
            if code.a == nil, let e = code.e, let f = code.f, take(".") {
                // Six dotted groups `A.B.C.D.E.F`, as DLMS tools write logical names.
                guard let e2 = number(), take("."), let f2 = number() else { return nil }
                code = OBISAddress(a: code.c, b: code.d, c: e, d: f, e: e2, f: f2)
            }
            if code.f == nil, take("*") || take("&") {
                guard let f = number() else { return nil }
                code.f = f
            }
            return i == bytes.count ? code : nil
        }
    }

    /// The M-Bus channel of a DSMR object: B of `0-B:…` when B is 1 or more.
    var mbusChannel: Int? {
        if a == 0, let b, b >= 1 { return b }
        return nil
    }
}
