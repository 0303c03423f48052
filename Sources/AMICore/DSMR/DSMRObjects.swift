/// The medium of a DSMR M-Bus channel from its device type `0-n:24.1.0` (DSMR P1 5.0.2 data objects:
/// the EN 13757-3 device type code, sent in decimal: 3 gas, 4 heat, 7 water, …), named as M-Bus names it.
enum DSMRMBusMedium {
    static func medium(deviceType: Int) -> String? {
        (0..<MBusHeader.mediumNames.count).contains(deviceType) ? MBusHeader.mediumNames[deviceType] : nil
    }
}

/// A profile generic buffer as P1 telegrams send it: `(entries)(OBIS 1)…(OBIS k)`, then per entry a
/// timestamp and k values (DSMR P1 5.0.2 power failure event log `1-0:99.97.0`, e-MUCS P1 1.7.1
/// monthly peak history `0-0:98.1.0`).
struct DSMRProfileBuffer: Sendable {
    /// The entry count the telegram states.
    var declared: Int
    /// The OBIS codes of the captured values.
    var captured: [String]
    /// Complete entries: timestamp, then one group per captured value.
    var entries: [ArraySlice<ValueGroup>]
    /// Groups after the last complete entry.
    var leftover: Int

    /// Nil when `groups` do not start with a count and at least one OBIS code.
    init?(_ groups: [ValueGroup]) {
        guard groups.count >= 2 else { return nil }
        let count = groups[0].value.trimmingSpaces
        guard !count.isEmpty, count.count <= 5, count.allSatisfy({ $0 >= "0" && $0 <= "9" }), let n = Int(count) else { return nil }
        var k = 1
        while k < groups.count, let o = OBISAddress(groups[k].value), o.a != nil { k += 1 }
        guard k > 1 else { return nil }
        declared = n
        captured = groups[1..<k].map { $0.value.trimmingSpaces }
        let size = 1 + captured.count
        var entries: [ArraySlice<ValueGroup>] = []
        var i = k
        while i + size <= groups.count {
            entries.append(groups[i..<(i + size)])
            i += size
        }
        self.entries = entries
        leftover = groups.count - i
    }

    /// A warning when the entries found are not what the count says.
    func check(_ set: DataSet, layer: DecodeLayer) -> DecodeError? {
        guard declared != entries.count || leftover != 0 else { return nil }
        return DecodeError(layer, at: set.offset, .malformed,
                           "\(set.address) states \(declared) entries and holds \(entries.count)"
                           + (leftover > 0 ? " and \(leftover) more value groups" : ""))
    }
}

/// The DSMR objects with a structure of their own.
enum DSMRObjects {
    /// The power failure event log `1-0:99.97.0(n)(0-0:96.7.19)(end time)(duration*s)…` (DSMR P1 5.0.2): one `power_failure` event per entry, at the end of the failure, with its duration in
    /// seconds. The count itself is not a reading (the events carry it).
    static func powerFailures(_ set: DataSet, _ buffer: DSMRProfileBuffer, context: TextReadingContext,
                              into out: inout DecodeOutput) {
        if let w = buffer.check(set, layer: .dsmr) { out.warnings.append(w) }
        for entry in buffer.entries {
            guard let stamp = entry.first else { continue }
            var notes: [String] = []
            let time = TextReadings.time(of: stamp, zone: context.zone, notes: &notes)
            var duration: ExactDecimal? = nil
            if let d = entry.dropFirst().first {
                if let n = TextValue.number(d.value), let (seconds, unit) = TextUnit.convert(n, d.unit ?? "s"),
                   unit == .second {
                    duration = seconds
                } else {
                    notes.append("duration \(d.value.trimmingSpaces)" + (d.unit.map { "*\($0)" } ?? ""))
                }
            }
            out.records.append(.event(Event(meter: context.meter, event: "power_failure",
                                            text: notes.isEmpty ? nil : notes.joined(separator: "; "),
                                            time: time, duration: duration, provenance: context.provenance)))
        }
    }

    /// Any other profile buffer, such as the e-MUCS monthly peak history
    /// `0-0:98.1.0(n)(1-0:1.6.0)(1-0:1.6.0)(period)(time of peak)(peak*kW)…`: a reading per captured
    /// value that is not a timestamp, its quantity that of the captured OBIS code, its time the
    /// timestamp value before it (the time of the peak), else the entry's period; the note gives the
    /// period.
    static func history(_ set: DataSet, _ buffer: DSMRProfileBuffer, record: Int, context: TextReadingContext,
                        into out: inout DecodeOutput) {
        if let w = buffer.check(set, layer: .dsmr) { out.warnings.append(w) }
        for entry in buffer.entries {
            guard let stamp = entry.first else { continue }
            var notes: [String] = []
            let period = TextReadings.time(of: stamp, zone: context.zone, notes: &notes)
            if let p = period { notes.append("period \(p)") }
            var valueTime: UTCTime? = nil
            var valueNotes: [String] = []
            for (i, g) in entry.dropFirst().enumerated() {
                if TextTimestamp.looksLikeTimestamp(g.value.trimmingSpaces) {
                    valueNotes.removeAll()
                    valueTime = TextReadings.time(of: g, zone: context.zone, notes: &valueNotes)
                    continue
                }
                let code = i < buffer.captured.count ? OBISAddress(buffer.captured[i]) : nil
                out.records.append(.reading(TextReadings.reading(
                    g, meaning: OBISTable.meaning(of: code), obis: set.address, record: record,
                    time: valueTime ?? period, notes: notes + valueNotes, context: context)))
            }
        }
    }

    /// The hourly value of DSMR 2.2/3 M-Bus channels,
    /// `0-n:24.3.0(time)(status)(period)(k)(OBIS 1)(unit 1)…(OBIS k)(unit k)` with the k values in
    /// groups of their own, usually on the next line (DSMR P1 3.0). False when the groups do not
    /// have that shape.
    static func hourlyValues(_ set: DataSet, record: Int, context: TextReadingContext, into out: inout DecodeOutput) -> Bool {
        let g = set.groups
        guard g.count >= 7, TextTimestamp.looksLikeTimestamp(g[0].value.trimmingSpaces),
              let k = Int(g[3].value.trimmingSpaces), k >= 1, k <= 16, g.count == 4 + 3 * k else { return false }
        var notes: [String] = []
        let time = TextReadings.time(of: g[0], zone: context.zone, notes: &notes)
        let status = g[1].value.trimmingSpaces
        if status.contains(where: { $0 != "0" }) { notes.append("status \(status)") }
        for i in 0..<k {
            let code = OBISAddress(g[4 + 2 * i].value)
            let unit = g[5 + 2 * i].value.trimmingSpaces
            var value = g[4 + 2 * k + i]
            if value.unit == nil && !unit.isEmpty { value.unit = unit }
            out.records.append(.reading(TextReadings.reading(
                value, meaning: OBISTable.meaning(of: code), obis: set.address, record: record, time: time,
                notes: notes, context: context)))
        }
        return true
    }
}
