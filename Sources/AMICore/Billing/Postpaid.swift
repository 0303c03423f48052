/// A computed bill: who, the span, the tariff and the lines.
public struct ComputedBill: Sendable {
    public var heading: BillingRecords.Heading
    public var body: BillBody
    public var tariff: Tariff
    public var tariffID: Int64?

    public var record: JSONObjectText { BillingRecords.bill(heading, body, tariff: tariff) }
}

extension BillingStore {
    /// Bills the named accounts (all postpaid ones when none are named) for [from, to). Every bill is
    /// computed before any is stored; then all are stored in one transaction (a bill already issued
    /// with the same content is not stored again; a changed one becomes a new revision).
    public func billAccounts(_ names: [String], from: BillTime, to: BillTime, run: Int64?) throws -> [ComputedBill] {
        let accounts = try names.isEmpty ? self.accounts(prepaid: false) : names.map { try account($0) }
        var tariffs: [String: (Int64, Tariff, Rater)] = [:]
        var bills: [(Account, ComputedBill)] = []
        for a in accounts {
            if tariffs[a.tariff] == nil {
                let (id, t) = try tariff(a.tariff)
                tariffs[a.tariff] = (id, t, try Rater(tariff: t, from: from.resolve(t), to: to.resolve(t)))
            }
            let (id, t, rater) = tariffs[a.tariff]!
            let u = try usage(meterID: a.meterID, meter: a.meter, tariff: t, from: rater.from, to: rater.to)
            let body = try Result { () throws(BillingError) in try rater.rate(u.intervals, registerDelta: u.registerDelta) }
                .mapError { BillingError("account \(a.name): \($0.description)") }.get()
            var h = BillingRecords.Heading(account: a.name, meter: a.meter, tariff: t.name, from: rater.from, to: rater.to)
            h.missing = u.missing
            bills.append((a, ComputedBill(heading: h, body: body, tariff: t, tariffID: id)))
        }
        return try db.transaction {
            var out: [ComputedBill] = []
            for (a, var b) in bills {
                let stored = try storeBill(account: a, tariffID: b.tariffID!, heading: b.heading, body: b.body, tariff: b.tariff, run: run)
                b.heading.bill = stored.id
                b.heading.revision = stored.revision
                out.append(b)
            }
            return out
        }
    }
}

/// Bills from interval readings read from a stream (no database): one bill per meter.
public struct StreamBilling {
    public let tariff: Tariff
    public let rater: Rater
    private var byMeter: [String: [UsageInterval]] = [:]
    private var converters: [String: NanoConverter] = [:]

    public init(tariff: Tariff, from: UTCTime, to: UTCTime) throws(BillingError) {
        self.tariff = tariff
        rater = try Rater(tariff: tariff, from: from, to: to)
    }

    /// Takes an interval reading of the billed quantity (others are ignored: returns false);
    /// throws when its value cannot be billed.
    public mutating func add(_ r: Reading) throws(BillingError) -> Bool {
        guard let seconds = r.interval, seconds > 0, r.quantity.rawValue == tariff.quantity, let time = r.time,
              case .number(let value) = r.value else { return false }
        let unit = r.unit?.rawValue ?? ""
        var c = converters[unit] ?? NanoConverter(tariff.unit, unit: unit, meter: r.meter)
        let nano = try c.nano(value.significand, exponent: value.exponent)
        converters[unit] = c
        let estimated = r.quality.contains { $0.isEstimate }
        byMeter[r.meter, default: []].append(UsageInterval(end: time, seconds: seconds, value: nano, estimated: estimated))
        return true
    }

    /// The bills, by meter identity; a meter's interval given twice counts once (the later line).
    public func bills() throws(BillingError) -> [ComputedBill] {
        var out: [ComputedBill] = []
        for meter in byMeter.keys.sorted() {
            var list: [UsageInterval] = []
            for iv in byMeter[meter]!.enumerated().sorted(by: { ($0.element.end, $0.offset) < ($1.element.end, $1.offset) }).map(\.element) {
                if let last = list.last, last.end == iv.end { list[list.count - 1] = iv } else { list.append(iv) }
            }
            let body: BillBody
            do {
                body = try rater.rate(list)
            } catch {
                throw BillingError("meter \(meter): \(error.description)")
            }
            let h = BillingRecords.Heading(account: meter, meter: meter, tariff: tariff.name, from: rater.from, to: rater.to)
            out.append(ComputedBill(heading: h, body: body, tariff: tariff))
        }
        return out
    }
}
