/// Prepaid segments come from the billing tables that ami-bill adds to the database; ami-report
/// reads no other source for them and makes up no figures (ami-report(1), prepaid).
extension ReportContext {
    /// The billing tables in the database (`account`, `ledger`, `bill`, `tariff`, or names starting `prepaid`).
    func billingTables() throws -> [String] {
        let s = try store.db.statement("""
            SELECT name FROM sqlite_master WHERE type = 'table'
                AND (name IN ('account', 'ledger', 'bill', 'tariff') OR name LIKE 'prepaid%') ORDER BY name
            """)
        var out: [String] = []
        while try s.step() { out.append(s.text(0) ?? "") }
        return out
    }

    /// Fails with what is missing: without billing tables there are no prepaid segments to report,
    /// and tables of a billing schema this version does not know are not guessed at.
    public func prepaidSegments() throws -> [ReportRow] {
        let tables = try billingTables()
        if tables.isEmpty {
            throw ReportError("prepaid: \(store.db.path) has no billing tables (ami-bill writes them); no prepaid segments to report",
                              unavailable: true)
        }
        throw ReportError("prepaid: \(store.db.path) has billing tables (\(tables.joined(separator: ", "))) of a schema this "
            + "ami-report does not read yet; no prepaid segments reported",
                          unavailable: true)
    }
}
