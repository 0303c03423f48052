/// What a decoder knows when it turns data sets into readings.
struct TextReadingContext: Sendable {
    var meter: String
    var medium: String?
    /// The time of values that carry none of their own (the telegram's clock, else the receive time).
    var time: UTCTime?
    /// The zone of timestamps without `W`/`S`.
    var zone: LocalTimeZone
    /// Decode identifiers sent as hex ASCII (DSMR).
    var hexIdentifiers: Bool
    var provenance: Provenance
}

/// Data sets to readings, shared by the DSMR and IEC 62056-21 decoders.
enum TextReadings {
    /// The reading of one value group, its quantity as `meaning` says.
    static func reading(_ group: ValueGroup, meaning: OBISMeaning, obis: String, record: Int, time: UTCTime?,
                        notes: [String], context: TextReadingContext) -> Reading {
        let (value, unit, valueNote) = TextValue.read(group, as: meaning.kind, hexIdentifiers: context.hexIdentifiers)
        var quantity = meaning.quantity
        var tariff = meaning.tariff
        var function = meaning.function
        var meaningNote = meaning.note
        if meaning.mbusValue {
            quantity = mbusQuantity(unit: unit, medium: context.medium)
        } else if let expected = meaning.unit, group.unit != nil, unit != expected {
            // A unit the code's quantity cannot have (a Kamstrup heat meter's `6.8(…*GJ)`).
            quantity = .register
            tariff = nil
            function = nil
            meaningNote = nil
        }
        let allNotes = [meaningNote].compactMap { $0 } + notes + [valueNote].compactMap { $0 }
        return Reading(meter: context.meter, medium: context.medium, quantity: quantity, obis: obis, value: value,
                       unit: unit, time: time, tariff: tariff, function: function, record: record,
                       note: allNotes.isEmpty ? nil : allNotes.joined(separator: "; "), provenance: context.provenance)
    }

    /// The value of an M-Bus channel (`0-n:24.2.x`): by its unit, else by the channel's medium.
    static func mbusQuantity(unit: Unit?, medium: String?) -> Quantity {
        switch unit {
        case Unit.cubicMetre?: return .volume
        case Unit.wattHour?, Unit.joule?: return .energy
        case nil:
            switch medium {
            case "gas"?, "water"?, "warm_water"?, "hot_water"?, "cold_water"?: return .volume
            case "heat"?, "heat_outlet"?, "heat_inlet"?, "cooling"?, "cooling_load_outlet"?, "cooling_load_inlet"?,
                 "heat_cooling_load"?, "electricity"?: return .energy
            default: return .register
            }
        default: return .register
        }
    }

    /// The time a timestamp group gives, or nil with a note when it names no valid time.
    static func time(of group: ValueGroup, zone: LocalTimeZone, notes: inout [String]) -> UTCTime? {
        let raw = group.value.trimmingSpaces
        guard let t = TextTimestamp.parse(raw, zone: zone) else {
            notes.append("invalid timestamp \(raw)")
            return nil
        }
        return t
    }

    /// The readings of a data set without a structure of its own: one value; a timestamp, then
    /// values (`0-1:24.2.1(101209112500W)(12785.123*m3)`, `1-0:1.6.0(…S)(02.589*kW)`); a value, then a
    /// timestamp (`1.6.0(05.432*kW)(2403011215)`); or several values, each a reading whose note says
    /// which it is. The clock `0-0:1.0.0` is the ISO 8601 text of its instant.
    static func generic(_ set: DataSet, code: OBISAddress?, record: Int, context: TextReadingContext,
                        into out: inout DecodeOutput) {
        let meaning = OBISTable.meaning(of: code)
        var groups = set.groups[...]
        var time = context.time
        var notes: [String] = []
        if groups.count >= 2, let first = groups.first, TextTimestamp.looksLikeTimestamp(first.value.trimmingSpaces) {
            time = self.time(of: first, zone: context.zone, notes: &notes)
            groups = groups.dropFirst()
        } else if groups.count == 2, let last = groups.last, TextTimestamp.looksLikeTimestamp(last.value.trimmingSpaces) {
            time = self.time(of: last, zone: context.zone, notes: &notes)
            groups = groups.dropLast()
        }
        if meaning.isClock, groups.count == 1, let g = groups.first {
            let raw = g.value.trimmingSpaces
            var value = ReadingValue.text(raw)
            if let t = TextTimestamp.parse(raw, zone: context.zone) {
                value = .text(t.description)
                time = t
            } else {
                notes.append("invalid timestamp")
            }
            out.records.append(.reading(Reading(
                meter: context.meter, medium: context.medium, quantity: meaning.quantity, obis: set.address,
                value: value, time: time, record: record, note: notes.isEmpty ? nil : notes.joined(separator: "; "),
                provenance: context.provenance)))
            return
        }
        for (n, g) in groups.enumerated() {
            var ns = notes
            if groups.count > 1 { ns.append("value \(n + 1) of \(groups.count)") }
            out.records.append(.reading(reading(g, meaning: meaning, obis: set.address, record: record, time: time,
                                                notes: ns, context: context)))
        }
    }
}
