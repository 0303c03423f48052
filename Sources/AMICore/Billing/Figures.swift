extension BillingStore {
    /// Segments and figures for [from, to), one `figures` record per tariff: accounts, invoiced,
    /// prepaid accounts in credit, in warning and disconnected, accounts without energy, payments
    /// and energy in the span.
    public func figures(from: BillTime, to: BillTime) throws -> [TariffFigures] {
        let all = try accounts()
        var out: [TariffFigures] = []
        for name in Set(all.map(\.tariff)).sorted() {
            let t = try tariff(name).tariff
            let f = from.resolve(t), e = to.resolve(t)
            guard f < e else { throw BillingError("--from is not before --to") }
            let group = all.filter { $0.tariff == name }
            var invoiced = 0, inCredit = 0, inWarning = 0, disconnected = 0, withoutEnergy = 0, payments = 0
            var paid: Int64 = 0
            var energy = Nano.zero
            for a in group {
                if try db.scalar("SELECT count(*) FROM bill WHERE account = ? AND span_from >= ? AND span_to <= ?",
                                 [.integer(a.id), .integer(f.milliseconds), .integer(e.milliseconds)]) ?? 0 > 0 { invoiced += 1 }
                if a.prepaid, let p = t.prepaid {
                    let b = try balance(account: a.id, at: e).credit
                    if a.disconnected { disconnected += 1 } else if b >= p.warn { inCredit += 1 } else { inWarning += 1 }
                }
                let u = try usage(meterID: a.meterID, meter: a.meter, tariff: t, from: f, to: e)
                let used = u.intervals.reduce(Nano.zero) { $0 + $1.value } + (u.registerDelta?.value ?? .zero)
                if used.raw == 0 { withoutEnergy += 1 }
                energy += used
                let s = try db.statement("SELECT count(*), ifnull(sum(credit), 0) FROM ledger WHERE account = ? AND kind = 'payment' AND at >= ? AND at < ?")
                try s.bind([.integer(a.id), .integer(f.milliseconds), .integer(e.milliseconds)])
                if try s.step() {
                    payments += Int(s.int64(0))
                    paid += s.int64(1)
                }
                s.reset()
            }
            out.append(TariffFigures(tariff: name, from: f, to: e, accounts: group.count,
                                     prepaid: group.filter(\.prepaid).count, invoiced: invoiced, inCredit: inCredit,
                                     inWarning: inWarning, disconnected: disconnected, withoutEnergy: withoutEnergy,
                                     payments: payments, paid: paid, energy: energy, unit: t.unit.name,
                                     currency: t.currency, minorUnits: t.minorUnits))
        }
        return out
    }

    /// A `balance` record: credit and debt of an account at a time (all entries when nil).
    public func balanceRecord(account name: String, at: UTCTime?) throws -> JSONObjectText {
        let a = try account(name)
        let t = try tariff(a.tariff).tariff
        let b = try balance(account: a.id, at: at)
        var o = JSONObjectText(type: "balance")
        o.string("account", a.name)
        o.string("meter", a.meter)
        if let at { o.time("time", at) }
        o.int("credit", b.credit)
        o.int("debt", b.debt)
        o.string("supply", a.disconnected ? "disconnected" : "connected")
        if let d = a.debitedTo { o.time("debited_to", d) }
        o.string("currency", t.currency)
        o.int("minor_units", Int64(t.minorUnits))
        return o
    }
}

/// The figures of one tariff's accounts over a span: segments (invoiced, in credit, in warning,
/// disconnected, without energy), payments and energy; a `figures` record (ami-jsonl(5)).
public struct TariffFigures: Sendable {
    public var tariff: String
    public var from: UTCTime
    public var to: UTCTime
    public var accounts: Int
    public var prepaid: Int
    public var invoiced: Int
    public var inCredit: Int
    public var inWarning: Int
    public var disconnected: Int
    public var withoutEnergy: Int
    public var payments: Int
    /// Payments in minor units of `currency`.
    public var paid: Int64
    public var energy: Nano
    public var unit: String
    public var currency: String
    public var minorUnits: Int

    public var record: JSONObjectText {
        var o = JSONObjectText(type: "figures")
        o.string("tariff", tariff)
        o.time("from", from)
        o.time("to", to)
        o.int("accounts", Int64(accounts))
        o.int("prepaid", Int64(prepaid))
        o.int("invoiced", Int64(invoiced))
        o.int("in_credit", Int64(inCredit))
        o.int("in_warning", Int64(inWarning))
        o.int("disconnected", Int64(disconnected))
        o.int("without_energy", Int64(withoutEnergy))
        o.int("payments", Int64(payments))
        o.int("paid", paid)
        o.decimal("energy", energy)
        o.string("unit", unit)
        o.string("currency", currency)
        o.int("minor_units", Int64(minorUnits))
        return o
    }
}
