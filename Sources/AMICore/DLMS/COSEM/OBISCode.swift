/// A COSEM logical name: the six value groups A–F of an OBIS code (IEC 62056-6-1, "OBIS code
/// structure"), sent as a 6-byte octet-string.
public struct OBISCode: Sendable, Hashable, CustomStringConvertible {
    public var a: UInt8
    public var b: UInt8
    public var c: UInt8
    public var d: UInt8
    public var e: UInt8
    public var f: UInt8

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) {
        (self.a, self.b, self.c, self.d, self.e, self.f) = (a, b, c, d, e, f)
    }

    /// The 6 bytes of a logical name; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.init(bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5])
    }

    /// Parses `1-0:1.8.0*255`, `1-0:1.8.0.255`, `1.0.1.8.0.255`, or `1-0:1.8.0` (F taken as 255).
    /// The letters IEC 62056-61 allows in C and D (`C`, `F`, `L`, `P` for 96…99) are read too.
    public init?(_ text: String) {
        guard let o = OBISAddress(text), let a = o.a, let b = o.b, let e = o.e else { return nil }
        self.init(UInt8(a), UInt8(b), UInt8(o.c), UInt8(o.d), UInt8(e), UInt8(o.f ?? 255))
    }

    public var bytes: [UInt8] { [a, b, c, d, e, f] }

    /// `A-B:C.D.E*F`, e.g. `1-0:1.8.0*255`.
    public var description: String { "\(a)-\(b):\(c).\(d).\(e)*\(f)" }

    /// `A.B.C.D.E.F`, e.g. `1.0.1.8.0.255`.
    public var dotted: String { "\(a).\(b).\(c).\(d).\(e).\(f)" }
}
