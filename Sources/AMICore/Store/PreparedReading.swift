/// A parsed line as `Ingest.store(_:)` takes it: a reading made ready on the thread that parsed
/// it (by an `IngestPreparer`), or any other line as the reader gave it.
public enum IngestItem: Sendable {
    case reading(PreparedReading)
    /// An empty or all-blank line.
    case blank
    /// An event, a frame, a line of another type or one that did not parse (held in a box: these
    /// are rare in a stream of readings, and items stay small).
    indirect case line(Result<JSONLineReader.Line, DecodeError>)
}

/// A reading with everything worked out that needs no database: its stored time (on the
/// interval's grid), and the meter, source and channel key it goes to, gathered in a
/// `ReadingChannel` that every reading of one channel shares, so that the storing thread knows a
/// channel it has resolved before by identity, without comparing keys.
public struct PreparedReading: Sendable {
    let channel: ReadingChannel
    let time: IngestOptions.RecordTime
    /// Moved onto the interval's grid from further away than the time tolerance (flagged `clock`).
    let offGrid: Bool
    let value: ReadingValue
    let quality: [ReadingQuality]
    let frame: Int64
}

/// Where a reading goes: its meter (with what registering the meter and its source needs) and
/// its channel's key, as in the `channel` table.
final class ReadingChannel: Sendable, Hashable {
    let meter: String
    let medium: String?
    let protocolID: ProtocolID
    let source: String
    let quantity: Quantity
    let obis: String?
    let storage: Int?
    let tariff: Int?
    let subunit: Int?
    let function: RecordFunction?
    let unit: Unit?
    let note: String?
    /// Seconds; 0 for a register.
    let interval: Int

    init(_ r: Reading) {
        meter = r.meter
        medium = r.medium
        protocolID = r.provenance.protocolID
        source = r.provenance.source
        quantity = r.quantity
        obis = r.obis
        storage = r.storage
        tariff = r.tariff
        subunit = r.subunit
        function = r.function
        unit = r.unit
        note = r.note
        interval = r.interval ?? 0
    }

    /// True when `r` goes to this channel, from this source. (Strings a `JSONLineReader` read
    /// from the same bytes share their storage, and compare at once.)
    func holds(_ r: Reading) -> Bool {
        matches(meter: r.meter, medium: r.medium, protocolID: r.provenance.protocolID, source: r.provenance.source,
                quantity: r.quantity, obis: r.obis, storage: r.storage, tariff: r.tariff, subunit: r.subunit,
                function: r.function, unit: r.unit, note: r.note, interval: r.interval ?? 0)
    }

    static func == (a: ReadingChannel, b: ReadingChannel) -> Bool {
        a.matches(meter: b.meter, medium: b.medium, protocolID: b.protocolID, source: b.source, quantity: b.quantity,
                  obis: b.obis, storage: b.storage, tariff: b.tariff, subunit: b.subunit, function: b.function,
                  unit: b.unit, note: b.note, interval: b.interval)
    }

    /// Every field equal, the ones cheapest to compare and likeliest to differ first.
    @inline(__always)
    private func matches(meter: String, medium: String?, protocolID: ProtocolID, source: String, quantity: Quantity,
                         obis: String?, storage: Int?, tariff: Int?, subunit: Int?, function: RecordFunction?,
                         unit: Unit?, note: String?, interval: Int) -> Bool {
        guard self.interval == interval, self.storage == storage, self.tariff == tariff, self.subunit == subunit,
              self.function == function, self.protocolID == protocolID, self.meter == meter,
              self.source == source, self.quantity == quantity else { return false }
        return Self.same(self.obis, obis) && Self.same(self.note, note) && Self.same(self.medium, medium)
            && Self.same(self.unit, unit)
    }

    /// Hashes the fields that most often tell channels apart; `==` compares them all.
    func hash(into h: inout Hasher) {
        h.combine(meter)
        h.combine(quantity)
        h.combine(obis)
        h.combine(interval)
        h.combine(storage)
        h.combine(tariff)
    }

    @inline(__always)
    private static func same<T: Equatable>(_ a: T?, _ b: T?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case (let x?, let y?): return x == y
        default: return false
        }
    }
}

/// Makes `IngestItem`s of parsed lines, on whichever thread parses them: it checks each
/// reading's time against the options (none, or too far in the future), moves interval ends onto
/// their grid, and shares one `ReadingChannel` among the readings of a channel, whether they come
/// one after another (a meter's load profile) or with other channels' in between (every meter's
/// reading of one interval, then the next).
public struct IngestPreparer {
    let options: IngestOptions
    private var last: ReadingChannel?
    /// The channels met so far; forgotten all at once when `maxChannels` is reached, which costs
    /// the storing thread no more than a new lookup of each channel.
    private var known = Set<ReadingChannel>()
    static let maxChannels = 1 << 20

    public init(options: IngestOptions) { self.options = options }

    public mutating func item(_ parsed: consuming Result<JSONLineReader.Line, DecodeError>) -> IngestItem {
        switch consume parsed {
        case .success(.record(.reading(let r))): return .reading(prepare(r))
        case .success(.blank): return .blank
        case let line: return .line(line)
        }
    }

    mutating func prepare(_ r: Reading) -> PreparedReading {
        let channel: ReadingChannel
        if let c = last, c.holds(r) {
            channel = c
        } else {
            if known.count == Self.maxChannels { known.removeAll() }
            channel = known.insert(ReadingChannel(r)).memberAfterInsert
            last = channel
        }
        let (time, offGrid) = storedTime(r)
        return PreparedReading(channel: channel, time: time, offGrid: offGrid, value: r.value, quality: r.quality,
                               frame: Int64(r.provenance.frame))
    }

    /// When `r` is stored (`IngestOptions.recordTime`), an interval end whose interval divides the
    /// hour moved to the nearest point of its grid; and whether it was further from it than the
    /// time tolerance.
    private func storedTime(_ r: Reading) -> (IngestOptions.RecordTime, offGrid: Bool) {
        let time = options.recordTime(r.time)
        guard case .at(let t) = time, let interval = r.interval, 3600 % interval == 0 else { return (time, false) }
        let period = Int64(interval) * 1000
        let rem = ((t.milliseconds % period) + period) % period
        guard rem > 0 else { return (time, false) }
        let snapped = rem * 2 < period ? t.milliseconds - rem : t.milliseconds + period - rem
        return (.at(UTCTime(milliseconds: snapped)), min(rem, period - rem) > options.config.timeTolerance * 1000)
    }
}
