/// Prepaid segments come from the billing tables that ami-bill adds to the database, computed by
/// ami-bill's own figures (`BillingStore.figures`); ami-report makes up none (ami-report(1), prepaid).
extension ReportContext {
    /// One `prepaid_segments` row per tariff over `--from`…`--to`: accounts, prepaid accounts,
    /// invoiced, in credit, in warning, disconnected, without energy, payments and energy.
    public func prepaidSegments() throws -> [ReportRow] {
        guard let from = scope.filter.from, let to = scope.filter.to else {
            throw ReportError("prepaid: give the span with --from and --to")
        }
        let billing = BillingStore(store: store)
        let figures: [TariffFigures]
        do {
            figures = try billing.figures(from: .instant(from), to: .instant(to))
        } catch {
            throw ReportError("prepaid: \(error)", unavailable: true)
        }
        if figures.isEmpty {
            throw ReportError("prepaid: \(store.db.path) has no billing accounts (ami-bill account add); no prepaid segments to report",
                              unavailable: true)
        }
        return figures.map { f in
            ReportRow("prepaid_segments", [
                ("tariff", .text(f.tariff)), ("start", .time(f.from)), ("end", .time(f.to)),
                ("accounts", .integer(Int64(f.accounts))), ("prepaid", .integer(Int64(f.prepaid))),
                ("invoiced", .integer(Int64(f.invoiced))), ("in_credit", .integer(Int64(f.inCredit))),
                ("in_warning", .integer(Int64(f.inWarning))), ("disconnected", .integer(Int64(f.disconnected))),
                ("without_energy", .integer(Int64(f.withoutEnergy))), ("payments", .integer(Int64(f.payments))),
                ("paid", .integer(f.paid)), ("currency", .text(f.currency)), ("minor_units", .integer(Int64(f.minorUnits))),
                ("energy", .amount(ExactAmount(units: f.energy.raw, scale: -Nano.scale))), ("unit", .text(f.unit)),
            ])
        }
    }
}
