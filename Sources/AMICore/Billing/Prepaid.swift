/// Prepaid credit: each run debits what was consumed since the account's last-debited mark exactly
/// once, then warns, uses emergency credit, disconnects (outside friendly times) or reconnects.
/// Payments top the credit up, a share of each paying off debt.
public final class Prepaid {
    let billing: BillingStore
    let run: Int64?
    /// Records to write for each account, in order (`notification`, `command`).
    public private(set) var records: [JSONObjectText] = []

    public init(billing: BillingStore, run: Int64?) {
        self.billing = billing
        self.run = run
    }

    /// Minute tables of whole local months, by tariff name and month start: built once a run.
    private var months: [String: (start: UTCTime, table: MinuteTable)] = [:]

    /// The cost of [from, to) (within one local month starting at `month`) at the account's tariff:
    /// total and the part that is fixed charges.
    func cost(_ a: BillingStore.Account, _ t: Tariff, month: UTCTime, next: UTCTime, from: UTCTime, to: UTCTime) throws -> (total: Int64, fixed: Int64) {
        guard from < to else { return (0, 0) }
        let calendar = TariffCalendar(t)
        let table: MinuteTable
        if let m = months[t.name], m.start == month {
            table = m.table
        } else {
            table = try MinuteTable(calendar, from: month, to: next)
            months[t.name] = (month, table)
        }
        var rater = try Rater(calendar: calendar, table: table, from: from, to: to)
        rater.includeMinimum = false
        let u = try billing.usage(meterID: a.meterID, meter: a.meter, tariff: t, from: from, to: to)
        let body = try rater.rate(u.intervals, registerDelta: u.registerDelta)
        return (body.total, body.lines.filter { $0.kind == .fixed }.reduce(0) { $0 + $1.amount })
    }

    /// The start of the local month holding `t`, and of the next one.
    static func month(_ calendar: TariffCalendar, _ t: UTCTime) -> (UTCTime, UTCTime) {
        let (y, m, _) = CivilDate.civilFromDays(calendar.local(t).day)
        let start = calendar.midnight(CivilDate.daysFromCivil(year: y, month: m, day: 1))
        let next = calendar.midnight(CivilDate.daysFromCivil(year: m == 12 ? y + 1 : y, month: m == 12 ? 1 : m + 1, day: 1))
        return (start, next)
    }

    /// What [old, new) costs as the difference of month-to-date costs, month by month, so that the
    /// debits of a month add up to its bill (tiers and demand included) whatever the run times.
    /// On the first debit (`first`), the opening day's standing charge is owed too: the fixed part
    /// subtracted is only that of the days before it.
    func debit(_ a: BillingStore.Account, _ t: Tariff, old: UTCTime, new: UTCTime, first: Bool) throws -> (consumption: Int64, standing: Int64) {
        let calendar = TariffCalendar(t)
        var consumption: Int64 = 0, standing: Int64 = 0
        // Whole minutes, as tariffs see time.
        func minute(_ t: UTCTime) -> UTCTime { UTCTime(milliseconds: t.milliseconds - ((t.milliseconds % 60_000) + 60_000) % 60_000) }
        var at = minute(old)
        let new = minute(new)
        while at < new {
            let (start, next) = Self.month(calendar, at)
            let end = min(new, next)
            let c1 = try cost(a, t, month: start, next: next, from: start, to: end)
            let c0 = try cost(a, t, month: start, next: next, from: start, to: at)
            var fixedBefore = c0.fixed
            if first && at == minute(old) {
                let openingDay = calendar.midnight(calendar.local(at).day)
                fixedBefore = try cost(a, t, month: start, next: next, from: start, to: max(start, openingDay)).fixed
            }
            consumption += (c1.total - c1.fixed) - (c0.total - c0.fixed)
            standing += c1.fixed - fixedBefore
            at = end
        }
        return (consumption, standing)
    }

    /// One run over every prepaid account at `now`. All tariffs are loaded (and checked) first.
    public func runAll(now: UTCTime) throws {
        let accounts = try billing.accounts(prepaid: true)
        var tariffs: [String: Tariff] = [:]
        for a in accounts where tariffs[a.tariff] == nil { tariffs[a.tariff] = try billing.tariff(a.tariff).tariff }
        for a in accounts {
            let kept = records.count
            do {
                try runOne(a, tariffs[a.tariff]!, now: now)
            } catch {
                // The account's transaction was rolled back: so are its records.
                records.removeSubrange(kept...)
                throw error
            }
        }
    }

    func runOne(_ a: BillingStore.Account, _ t: Tariff, now: UTCTime) throws {
        let db = billing.db
        try db.transaction {
            // Read again inside the write transaction: another run may have moved the mark.
            let a = try billing.account(a.name)
            let old = a.debitedTo ?? a.opened
            if let new = try billing.lastIntervalEnd(meterID: a.meterID, meter: a.meter, tariff: t, notAfter: now), new > old {
                let d = try debit(a, t, old: old, new: new, first: a.debitedTo == a.opened)
                if d.consumption != 0 {
                    try billing.ledger(account: a.id, at: new, kind: "consumption", credit: -d.consumption, from: old, to: new, run: run)
                }
                if d.standing != 0 {
                    try billing.ledger(account: a.id, at: new, kind: "standing", credit: -d.standing, from: old, to: new, run: run)
                }
                try db.run("UPDATE account SET debited_to = ? WHERE id = ?", [.integer(new.milliseconds), .integer(a.id)])
            }
            try settle(a.name, t, now: now)
        }
    }

    /// Looks at the balance after a debit or payment and changes supply and alerts (inside the
    /// caller's transaction).
    func settle(_ name: String, _ t: Tariff, now: UTCTime) throws {
        let db = billing.db
        let a = try billing.account(name)
        guard let policy = t.prepaid else { throw BillingError("tariff \(t.name) has no prepaid section (account \(a.name))") }
        let balance = try billing.balance(account: a.id).credit
        func setState(supply: String? = nil, alert: String) throws {
            if let s = supply { try db.run("UPDATE account SET supply = ? WHERE id = ?", [.text(s), .integer(a.id)]) }
            try db.run("UPDATE account SET alert = ? WHERE id = ?", [.text(alert), .integer(a.id)])
        }
        func note(_ kind: String) {
            records.append(BillingRecords.notification(kind, account: a, balance: balance, policy: policy, tariff: t, time: now))
        }
        if a.disconnected {
            if balance > policy.warn {
                records.append(BillingRecords.command("reconnect", account: a, reason: "credit restored", time: now))
                note("reconnected")
                try setState(supply: "connected", alert: "none")
                try billing.store.audit(run: run, action: "reconnect", entity: "account", key: a.name, old: "disconnected", new: "connected")
            }
            return
        }
        if balance <= -policy.emergencyCredit {
            if friendly(policy, t, now) {
                if a.alert != "disconnect_deferred" {
                    note("disconnect_deferred")
                    try setState(alert: "disconnect_deferred")
                }
            } else {
                records.append(BillingRecords.command("disconnect", account: a, reason: "credit exhausted", time: now))
                note("disconnected")
                try setState(supply: "disconnected", alert: "none")
                try billing.store.audit(run: run, action: "disconnect", entity: "account", key: a.name, old: "connected", new: "disconnected")
            }
        } else if balance <= 0 && policy.emergencyCredit > 0 {
            if a.alert != "emergency_credit" {
                note("emergency_credit")
                try setState(alert: "emergency_credit")
            }
        } else if balance < policy.warn {
            if a.alert == "none" {
                note("low_credit")
                try setState(alert: "low_credit")
            }
        } else if a.alert != "none" {
            try setState(alert: "none")
        }
    }

    /// Whether `now` is in the policy's friendly hours or days (no disconnection then).
    func friendly(_ p: PrepaidPolicy, _ t: Tariff, _ now: UTCTime) -> Bool {
        let c = TariffCalendar(t)
        let (day, minute) = c.local(now)
        return p.friendly.contains { c.applies($0, day: day, minute: minute) }
    }

    /// Records a payment: the top-up, the debt recovered from it, then reconnection when the balance
    /// is back above the warning threshold. A reference already paid on the account is refused.
    public func pay(account name: String, amount: Int64, reference: String?, at: UTCTime) throws -> (recovered: Int64, balance: Int64) {
        guard amount > 0 else { throw BillingError("a payment must be above zero") }
        let a = try billing.account(name)
        let t = try billing.tariff(a.tariff).tariff
        return try billing.db.transaction {
            if let r = reference, try billing.db.scalar("SELECT id FROM ledger WHERE account = ? AND kind = 'payment' AND reference = ?",
                                                        [.integer(a.id), .text(r)]) != nil {
                throw BillingError("payment \(r) is already on account \(a.name)'s ledger")
            }
            try billing.ledger(account: a.id, at: at, kind: "payment", credit: amount, reference: reference, run: run)
            let debt = try billing.balance(account: a.id).debt
            var recovered: Int64 = 0
            if debt > 0, let share = t.prepaid?.debtRecovery, share.raw > 0 {
                recovered = min(debt, Money.percentage(amount, share))
                if recovered > 0 {
                    try billing.ledger(account: a.id, at: at, kind: "recovery", credit: -recovered, debt: -recovered,
                                       reference: reference, run: run)
                }
            }
            if a.prepaid { try settle(a.name, t, now: at) }
            return (recovered, try billing.balance(account: a.id).credit)
        }
    }

    /// An adjustment of credit (either sign) or, with `debt`, of the debt owed.
    public func adjust(account name: String, amount: Int64, debt: Bool, reference: String?, at: UTCTime) throws -> Int64 {
        let a = try billing.account(name)
        let t = try billing.tariff(a.tariff).tariff
        return try billing.db.transaction {
            try billing.ledger(account: a.id, at: at, kind: debt ? "debt" : "adjustment", credit: debt ? 0 : amount,
                               debt: debt ? amount : 0, reference: reference, run: run)
            if a.prepaid { try settle(a.name, t, now: at) }
            return try billing.balance(account: a.id).credit
        }
    }
}

extension BillingRecords {
    public static func notification(_ kind: String, account a: BillingStore.Account, balance: Int64, policy: PrepaidPolicy,
                                    tariff t: Tariff, time: UTCTime) -> JSONObjectText {
        var o = JSONObjectText(type: "notification")
        o.time("time", time)
        o.string("kind", kind)
        o.string("account", a.name)
        o.string("meter", a.meter)
        o.string("contact", a.contact)
        o.int("balance", balance)
        o.int("warn", policy.warn)
        o.int("emergency_credit", policy.emergencyCredit)
        o.string("currency", t.currency)
        o.int("minor_units", Int64(t.minorUnits))
        return o
    }

    public static func command(_ command: String, account a: BillingStore.Account, reason: String, time: UTCTime) -> JSONObjectText {
        var o = JSONObjectText(type: "command")
        o.time("time", time)
        o.string("command", command)
        o.string("meter", a.meter)
        o.string("account", a.name)
        o.string("reason", reason)
        return o
    }
}
