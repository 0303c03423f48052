import CSQLite
import Foundation
@testable import AMICore

/// A fresh ami-store database in a temporary folder, fed with JSON lines as `ami-store ingest` is.
final class StoreFixture {
    let path: String
    let store: MeterStore
    var config: VEEConfig
    /// Lines refused by the last `ingest`, as "LINE: message".
    var rejected: [String] = []

    init(config: VEEConfig = VEEConfig()) throws {
        path = makeTemporaryDirectory("ami-store") + "/t.db"
        store = try MeterStore(path: path, who: "test")
        self.config = config
    }

    /// Ingests `lines` in one run (then VEE unless `vee` is false) and returns the summaries.
    @discardableResult
    func ingest(_ lines: [String], unknownMeters: UnknownMeterPolicy = .register, readTime: UTCTime? = nil,
                now: UTCTime = UTCTime(iso8601: "2026-12-01T00:00:00Z")!, chunkSize: Int = 3,
                vee: Bool = true) throws -> (IngestSummary, VEESummary) {
        var options = IngestOptions()
        options.unknownMeters = unknownMeters
        options.readTime = readTime
        options.now = now
        options.chunkSize = chunkSize
        options.config = config
        let run = try store.beginRun(command: "test")
        let ingest = Ingest(store: store, options: options, run: run)
        rejected = []
        for (n, line) in lines.enumerated() {
            var bytes = Array(line.utf8)
            do {
                try bytes.withUnsafeMutableBufferPointer { try ingest.ingest(line: UnsafeBufferPointer($0), source: "stdin") }
            } catch let r as Ingest.Rejection {
                rejected.append("\(n + 1): \(r.message)")
            }
        }
        try ingest.commit()
        try ingest.finish()
        let v = vee ? try Validation(store: store, config: config, run: run).runPending() : VEESummary()
        try store.finishRun(run, failed: false, summary: "{}")
        return (ingest.summary, v)
    }

    /// The stored readings (all meters, or `meter` and its predecessors) as written by `query`.
    func query(_ meter: String? = nil, kinds: Set<QueryFilter.Kind> = [.reading]) throws -> [Record] {
        var f = QueryFilter()
        f.kinds = kinds
        if let meter { f.meters = [meter] }
        var out: [Record] = []
        try store.query(f) { out.append($0) }
        return out
    }

    /// `time value [codes]` of each stored reading of `quantity`, in time order, for compact expectations.
    func series(_ quantity: String = "energy", meter: String? = nil) throws -> [String] {
        try query(meter).compactMap { r -> String? in
            guard case .reading(let x) = r, x.quantity.rawValue == quantity else { return nil }
            var s = "\(x.time!) "
            switch x.value {
            case .number(let d): s += d.description
            case .text(let t): s += t
            }
            if !x.quality.isEmpty { s += " " + x.quality.map(\.description).joined(separator: ",") }
            return s
        }
    }

    /// Every row of `table`, as text, in key order (to compare database states).
    func dump(_ table: String) throws -> [String] {
        let s = try store.db.statement("SELECT * FROM \(table) ORDER BY 1, 2")
        var rows: [String] = []
        while try s.step() {
            let n = sqlite3ColumnCount(s)
            rows.append((0..<n).map { s.isNull($0) ? "NULL" : (s.text($0) ?? "") }.joined(separator: "|"))
        }
        return rows
    }

    func count(_ sql: String) throws -> Int64 { try store.db.scalar(sql) ?? -1 }
}

func sqlite3ColumnCount(_ s: SQLiteStatement) -> Int32 { sqlite3_column_count(s.stmt) }

/// A reading JSON line.
func readingLine(_ meter: String = "M1", quantity: String = "energy", obis: String? = nil, value: String, unit: String? = "Wh",
                 time: String, interval: Int? = nil, tariff: Int? = nil, quality: [String] = [], text: Bool = false) -> String {
    var s = #"{"type":"reading","v":1,"meter":"\#(meter)","quantity":"\#(quantity)""#
    if let o = obis { s += #","obis":"\#(o)""# }
    s += text ? #","text":"\#(value)""# : #","value":\#(value)"#
    if let u = unit { s += #","unit":"\#(u)""# }
    s += #","time":"\#(time)""#
    if let i = interval { s += #","interval":\#(i)"# }
    if let t = tariff { s += #","tariff":\#(t)"# }
    if !quality.isEmpty { s += #","quality":["# + quality.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
    return s + #","protocol":"mbus","source":"test","frame":0}"#
}

/// ISO 8601 text of `start` plus `minutes`.
func at(_ start: String, plusMinutes minutes: Int) -> String {
    UTCTime(milliseconds: UTCTime(iso8601: start)!.milliseconds + Int64(minutes) * 60_000).description
}

/// 15-minute interval lines of `values`, the first ending at `start`; nil values are left out (gaps).
func intervalLines(_ meter: String = "M1", start: String, values: [Int?], interval: Int = 900) -> [String] {
    values.enumerated().compactMap { i, v in
        v.map { readingLine(meter, value: String($0), time: at(start, plusMinutes: i * interval / 60), interval: interval) }
    }
}
