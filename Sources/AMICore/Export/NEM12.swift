import Foundation

/// AEMO Meter Data File Format (MDFF) NEM12 interval data, and NEM13 accumulation reads, as
/// "Meter Data File Format Specification NEM12 & NEM13" (AEMO, v2.x) defines them: CSV records
/// 100 header, 200 NMI data details, 300 interval data, 400 interval event, 500 B2B details,
/// 900 end (NEM13: 250 accumulation meter data, 550 B2B details).
///
/// In ami's terms an interval value is a reading: `meter` the NMI, `quantity` from the NMI
/// suffix's first character (E energy, B energy_export, Q reactive_energy, K
/// reactive_energy_export, V voltage), the value in base units (kWh → Wh exactly), `time` the end
/// of the interval in UTC (NEM12 dates are in the market's standard time, UTC+10 by default),
/// `interval` its length in seconds, `note` the suffix followed, when the quality is not `A`, by
/// the quality method and reason code (`E1 F14 76`), and `quality` the IEC 61968-9 code of the
/// flag (S and F substitutes 3.8.0 estimated, E forward estimates 3.12.0 projected). Null (N)
/// intervals have no reading.
public enum NEM12 {
    /// Quantity and unit of an NMI suffix and UOM; `scale` moves the value to the base unit.
    static func channel(suffix: String, uom: String) -> (Quantity, Unit?, scale: Int)? {
        let quantity: Quantity
        switch suffix.first.map({ Character($0.uppercased()) }) {
        case "E": quantity = .energy
        case "B": quantity = .energyExport
        case "Q": quantity = .reactiveEnergy
        case "K": quantity = .reactiveEnergyExport
        case "V": quantity = .voltage
        default: return nil
        }
        let u = uom.lowercased()
        switch u {
        case "wh": return (quantity, .wattHour, 0)
        case "kwh": return (quantity, .wattHour, 3)
        case "mwh": return (quantity, .wattHour, 6)
        case "varh": return (quantity, .varHour, 0)
        case "kvarh": return (quantity, .varHour, 3)
        case "mvarh": return (quantity, .varHour, 6)
        case "vah": return (quantity, .voltAmpereHour, 0)
        case "kvah": return (quantity, .voltAmpereHour, 3)
        case "v": return (quantity, .volt, 0)
        case "kv": return (quantity, .volt, 3)
        case "": return quantity == .voltage ? (quantity, .volt, 0) : nil
        default: return nil
        }
    }

    /// The IEC 61968-9 quality codes of a NEM12 quality flag.
    static func quality(_ method: String) -> [ReadingQuality] {
        switch method.first {
        case "S", "F": return [ReadingQuality(3, 8, 0)]
        case "E": return [ReadingQuality(3, 12, 0)]
        default: return []
        }
    }
}

/// Reads NEM12 (and NEM13 250 records) fed record by record, handing each reading over. A
/// malformed record is reported with its line and skipped together with the records that depend
/// on it (the 300s of a bad 200, the 400s of a bad 300); a file without its 100 header is refused
/// whole.
public final class NEM12Reader {
    public struct Failure: Error, CustomStringConvertible {
        public let line: Int
        public let description: String
    }

    private let source: String
    private let offsetMs: Int64
    private var header: String?
    private var refused = false
    private var channel: (nmi: String, suffix: String, quantity: Quantity, unit: Unit?, scale: Int, minutes: Int)?
    private var badChannel = false
    /// A 300 record whose quality is V, waiting for its 400 records.
    private var pending: (date: Int, values: [ExactDecimal?], line: Int)?
    private var pendingQuality: [(method: String, reason: String)?] = []
    private var badDay = false
    private var frame = 0

    public init(source: String, offsetMinutes: Int = 600) {
        self.source = source
        offsetMs = Int64(offsetMinutes) * 60_000
    }

    /// One CSV record (its fields and line).
    public func record(_ fields: [String], line: Int, _ emit: (Reading) -> Void) throws {
        guard !refused else { return }
        let kind = fields.first?.trimmingCharacters(in: .whitespaces) ?? ""
        if kind != "400" { try flush(emit) }
        if header == nil && kind != "100" {
            refused = true
            throw Failure(line: line, description: "no 100 header record: not a NEM12 or NEM13 file")
        }
        switch kind {
        case "100":
            guard fields.count >= 2, fields[1] == "NEM12" || fields[1] == "NEM13" else {
                refused = true
                throw Failure(line: line, description: "100 header names \"\(fields.count > 1 ? fields[1] : "")\", not NEM12 or NEM13")
            }
            header = fields[1]
        case "200":
            channel = nil
            badChannel = true
            guard fields.count >= 9 else { throw Failure(line: line, description: "200 record has \(fields.count) fields, not 10") }
            let suffix = fields[4], uom = fields[7]
            guard let (q, u, scale) = NEM12.channel(suffix: suffix, uom: uom) else {
                throw Failure(line: line, description: "200 record: NMI suffix \"\(suffix)\" with UOM \"\(uom)\" is not a channel ami knows")
            }
            guard let minutes = Int(fields[8]), [1, 5, 10, 15, 30].contains(minutes) else {
                throw Failure(line: line, description: "200 record: IntervalLength \"\(fields[8])\" is not 1, 5, 10, 15 or 30")
            }
            guard !fields[1].isEmpty else { throw Failure(line: line, description: "200 record without an NMI") }
            channel = (fields[1], suffix, q, u, scale, minutes)
            badChannel = false
        case "300":
            guard let ch = channel else {
                if badChannel { return }
                throw Failure(line: line, description: "300 record without a 200 record before it")
            }
            badDay = true
            let n = 1440 / ch.minutes
            guard fields.count >= 2, let date = NEM12Reader.date(fields[1]) else {
                throw Failure(line: line, description: "300 record: IntervalDate \"\(fields.count > 1 ? fields[1] : "")\" is not YYYYMMDD")
            }
            var count = 0
            while 2 + count < fields.count, NEM12Reader.isNumber(fields[2 + count]) { count += 1 }
            guard count == n else {
                throw Failure(line: line, description: "300 record has \(count) interval values; the 200 record's IntervalLength \(ch.minutes) wants \(n)")
            }
            guard fields.count >= 2 + n + 1 else { throw Failure(line: line, description: "300 record without QualityMethod") }
            let method = fields[2 + n], reason = fields.count > 3 + n ? fields[3 + n] : ""
            var values: [ExactDecimal?] = []
            values.reserveCapacity(n)
            for k in 0..<n {
                guard let v = ExactDecimal(fields[2 + k]) else {
                    throw Failure(line: line, description: "300 record: interval \(k + 1) value \"\(fields[2 + k])\" is not exact")
                }
                values.append(v)
            }
            badDay = false
            pending = (date, values, line)
            if method == "V" {
                pendingQuality = Array(repeating: nil, count: n)
            } else {
                guard ["A", "E", "F", "N", "S"].contains(method.prefix(1)) else {
                    badDay = true
                    pending = nil
                    throw Failure(line: line, description: "300 record: QualityMethod \"\(method)\" is not A, E, F, N, S or V")
                }
                pendingQuality = Array(repeating: (method, reason), count: n)
                try flush(emit)
            }
        case "400":
            guard pending != nil else {
                if badDay || badChannel { return }
                throw Failure(line: line, description: "400 record without a 300 record of quality V before it")
            }
            guard fields.count >= 4, let from = Int(fields[1]), let to = Int(fields[2]), from >= 1, from <= to,
                  to <= pendingQuality.count else {
                pending = nil
                badDay = true
                throw Failure(line: line, description: "400 record: intervals \(fields.count > 2 ? fields[1] + "–" + fields[2] : "?") are not within 1–\(pendingQuality.count)")
            }
            let reason = fields.count > 4 ? fields[4] : ""
            for k in (from - 1)..<to { pendingQuality[k] = (fields[3], reason) }
        case "250":
            guard header == "NEM13" else { throw Failure(line: line, description: "250 record in a NEM12 file") }
            try accumulation(fields, line: line, emit)
        case "500", "550", "900": break
        default:
            throw Failure(line: line, description: "unknown record indicator \"\(kind)\"")
        }
    }

    /// Ends the input: a V day still waiting for 400 records is checked and written.
    public func finish(_ emit: (Reading) -> Void) throws { try flush(emit) }

    private func flush(_ emit: (Reading) -> Void) throws {
        guard let day = pending, let ch = channel else { return }
        pending = nil
        if let missing = pendingQuality.firstIndex(where: { $0 == nil }) {
            throw Failure(line: day.line, description: "300 record of quality V: no 400 record covers interval \(missing + 1)")
        }
        let lengthMs = Int64(ch.minutes) * 60_000
        let dayStart = Int64(day.date) * 86_400_000 - offsetMs
        for (k, v) in day.values.enumerated() {
            let (method, reason) = pendingQuality[k]!
            guard let v, method != "N" else { continue }
            var note = ch.suffix
            if method != "A" {
                note += " " + method
                if !reason.isEmpty { note += " " + reason }
            }
            emit(Reading(meter: ch.nmi, medium: "electricity", quantity: ch.quantity,
                         value: .number(v.scaled(byPowerOfTen: ch.scale)), unit: ch.unit,
                         time: UTCTime(milliseconds: dayStart + Int64(k + 1) * lengthMs),
                         note: note, interval: ch.minutes * 60, quality: NEM12.quality(method),
                         provenance: Provenance(protocolID: .nem12, source: source, frame: frame)))
        }
        frame += 1
    }

    /// NEM13 250: the previous and current register reads of an accumulation meter.
    private func accumulation(_ fields: [String], line: Int, _ emit: (Reading) -> Void) throws {
        guard fields.count >= 20 else { throw Failure(line: line, description: "250 record has \(fields.count) fields, not 23") }
        let direction = fields[7]
        let quantity: Quantity = direction == "B" ? .energyExport : .energy
        guard let (_, unit, scale) = NEM12.channel(suffix: "E", uom: fields[19]) else {
            throw Failure(line: line, description: "250 record: UOM \"\(fields[19])\" is not one ami knows")
        }
        var readings: [Reading] = []
        for (valueAt, timeAt, methodAt) in [(8, 9, 10), (13, 14, 15)] {
            guard let v = ExactDecimal(fields[valueAt].trimmingCharacters(in: .whitespaces)),
                  let t = dateTime(fields[timeAt].trimmingCharacters(in: .whitespaces)) else {
                throw Failure(line: line, description: "250 record: register read \"\(fields[valueAt])\" at \"\(fields[timeAt])\" is not a number and a YYYYMMDDhhmmss time")
            }
            let method = fields[methodAt]
            var note = fields[4]
            if method != "A" && !method.isEmpty { note += " " + method }
            readings.append(Reading(meter: fields[1], medium: "electricity", quantity: quantity,
                                    value: .number(v.scaled(byPowerOfTen: scale)), unit: unit, time: t, note: note,
                                    quality: NEM12.quality(method),
                                    provenance: Provenance(protocolID: .nem12, source: source, frame: frame)))
        }
        readings.forEach(emit)
        frame += 1
    }

    /// Days since 1970-01-01 of `YYYYMMDD`.
    static func date(_ s: String) -> Int? {
        let b = Array(s.utf8)
        guard b.count == 8, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(s) else { return nil }
        let y = n / 10_000, m = n / 100 % 100, d = n % 100
        guard UTCTime(year: y, month: m, day: d) != nil else { return nil }
        return CivilDate.daysFromCivil(year: y, month: m, day: d)
    }

    /// `YYYYMMDDhhmmss` in the market's time, as UTC.
    func dateTime(_ s: String) -> UTCTime? {
        let b = Array(s.utf8)
        guard b.count == 14, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let days = NEM12Reader.date(String(s.prefix(8))),
              let h = Int(s.dropFirst(8).prefix(2)), let mi = Int(s.dropFirst(10).prefix(2)), let sec = Int(s.suffix(2)),
              h < 24, mi < 60, sec < 60 else { return nil }
        return UTCTime(milliseconds: Int64(days) * 86_400_000 + Int64(h * 3600 + mi * 60 + sec) * 1000 - offsetMs)
    }

    static func isNumber(_ s: String) -> Bool {
        guard let f = s.utf8.first else { return false }
        return (f >= 0x30 && f <= 0x39) || f == 0x2D || f == 0x2E
    }
}

/// Writes readings as NEM12: one 200 record per NMI and suffix, a 300 record per day with every
/// interval (null `N` with 0 where no reading came), quality `V` with 400 records when a day mixes
/// qualities. The readings are gathered first (a 200 record's days must be together), so memory
/// grows with the readings written.
public final class NEM12Writer {
    public struct Refusal: Error, CustomStringConvertible {
        public let description: String
    }

    private struct ChannelKey: Hashable {
        var nmi: String
        var suffix: String
        var uom: String
        var minutes: Int
    }

    private struct Interval {
        var value: ExactDecimal
        var method: String
        var reason: String
    }

    private let out: BlockWriter
    private let offsetMs: Int64
    private let from: String
    private let to: String
    private let created: UTCTime
    private var order: [ChannelKey] = []
    private var channels: [ChannelKey: [Int: [Int: Interval]]] = [:]

    public init(sink: ByteSink, offsetMinutes: Int = 600, from: String = "AMI", to: String = "AMI",
                created: UTCTime = .now()) {
        out = BlockWriter(sink: sink)
        offsetMs = Int64(offsetMinutes) * 60_000
        self.from = from
        self.to = to
        self.created = created
    }

    public func reading(_ r: Reading) throws {
        let letter: String
        switch r.quantity {
        case .energy: letter = "E"
        case .energyExport: letter = "B"
        case .reactiveEnergy: letter = "Q"
        case .reactiveEnergyExport: letter = "K"
        case .voltage: letter = "V"
        default: throw Refusal(description: "NEM12 has no channel for quantity \(r.quantity.rawValue)")
        }
        guard let seconds = r.interval, seconds % 60 == 0, [1, 5, 10, 15, 30].contains(seconds / 60) else {
            throw Refusal(description: "NEM12 holds interval readings of 1, 5, 10, 15 or 30 minutes; this one has \(r.interval.map { "interval \($0)" } ?? "no interval")")
        }
        guard let time = r.time else { throw Refusal(description: "reading without time") }
        guard case .number(var value) = r.value else { throw Refusal(description: "NEM12 holds numbers; this reading has text") }
        let uom: String
        switch r.unit?.rawValue {
        case "Wh": uom = "kWh"; value = value.scaled(byPowerOfTen: -3)
        case "varh": uom = "kVArh"; value = value.scaled(byPowerOfTen: -3)
        case "VAh": uom = "kVAh"; value = value.scaled(byPowerOfTen: -3)
        case "V": uom = "V"
        default: throw Refusal(description: "NEM12 has no UOM for unit \(r.unit?.rawValue ?? "none")")
        }
        // The note of a reading read from NEM12: suffix, then quality method and reason code.
        let words = (r.note ?? "").split(separator: " ").map(String.init)
        var suffix = letter + "1"
        var method = r.quality.contains { $0.category == 8 } ? "S" : r.quality.contains { $0.category == 12 } ? "E" : "A"
        var reason = ""
        if let first = words.first, first.count == 2, first.hasPrefix(letter) {
            suffix = first
            if words.count > 1 { method = words[1] }
            if words.count > 2 { reason = words[2] }
        }
        let lengthMs = Int64(seconds) * 1000
        let end = time.milliseconds + offsetMs
        let start = end - lengthMs
        guard start % lengthMs == 0 else {
            throw Refusal(description: "interval ending \(time) is not aligned to \(seconds / 60)-minute intervals of the NEM12 day")
        }
        let day = Int((start - (start % 86_400_000 + 86_400_000) % 86_400_000) / 86_400_000)
        let index = Int((start - Int64(day) * 86_400_000) / lengthMs)
        let key = ChannelKey(nmi: r.meter, suffix: suffix, uom: uom, minutes: seconds / 60)
        if channels[key] == nil { order.append(key) }
        channels[key, default: [:]][day, default: [:]][index] = Interval(value: value, method: method, reason: reason)
    }

    public func finish() throws {
        let c = UTCTime(milliseconds: created.milliseconds + offsetMs).civil
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(c.year)\(two(c.month))\(two(c.day))\(two(c.hour))\(two(c.minute))"
        out.append("100,NEM12,\(stamp),\(from),\(to)\r\n")
        var configuration: [String: String] = [:]
        for key in order where !(configuration[key.nmi] ?? "").contains(key.suffix) {
            configuration[key.nmi, default: ""] += key.suffix
        }
        for key in order {
            out.append("200,\(key.nmi),\(configuration[key.nmi]!),,\(key.suffix),,,\(key.uom),\(key.minutes),\r\n")
            let n = 1440 / key.minutes
            for (day, intervals) in channels[key]!.sorted(by: { $0.key < $1.key }) {
                let (y, m, d) = CivilDate.civilFromDays(day)
                out.append("300,\(y)\(two(m))\(two(d))")
                var qualities: [(String, String)] = []
                for k in 0..<n {
                    let iv = intervals[k]
                    out.append(",")
                    out.append(iv?.value.description ?? "0")
                    qualities.append(iv.map { ($0.method, $0.reason) } ?? ("N", ""))
                }
                let mixed = qualities.contains { $0 != qualities[0] }
                let (method, reason) = mixed ? ("V", "") : qualities[0]
                out.append(",\(method),\(reason),,\(stamp)00,\r\n")
                if mixed {
                    var k = 0
                    while k < n {
                        var j = k
                        while j + 1 < n && qualities[j + 1] == qualities[k] { j += 1 }
                        out.append("400,\(k + 1),\(j + 1),\(qualities[k].0),\(qualities[k].1),\r\n")
                        k = j + 1
                    }
                }
                try out.flushIfFull()
            }
        }
        out.append("900\r\n")
        try out.flush()
    }
}
