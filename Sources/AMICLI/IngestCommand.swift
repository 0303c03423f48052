#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AMICore
import Foundation

/// The body of `ami-store ingest`, callable in-process: reads JSON lines from each input into the
/// store, reports each bad line as `ami-store: NAME:LINE: message`, runs VEE on what changed, and
/// writes the summary to stderr. Returns 65 when a line was refused, 75 when the database stayed
/// busy, 66 when an input could not be read.
public enum IngestCommand {
    public struct Settings {
        public var options = IngestOptions()
        public var strict = false
        public var vee = true
        public var summaryJSON = false
        public var command = "ami-store ingest"
        public init() {}
    }

    public static func run(store: MeterStore, inputs: [InputFile], settings: Settings,
                           diagnostics: Diagnostics) -> ExitStatus {
        var status = ExitStatus.ok
        let run: Int64
        do {
            run = try store.beginRun(command: settings.command)
        } catch {
            return fatal(error, store: store, diagnostics: diagnostics)
        }
        let ingest = Ingest(store: store, options: settings.options, run: run)
        // Two threads: one reads, parses and prepares the lines, this one stores them.
        let batches = ParsedBatches()
        let options = settings.options
        let reader = Thread { batches.produce(inputs, options: options) }
        reader.stackSize = 1 << 22
        reader.name = "ami-store-parse"
        reader.start()
        var failure: Error?
        var stopped = false
        var lineNumber = 0
        while failure == nil, !stopped, var batch = batches.take() {
            let input = inputs[batch.input]
            do {
                // Each item is moved out of the batch (a blank left in its place), not copied.
                try batch.items.withUnsafeMutableBufferPointer { items in
                    for i in items.indices {
                        var item = IngestItem.blank
                        swap(&item, &items[i])
                        lineNumber += 1
                        do {
                            try ingest.store(consume item)
                        } catch let r as Ingest.Rejection {
                            diagnostics.report("\(input.displayName):\(lineNumber)", r.message)
                            status = max(status, .dataError)
                            if settings.strict {
                                stopped = true
                                break
                            }
                        }
                        if lineNumber % 100_000 == 0 { diagnostics.progress("\(input.displayName): \(lineNumber) lines") }
                    }
                }
                if stopped {
                    batches.stop()
                    break
                }
                if batch.idle { try ingest.commit() }
            } catch {
                failure = error
                batches.stop()
                break
            }
            if batch.end {
                if let f = batch.failure {
                    diagnostics.report(input.displayName, f)
                    status = max(status, .noInput)
                }
                lineNumber = 0
            }
        }
        batches.waitForProducer()
        diagnostics.clearProgress()
        var vee = VEESummary()
        do {
            if let failure { throw failure }
            try ingest.commit()
            try ingest.finish()
            if settings.vee { vee = try Validation(store: store, config: settings.options.config, run: run).runPending() }
        } catch {
            try? ingest.abandon()
            let s = fatal(error, store: store, diagnostics: diagnostics)
            try? store.finishRun(run, failed: true, summary: StoreReport.json(ingest.summary, vee))
            return max(status, s)
        }
        do {
            try store.finishRun(run, failed: false, summary: StoreReport.json(ingest.summary, vee))
        } catch {
            return max(status, fatal(error, store: store, diagnostics: diagnostics))
        }
        if settings.summaryJSON {
            diagnostics.write(StoreReport.json(ingest.summary, vee) + "\n")
        } else {
            for line in StoreReport.text(ingest.summary, vee) { diagnostics.report(nil, line) }
        }
        return status
    }

    /// Reports an error that ends the run and gives its exit status.
    public static func fatal(_ error: Error, store: MeterStore?, diagnostics: Diagnostics) -> ExitStatus {
        let name = store?.db.path ?? "database"
        if let e = error as? SQLiteError {
            diagnostics.report(name, e.explanation)
            return e.isBusy ? .tempFail : .ioError
        }
        if let e = error as? StoreError {
            diagnostics.report(nil, e.description)
            return .dataError
        }
        diagnostics.report(name, "\(error)")
        return .software
    }
}

/// Parsed and prepared lines handed from the reading thread to the storing one, a batch at a
/// time, with at most a few batches waiting (so memory stays bounded).
final class ParsedBatches: @unchecked Sendable {
    struct Batch {
        /// Index of the input in the run's list.
        var input: Int
        var items: [IngestItem] = []
        /// Standard input has nothing more ready: a good moment to commit.
        var idle = false
        /// The last batch of its input; `failure` says why the input could not be read, if so.
        var end = false
        var failure: String?
    }

    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var produced = false
    private var stopped = false
    private var producerDone = false
    private let depth = 8
    static let batchSize = 4096

    /// Reads every input in turn into batches (the reading thread's body).
    func produce(_ inputs: [InputFile], options: IngestOptions) {
        let reader = JSONLineReader()
        var preparer = IngestPreparer(options: options)
        for (index, input) in inputs.enumerated() {
            var batch = Batch(input: index)
            batch.items.reserveCapacity(Self.batchSize)
            let source = input.sourceName
            do {
                try LineSplitter.lines(of: input) { line in
                    batch.items.append(preparer.item(Result { () throws(DecodeError) in try reader.parse(line, source: source) }))
                    return batch.items.count < Self.batchSize || put(&batch)
                } idle: {
                    batch.idle = true
                    guard put(&batch) else { throw CancellationError() }
                }
            } catch is CancellationError {
                break
            } catch let f as InputFile.Failure {
                batch.failure = f.description
            } catch {
                batch.failure = "\(error)"
            }
            batch.end = true
            guard put(&batch) else { break }
        }
        condition.lock()
        produced = true
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// Queues a batch, waiting while the queue is full; false once the consumer has stopped.
    /// A fresh batch of the same input is left in its place: the queued one is moved, so that the
    /// storing thread holds the only reference to its items and can move them out in turn.
    private func put(_ b: inout Batch) -> Bool {
        var full = Batch(input: b.input)
        full.items.reserveCapacity(Self.batchSize)
        swap(&full, &b)
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth && !stopped { condition.wait() }
        if stopped { return false }
        queue.append(consume full)
        condition.broadcast()
        return true
    }

    /// The next batch, or nil when every input has been read.
    func take() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !produced { condition.wait() }
        if queue.isEmpty { return nil }
        let b = queue.removeFirst()
        condition.broadcast()
        return b
    }

    /// Tells the reading thread to stop.
    func stop() {
        condition.lock()
        stopped = true
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the reading thread has finished.
    func waitForProducer() {
        condition.lock()
        while !producerDone {
            if !queue.isEmpty { queue.removeAll(); condition.broadcast() }
            condition.wait()
        }
        condition.unlock()
    }
}

/// Splits an input into lines (without `\n` or a trailing `\r`), handing each to `body` straight
/// from the read buffer; a line cut by a chunk boundary is joined first.
enum LineSplitter {
    /// `body` returns false to stop. `idle` is called when standard input has had no more bytes
    /// ready for `idleWait` milliseconds (before a read that could block), so that work can be
    /// committed while waiting. (Right after a read has emptied a pipe, its writer has mostly not
    /// yet written again: without the wait, a pipeline committed every 64 KiB.)
    static func lines(of input: InputFile, _ body: (UnsafeBufferPointer<UInt8>) throws -> Bool,
                      idle: () throws -> Void) throws {
        var carry: [UInt8] = []
        var go = true
        func emit(_ line: UnsafeBufferPointer<UInt8>) throws {
            var n = line.count
            if n > 0 && line[n - 1] == 0x0D { n -= 1 }
            go = try body(UnsafeBufferPointer(rebasing: line[0..<n]))
        }
        try input.read { chunk in
            let base = chunk.assumingMemoryBound(to: UInt8.self)
            var start = 0
            while go, start < base.count,
                  let hit = memchr(base.baseAddress! + start, 0x0A, base.count - start) {
                let end = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base.baseAddress!
                if carry.isEmpty {
                    try emit(UnsafeBufferPointer(rebasing: base[start..<end]))
                } else {
                    carry.append(contentsOf: base[start..<end])
                    try carry.withUnsafeBufferPointer { try emit($0) }
                    carry.removeAll(keepingCapacity: true)
                }
                start = end + 1
            }
            if go && start < base.count { carry.append(contentsOf: base[start...]) }
            if go && input.isStdin && !stdinReady(within: idleWait) { try idle() }
            return go
        }
        if go && !carry.isEmpty { try carry.withUnsafeBufferPointer { try emit($0) } }
    }

    /// Every non-blank line of `inputs` with its `NAME:LINE` location and its input; `body`
    /// returns false to stop. An input that cannot be opened or read is reported; the result is
    /// then 66 or 74, else 0.
    static func numberedLines(of inputs: [InputFile], diagnostics: Diagnostics,
                              _ body: (UnsafeBufferPointer<UInt8>, String, InputFile) -> Bool) -> ExitStatus {
        var status = ExitStatus.ok
        var go = true
        for input in inputs where go {
            var number = 0
            do {
                try lines(of: input, { line in
                    number += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
                    go = body(line, "\(input.displayName):\(number)", input)
                    return go
                }, idle: {})
            } catch let failure as InputFile.Failure {
                diagnostics.report(input.displayName, failure.description)
                status = max(status, .noInput)
            } catch {
                diagnostics.report(input.displayName, "\(error)")
                status = max(status, .ioError)
            }
        }
        return status
    }

    static let idleWait: Int32 = 200

    /// True when standard input has bytes (or its end) ready within `milliseconds`.
    private static func stdinReady(within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0
    }
}

/// The run summary, as text lines for stderr or one JSON object.
public enum StoreReport {
    public static func text(_ s: IngestSummary, _ v: VEESummary) -> [String] {
        var lines = ["ingest: \(s.lines) lines: \(s.readings) readings, \(s.events) events, \(s.frames) frames, \(s.other) other",
                     "stored \(s.stored) new readings, \(s.unchanged) unchanged, \(s.replacedEstimates) estimates replaced, "
                        + "\(s.corrected) corrected, \(s.superseded) superseded; \(s.eventsStored) events, \(s.framesStored) frames; "
                        + "\(s.undated) undated not stored, \(s.rejected) lines refused, \(s.metersRegistered) meters registered"]
        var vee = "vee: \(v.channels) channels, \(v.checked) readings checked"
        let flagged = v.flagged.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        vee += flagged.isEmpty ? ", none flagged" : "; flagged: " + flagged.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        vee += "; estimated \(v.estimated)"
        if !v.estimatedBy.isEmpty {
            vee += " (" + v.estimatedBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")"
        }
        vee += ", missing \(v.missing)"
        lines.append(vee)
        return lines
    }

    public static func json(_ s: IngestSummary, _ v: VEESummary) -> String {
        func object(_ d: [String: Int]) -> String {
            "{" + d.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        }
        let ingest: [(String, Int)] = [
            ("lines", s.lines), ("readings", s.readings), ("events", s.events), ("frames", s.frames), ("other", s.other),
            ("rejected", s.rejected), ("undated", s.undated), ("stored", s.stored), ("unchanged", s.unchanged),
            ("replaced_estimates", s.replacedEstimates), ("corrected", s.corrected), ("superseded", s.superseded),
            ("events_stored", s.eventsStored), ("frames_stored", s.framesStored), ("meters_registered", s.metersRegistered),
        ]
        return "{\"type\":\"summary\",\"v\":1," + ingest.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
            + ",\"vee\":{\"channels\":\(v.channels),\"checked\":\(v.checked),\"flagged\":" + object(v.flagged)
            + ",\"estimated\":\(v.estimated),\"estimated_by\":" + object(v.estimatedBy) + ",\"missing\":\(v.missing)}}"
    }
}
