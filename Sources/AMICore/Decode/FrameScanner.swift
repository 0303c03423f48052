/// Finds the frames in a byte stream by their start bytes, lengths and end marks (`Codecs.scan`),
/// and the runs of bytes between them that are not a frame, each run reported once, when the frame
/// after it is known. Used by `DecodeSession` and by receivers that cut a stream into frames.
public struct FrameScanner: Sendable {
    /// What `scan` finds, in stream order.
    public enum Piece: Sendable {
        /// A whole frame at these absolute offsets (its checksum is the decoder's business).
        case frame(ProtocolID, Range<Int>)
        /// Bytes that are no frame, or a frame that cannot be read; the error has the absolute offset.
        case skip(DecodeError)
    }

    private var garbageStart: Int? = nil        // absolute offset of an open run of unframed bytes
    private var garbageReason: DecodeError? = nil

    public init() {}

    /// Scans `bytes[start...]`, handing each piece to `piece` until it returns false. `base` is the
    /// absolute offset of `bytes[0]`; `what` names the end of the bytes in a truncation message.
    /// Returns where scanning stopped: the end, where `piece` said stop, or (only when not `atEnd`)
    /// the start of a frame that needs more bytes; an open run of garbage then stays open until the
    /// frame after it is known.
    public mutating func scan(_ bytes: [UInt8], from start: Int, atEnd: Bool, base: Int, protocols: Set<ProtocolID>,
                              endOf what: String, _ piece: (Piece) -> Bool) -> Int {
        var i = start
        while i < bytes.count {
            switch Codecs.scan(bytes, at: i, end: bytes.count, atEnd: atEnd, protocols: protocols) {
            case .frame(let p, let length)?:
                guard flush(upTo: base + i, piece) else { return i }
                i += length
                guard piece(.frame(p, (base + i - length)..<(base + i))) else { return i }
            case .invalid(let error, let skip)? where skip > 1:
                guard flush(upTo: base + i, piece) else { return i }
                i += skip
                guard piece(.skip(error.shifted(by: base))) else { return i }
            case .invalid(let error, _)?:
                if garbageStart == nil { garbageStart = base + i; garbageReason = error.shifted(by: base) }
                i += 1
            case .needMore?:
                if !atEnd { return i }
                guard flush(upTo: base + i, piece) else { return i }
                let n = bytes.count - i
                i = bytes.count
                guard piece(.skip(DecodeError(.framing, at: base + i - n, .needMore(count: 1),
                                              "truncated frame: \(n) bytes, then the end of the \(what)")))
                else { return i }
            case nil:
                if garbageStart == nil { garbageStart = base + i }
                i += 1
            }
        }
        if atEnd { _ = flush(upTo: base + bytes.count, piece) }
        return min(i, bytes.count)
    }

    /// Reports the open run of garbage ending at `end`, if any; false when `piece` said stop.
    private mutating func flush(upTo end: Int, _ piece: (Piece) -> Bool) -> Bool {
        guard let g = garbageStart else { return true }
        let n = end - g
        var message = "skipped \(n) byte\(n == 1 ? "" : "s") that are not a frame"
        if let r = garbageReason { message += " (\(r.layer.rawValue): \(r.message))" }
        garbageStart = nil
        garbageReason = nil
        return piece(.skip(DecodeError(.framing, at: g, .malformed, message)))
    }
}
