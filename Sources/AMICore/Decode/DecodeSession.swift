#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How an input is laid out; `auto` decides from its first line.
public enum InputFormat: String, Sendable, CaseIterable {
    case auto
    /// Hex text, one or more frames per line; `#` starts a comment.
    case hex
    /// Raw bytes in which frame boundaries are found by their start bytes, lengths and end marks.
    case binary
    /// ami-jsonl(5) records; `frame` records are decoded, others passed through.
    case jsonl
}

/// A problem found in the input, for a diagnostic line `prog: where: layer: message`.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The input's display name.
    public var input: String
    /// 1-based line for line-oriented input (hex, JSON lines); nil for binary.
    public var line: Int?
    public var error: DecodeError
    /// True when a frame or bytes were skipped (and the exit status must say so); false for warnings.
    public var skipped: Bool

    /// `NAME[:LINE] byte N`, the "where" of the diagnostic.
    public var location: String {
        (line.map { "\(input):\($0)" } ?? input) + " byte \(error.offset)"
    }

    public var description: String { "\(location): \(error)" }

    public init(input: String, line: Int? = nil, error: DecodeError, skipped: Bool) {
        self.input = input
        self.line = line
        self.error = error
        self.skipped = skipped
    }
}

/// Receives what a decode session produces.
public protocol DecodeSink: AnyObject {
    func record(_ record: Record)
    /// The records of one frame, in order (by default, `record` for each).
    func records(_ records: [Record])
    /// A JSON line that is not a `frame` record, passed through unchanged (without its newline).
    func passThrough(_ line: ArraySlice<UInt8>)
    func diagnostic(_ diagnostic: Diagnostic)
    /// A writer the session writes the records of each frame into as they are decoded, instead of
    /// handing them over as values; nil (the default) for `record` and `records`. Read once, when
    /// the session starts.
    var writer: JSONLineWriter? { get }
    /// Called after the records of a frame were written into `writer` (to drain it, say).
    func wroteRecords()
}

extension DecodeSink {
    public func records(_ records: [Record]) {
        for r in records { record(r) }
    }

    public var writer: JSONLineWriter? { nil }

    public func wroteRecords() {}
}

/// Turns one input (a file or stdin, fed in chunks of any size) into records: finds the input's
/// format, the frames in it, decodes them, and reports every skipped piece once with its offset.
public final class DecodeSession {
    public let inputName: String
    public let sourceName: String
    public private(set) var format: InputFormat
    public let options: DecodeOptions
    /// Stop at the first skipped piece (`--strict`).
    public let strict: Bool
    private unowned let sink: DecodeSink

    // The properties used at every frame are not checked for exclusive access at run time (as in
    // `ByteBuffer`): only the session's own methods touch them, and none of those calls back into it.

    /// Frames found, records written, pieces skipped so far.
    @exclusivity(unchecked) public private(set) var frames = 0
    @exclusivity(unchecked) public private(set) var records = 0
    public private(set) var skipped = 0
    /// True once `strict` has stopped the session.
    @exclusivity(unchecked) public private(set) var stopped = false

    private var pending: [UInt8] = []   // bytes not yet consumed
    private var pendingBase = 0         // absolute offset of pending[0]
    private var scanFrom = 0            // index in pending where scanning resumes
    private var lineNumber = 0
    private var scanner = FrameScanner()
    private var output = DecodeOutput()
    /// The bytes of the frame being decoded.
    @exclusivity(unchecked) private var frame: [UInt8] = []
    @exclusivity(unchecked) private var state: StreamState
    /// Writes records straight into the sink's writer, when it has one.
    @exclusivity(unchecked) private var emitter: JSONLineWriter.FrameEmitter?

    /// - Parameters:
    ///   - inputName: the name shown in diagnostics (`-` or `stdin` for standard input).
    ///   - sourceName: the `source` written in records (`file:NAME` or `-`).
    public init(inputName: String, sourceName: String, format: InputFormat = .auto,
                options: DecodeOptions = DecodeOptions(), strict: Bool = false, sink: DecodeSink) {
        self.inputName = inputName
        self.sourceName = sourceName
        self.format = format
        self.options = options
        self.strict = strict
        self.sink = sink
        self.emitter = sink.writer.map { JSONLineWriter.FrameEmitter(writer: $0) }
        self.state = StreamState(options: options)
    }

    /// Feeds the next chunk of input.
    public func feed<C: Collection>(_ chunk: C) where C.Element == UInt8 {
        guard !stopped else { return }
        pending.append(contentsOf: chunk)
        process(atEnd: false)
    }

    /// Ends the input: whatever is left is decoded or reported as truncated.
    public func finish() {
        guard !stopped else { return }
        process(atEnd: true)
    }

    // MARK: - dispatch

    private func process(atEnd: Bool) {
        if format == .auto {
            guard let decided = InputSniffer.sniff(pending, atEnd: atEnd) else { return }
            format = decided
        }
        switch format {
        case .binary: processBinary(atEnd: atEnd)
        case .hex, .jsonl: processLines(atEnd: atEnd)
        case .auto: break
        }
        compact()
    }

    private func compact() {
        if scanFrom > 0 && (scanFrom >= pending.count || scanFrom > 1 << 16) {
            pending.removeSubrange(0..<scanFrom)
            pendingBase += scanFrom
            scanFrom = 0
        }
    }

    private func report(_ error: DecodeError, line: Int?, skipped isSkip: Bool) {
        if isSkip { skipped += 1 }
        sink.diagnostic(Diagnostic(input: inputName, line: line, error: error, skipped: isSkip))
        if isSkip && strict { stopped = true }
    }

    // MARK: - lines (hex, JSON lines)

    private func processLines(atEnd: Bool) {
        while !stopped {
            let nl = pending.withUnsafeBufferPointer { p in
                guard scanFrom < p.count, let hit = memchr(p.baseAddress! + scanFrom, 0x0A, p.count - scanFrom) else {
                    return p.count
                }
                return UnsafeRawPointer(hit) - UnsafeRawPointer(p.baseAddress!)
            }
            if nl == pending.count && !atEnd { return }
            if scanFrom == pending.count { return }
            var lineEnd = nl
            if lineEnd > scanFrom && pending[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            lineNumber += 1
            let line = pending[scanFrom..<lineEnd]
            scanFrom = min(nl + 1, pending.count)
            if format == .hex { hexLine(line) } else { jsonLine(line) }
        }
    }

    private func hexLine(_ raw: ArraySlice<UInt8>) {
        do {
            if let r = try WMBusReceiverLine.parse(raw) {
                receiverLine(r.frame, crcOK: r.crcOK)
                return
            }
        } catch {
            report(error.shifted(by: -raw.startIndex), line: lineNumber, skipped: true)
            return
        }
        var text = raw
        let hash = text.withUnsafeBufferPointer { p in
            memchr(p.baseAddress!, 0x23, p.count).map { UnsafeRawPointer($0) - UnsafeRawPointer(p.baseAddress!) }
        }
        if let hash { text = text[text.startIndex..<(text.startIndex + hash)] }
        if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(text, base: -text.startIndex)
        } catch {
            report(error, line: lineNumber, skipped: true)
            return
        }
        scanFrames(in: bytes, line: lineNumber, protocols: options.protocols,
                   context: FrameContext(source: sourceName, frameIndex: frames, options: options))
    }

    /// The frame of a wireless M-Bus receiver's line: wM-Bus whatever `--protocol auto` would guess.
    private func receiverLine(_ frame: [UInt8], crcOK: Bool) {
        guard options.protocols.contains(.wmbus) else {
            report(DecodeError(.input, at: 0, .unsupported, "a wireless M-Bus receiver line, and wmbus is not asked for"),
                   line: lineNumber, skipped: true)
            return
        }
        guard crcOK || options.ignoreChecksums else {
            report(DecodeError(.wmbusLink, at: 0, .checksum, "the receiver reports a CRC error"), line: lineNumber,
                   skipped: true)
            return
        }
        scanFrames(in: frame, line: lineNumber, protocols: [.wmbus],
                   context: FrameContext(source: sourceName, frameIndex: frames, options: options))
    }

    private func jsonLine(_ line: ArraySlice<UInt8>) {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            report(error, line: lineNumber, skipped: true)
            return
        }
        guard case .object = value, let type = value["type"]?.stringValue else {
            report(DecodeError(.json, at: 0, .malformed, "not a record: no \"type\""), line: lineNumber, skipped: true)
            return
        }
        guard type == "frame" else {
            sink.passThrough(line)
            return
        }
        guard let hex = value["hex"]?.stringValue else {
            report(DecodeError(.json, at: 0, .malformed, "frame record without \"hex\""), line: lineNumber, skipped: true)
            return
        }
        // What a client sent is decoded only for DLMS and Modbus, whose answers are read with their
        // requests.
        let direction = value["dir"]?.stringValue.flatMap(FrameRecord.Direction.init(rawValue:))
        if direction == .tx, value["protocol"]?.stringValue != ProtocolID.dlms.rawValue,
           value["protocol"]?.stringValue != ProtocolID.modbus.rawValue { return }
        var protocols = options.protocols
        if let name = value["protocol"]?.stringValue {
            guard let p = ProtocolID(rawValue: name), ProtocolID.decodable.contains(p) else {
                report(DecodeError(.json, at: 0, .unsupported, "frame protocol \"\(name)\" is not decoded here"),
                       line: lineNumber, skipped: true)
                return
            }
            protocols = protocols.intersection([p])
        }
        let bytes: [UInt8]
        do {
            bytes = try Hex.decode(Array(hex.utf8))
        } catch {
            report(error, line: lineNumber, skipped: true)
            return
        }
        var time: UTCTime? = nil
        if let t = value["time"]?.stringValue {
            guard let parsed = UTCTime(iso8601: t) else {
                report(DecodeError(.json, at: 0, .malformed, "frame time \"\(t)\" is not ISO 8601"),
                       line: lineNumber, skipped: true)
                return
            }
            time = parsed
        }
        let context = FrameContext(source: value["source"]?.stringValue ?? sourceName, frameIndex: frames,
                                   receiveTime: time, meterHint: value["meter"]?.stringValue,
                                   plain: value["plain"]?.stringValue.flatMap { try? Hex.decode(Array($0.utf8)) },
                                   direction: direction, profile: value["profile"]?.stringValue, options: options)
        // A frame record holding one message of an IEC 62056-21 session (ami-read iec) that is no
        // telegram (an identification on its own, ACK, NAK, a programming command) is that frame.
        if protocols == [.iec62056_21], IECMessage.sessionMessageLength(bytes, at: 0, end: bytes.count) == bytes.count {
            decodeFrame(bytes, as: .iec62056_21, base: 0, line: lineNumber, context: context)
            return
        }
        scanFrames(in: bytes, line: lineNumber, protocols: protocols, context: context)
    }

    // MARK: - frames

    /// Finds and decodes the frames in `bytes[start...]` (see `FrameScanner.scan`), reporting what is
    /// not a frame; `base` is the absolute offset of `bytes[0]`, `line` the line the bytes came from
    /// (nil for binary input).
    private func scan(_ bytes: [UInt8], from start: Int, atEnd: Bool, base: Int, line: Int?,
                      protocols: Set<ProtocolID>, context: FrameContext, endOf what: String) -> Int {
        // One copy of the context for all the frames, given each frame's index in turn.
        var ctx = context
        return scanner.scan(bytes, from: start, atEnd: atEnd, base: base, protocols: protocols, endOf: what) { piece in
            switch piece {
            case .frame(let p, let range):
                ctx.frameIndex = frames
                // Into the buffer of the frame before, unless a decoder kept that one.
                frame.removeAll(keepingCapacity: true)
                frame.append(contentsOf: bytes[(range.lowerBound - base)..<(range.upperBound - base)])
                decodeFrame(frame, as: p, base: range.lowerBound, line: line, context: ctx)
            case .skip(let error):
                report(error, line: line, skipped: true)
            }
            return !stopped
        }
    }

    /// Frames in a self-contained byte string (one hex line or one frame record).
    private func scanFrames(in bytes: [UInt8], line: Int, protocols: Set<ProtocolID>, context: FrameContext) {
        _ = scan(bytes, from: 0, atEnd: true, base: 0, line: line, protocols: protocols, context: context,
                 endOf: "line")
    }

    private func processBinary(atEnd: Bool) {
        scanFrom = scan(pending, from: scanFrom, atEnd: atEnd, base: pendingBase, line: nil,
                        protocols: options.protocols,
                        context: FrameContext(source: sourceName, frameIndex: frames, options: options),
                        endOf: "input")
    }

    // MARK: - decode one frame

    private func decodeFrame(_ frame: [UInt8], as p: ProtocolID, base: Int, line: Int?, context: FrameContext) {
        frames += 1
        if emitter != nil {
            emitter!.begin()
            do {
                try Codecs.decode(frame, as: p, context: context, state: &state, into: &emitter!)
            } catch {
                emitter!.discard()
                report(error.shifted(by: base), line: line, skipped: true)
                return
            }
            for w in emitter!.warnings { report(w.shifted(by: base), line: line, skipped: w.partSkipped) }
            records += emitter!.records
            sink.wroteRecords()
            return
        }
        output.removeAll()
        do {
            try Codecs.decode(frame, as: p, context: context, state: &state, into: &output)
        } catch {
            report(error.shifted(by: base), line: line, skipped: true)
            return
        }
        for w in output.warnings { report(w.shifted(by: base), line: line, skipped: w.partSkipped) }
        sink.records(output.records)
        records += output.records.count
    }
}

/// Decides an input's format from its first bytes.
public enum InputSniffer {
    /// JSON lines when the first non-blank byte is `{`; hex when the first line that is not blank or a
    /// `#` comment holds only hex digits and separators, or is a wireless M-Bus receiver's line
    /// (`WMBusReceiverLine`); else binary. Nil while undecided.
    public static func sniff(_ bytes: [UInt8], atEnd: Bool) -> InputFormat? {
        var i = 0
        while true {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D || bytes[i] == 0x0A { i += 1 }
            if i == bytes.count { return atEnd ? .binary : nil }
            if bytes[i] == UInt8(ascii: "{") { return .jsonl }
            var j = i
            while j < bytes.count && bytes[j] != 0x0A { j += 1 }
            if j == bytes.count && !atEnd && j - i < 4096 { return nil }
            let line = bytes[i..<j]
            if bytes[i] == UInt8(ascii: "#") {
                if line.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0D }) { i = j; continue }
                return .binary
            }
            if WMBusReceiverLine.isReceiverLine(line) { return .hex }
            var body = line
            if let hash = body.firstIndex(of: UInt8(ascii: "#")) { body = body[body.startIndex..<hash] }
            let isHex = body.allSatisfy {
                Hex.nibble($0) != nil || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == UInt8(ascii: ":")
            }
            return isHex ? .hex : .binary
        }
    }
}
