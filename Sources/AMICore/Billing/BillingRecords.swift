/// JSON text of an object with members in the order given (ami-jsonl(5) puts `type` and `v` first);
/// strings escaped by `JSONLineWriter`'s writer.
public struct JSONObjectText {
    private var bytes: [UInt8] = [0x7B]

    public init(type: String) {
        string("type", type)
        raw("v", "1")
    }

    private mutating func key(_ k: String) {
        if bytes.count > 1 { bytes.append(0x2C) }
        append(quoted: k)
        bytes.append(0x3A)
    }

    private mutating func append(quoted s: String) {
        var u = Array(s.utf8)
        let out = [UInt8](unsafeUninitializedCapacity: u.count * 6 + 2) { buffer, n in
            n = u.withUnsafeMutableBufferPointer {
                JSONLineWriter.writeString(UnsafeBufferPointer($0), to: buffer.baseAddress!)
            }
        }
        bytes += out
    }

    public mutating func string(_ k: String, _ v: String?) {
        guard let v else { return }
        key(k)
        append(quoted: v)
    }

    public mutating func int(_ k: String, _ v: Int64?) {
        guard let v else { return }
        raw(k, String(v))
    }

    public mutating func bool(_ k: String, _ v: Bool) { raw(k, v ? "true" : "false") }

    /// An exact decimal as a JSON number.
    public mutating func decimal(_ k: String, _ v: Nano?) {
        guard let v else { return }
        raw(k, v.description)
    }

    public mutating func time(_ k: String, _ v: UTCTime) { string(k, v.description) }

    /// A member whose value is JSON text already.
    public mutating func raw(_ k: String, _ json: String) {
        key(k)
        bytes += Array(json.utf8)
    }

    public mutating func array(_ k: String, _ items: [JSONObjectText]) {
        key(k)
        bytes.append(0x5B)
        for (i, item) in items.enumerated() {
            if i > 0 { bytes.append(0x2C) }
            bytes += item.closed
        }
        bytes.append(0x5D)
    }

    /// The object's text, without a type and version when made by `init()`.
    public var closed: [UInt8] { bytes + [0x7D] }
    public var text: String { String(decoding: closed, as: UTF8.self) }

    /// An object without `type` and `v` (an array element).
    public init() {}

    /// A JSON string literal of `s`, quoted and escaped.
    public static func quoted(_ s: String) -> String {
        var o = JSONObjectText()
        o.append(quoted: s)
        return String(decoding: o.bytes.dropFirst(), as: UTF8.self)
    }
}

/// The records ami-bill writes (ami-jsonl(5): `bill`, `notification`, `command`, `figures`).
public enum BillingRecords {
    /// Who a bill is for and which span it covers.
    public struct Heading: Sendable {
        public var account: String
        public var meter: String
        public var tariff: String
        public var from: UTCTime
        public var to: UTCTime
        public var bill: Int64?
        public var revision: Int?
        public var missing: Int = 0

        public init(account: String, meter: String, tariff: String, from: UTCTime, to: UTCTime) {
            self.account = account
            self.meter = meter
            self.tariff = tariff
            self.from = from
            self.to = to
        }
    }

    public static func bill(_ h: Heading, _ b: BillBody, tariff t: Tariff) -> JSONObjectText {
        var o = JSONObjectText(type: "bill")
        o.int("bill", h.bill)
        o.int("revision", h.revision.map(Int64.init))
        o.string("account", h.account)
        o.string("meter", h.meter)
        o.string("tariff", h.tariff)
        o.time("from", h.from)
        o.time("to", h.to)
        o.string("time_zone", t.zone.identifier)
        o.string("currency", t.currency)
        o.int("minor_units", Int64(t.minorUnits))
        o.string("unit", t.unit.name)
        o.decimal("usage", b.usage)
        o.decimal("estimated_usage", b.estimatedUsage)
        o.string("basis", b.fromRegisters ? "register" : "interval")
        if h.missing > 0 { o.int("missing_intervals", Int64(h.missing)) }
        o.array("lines", b.lines.map(line))
        o.int("subtotal", b.subtotal)
        o.int("tax", b.tax)
        o.int("total", b.total)
        o.bool("estimated", b.estimated)
        return o
    }

    static func line(_ l: BillLine) -> JSONObjectText {
        var o = JSONObjectText()
        o.string("kind", l.kind.rawValue)
        o.string("name", l.name)
        o.string("period", l.period)
        o.int("tier", l.tier.map(Int64.init))
        o.string("effective", l.effective)
        o.decimal("quantity", l.quantity)
        o.string("unit", l.unit)
        o.decimal("price", l.price)
        o.decimal("rate", l.rate)
        o.int("base", l.base)
        o.int("amount", l.amount)
        o.bool("estimated", l.estimated.raw != 0)
        if l.estimated.raw != 0 { o.decimal("estimated_quantity", l.estimated) }
        return o
    }
}
