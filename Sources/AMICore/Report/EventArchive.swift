/// The events and alarms archive: stored events of the selected meters, classified (ami-report(1),
/// events).
extension ReportContext {
    /// The class of an event name: `tamper` (cover or terminal opened, magnetic field, any name
    /// with "tamper"), `fault` (error states, "fault" or "error" in the name), `power` (power
    /// failures and low battery), else `other`. Tamper and fault events are alarms.
    public static func eventClass(_ name: String) -> String {
        let n = name.lowercased()
        if ["tamper", "cover", "terminal", "magnet"].contains(where: n.contains) { return "tamper" }
        if ["error", "fault", "abnormal_condition"].contains(where: n.contains) { return "fault" }
        if n.hasPrefix("power_") || n.contains("battery") { return "power" }
        return "other"
    }

    struct StoredEvent {
        var meter: ReportMeter
        var event: String
        var code: String?
        var text: String?
        var time: Int64
        var duration: ExactDecimal?
    }

    /// The stored events of the selected meters in the window, by time.
    func storedEvents() throws -> [StoredEvent] {
        let s = try store.db.statement("""
            SELECT meter, event, code, text, time, duration, duration_exponent FROM event
            WHERE meter IS NOT NULL AND time >= ? AND time < ? ORDER BY time, id
            """)
        try s.bind([.integer(scope.from ?? Int64.min), .integer(scope.to ?? Int64.max)])
        var out: [StoredEvent] = []
        while try s.step() {
            guard let m = meter(s.int64(0)) else { continue }
            out.append(StoredEvent(meter: m, event: s.text(1) ?? "", code: s.text(2), text: s.text(3), time: s.int64(4),
                                   duration: s.optionalInt64(5).map { ExactDecimal($0, exponent: Int(s.optionalInt64(6) ?? 0)) }))
        }
        return out
    }

    /// Event rows, by time; `classes` (tamper, fault, power, other, or alarm for the first two)
    /// keeps only those.
    public func eventArchive(classes: Set<String>) throws -> [ReportRow] {
        try storedEvents().compactMap { e in
            let c = Self.eventClass(e.event)
            let alarm = c == "tamper" || c == "fault"
            guard classes.isEmpty || classes.contains(c) || (alarm && classes.contains("alarm")) else { return nil }
            return ReportRow("event_report", [
                ("time", .time(UTCTime(milliseconds: e.time))), ("meter", .text(e.meter.identity)),
                ("node", e.meter.node.map { .text($0) } ?? .null), ("event", .text(e.event)), ("class", .text(c)),
                ("alarm", .bool(alarm)), ("code", e.code.map { .text($0) } ?? .null), ("text", e.text.map { .text($0) } ?? .null),
                ("duration", e.duration.map { .amount(ExactAmount($0)) } ?? .null),
            ])
        }
    }
}
