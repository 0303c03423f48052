/// A bounds-checked reader over a byte array: every read either yields a value or throws a
/// `DecodeError` (`.needMore` when the bytes run out) carrying the absolute offset and the layer.
/// No read can trap, whatever the input.
public struct ByteCursor: Sendable {
    /// The bytes read; positions index this array.
    public let bytes: [UInt8]
    /// One past the last readable position.
    public let end: Int
    /// The next position to read.
    public private(set) var position: Int
    /// Added to positions when reporting offsets, so errors point into the whole input.
    public let base: Int
    /// The layer named in errors this cursor throws.
    public var layer: DecodeLayer

    /// A cursor over `bytes[start..<end]`; `base` is the absolute offset of `bytes[0]` in the input.
    public init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil, base: Int = 0, layer: DecodeLayer) {
        let e = min(max(end ?? bytes.count, 0), bytes.count)
        self.bytes = bytes
        self.end = e
        self.position = min(max(start, 0), e)
        self.base = base
        self.layer = layer
    }

    /// Bytes left to read.
    public var remaining: Int { end - position }
    /// True when no byte is left.
    public var isAtEnd: Bool { position >= end }
    /// The absolute offset of the next byte, for error reports.
    public var offset: Int { base + position }

    /// An error of this cursor's layer at its current offset (or `at` a given absolute offset).
    public func error(_ kind: DecodeError.Kind, _ message: String, at absolute: Int? = nil) -> DecodeError {
        DecodeError(layer, at: absolute ?? offset, kind, message)
    }

    /// Checks that `count` bytes are left; inlined into every read, the error is made out of line.
    @inline(__always)
    mutating func need(_ count: Int) throws(DecodeError) {
        if count < 0 || count > end - position { throw shortError(count) }
    }

    @inline(never)
    private func shortError(_ count: Int) -> DecodeError {
        DecodeError(layer, at: base + position, .needMore(count: count - (end - position)),
                    "need \(count) byte\(count == 1 ? "" : "s"), \(end - position) left")
    }

    /// The next byte without consuming it.
    public func peek() throws(DecodeError) -> UInt8 {
        guard position < end else { throw shortError(1) }
        return bytes[position]
    }

    /// Reads one byte.
    @inline(__always)
    public mutating func u8() throws(DecodeError) -> UInt8 {
        try need(1)
        let b = bytes[position]
        position += 1
        return b
    }

    /// Reads `count` bytes as an array.
    public mutating func take(_ count: Int) throws(DecodeError) -> [UInt8] {
        try need(count)
        let out = Array(bytes[position..<position + count])
        position += count
        return out
    }

    /// Reads `count` bytes and returns their range in `bytes` (no copy).
    @inline(__always)
    public mutating func range(_ count: Int) throws(DecodeError) -> Range<Int> {
        try need(count)
        let r = position..<position + count
        position += count
        return r
    }

    /// Skips `count` bytes.
    public mutating func skip(_ count: Int) throws(DecodeError) {
        try need(count)
        position += count
    }

    /// Reads an unsigned little-endian integer of `count` bytes (1...8).
    public mutating func uintLE(_ count: Int) throws(DecodeError) -> UInt64 {
        guard count >= 1 && count <= 8 else { throw error(.malformed, "integer of \(count) bytes") }
        try need(count)
        var v: UInt64 = 0
        var i = count - 1
        while i >= 0 {
            v = (v << 8) | UInt64(bytes[position + i])
            i -= 1
        }
        position += count
        return v
    }

    /// Reads a two's-complement signed little-endian integer of `count` bytes (1...8).
    public mutating func intLE(_ count: Int) throws(DecodeError) -> Int64 {
        let raw = try uintLE(count)
        let bits = count * 8
        if bits == 64 { return Int64(bitPattern: raw) }
        let signBit: UInt64 = 1 << UInt64(bits - 1)
        if raw & signBit != 0 { return Int64(bitPattern: raw | ~((signBit << 1) &- 1)) }
        return Int64(bitPattern: raw)
    }

    /// Reads a big-endian unsigned integer of `count` bytes (1...8).
    public mutating func uintBE(_ count: Int) throws(DecodeError) -> UInt64 {
        guard count >= 1 && count <= 8 else { throw error(.malformed, "integer of \(count) bytes") }
        try need(count)
        var v: UInt64 = 0
        for i in 0..<count { v = (v << 8) | UInt64(bytes[position + i]) }
        position += count
        return v
    }

    /// Moves to an absolute position inside `bytes` (for scanners that look ahead and come back).
    public mutating func seek(to newPosition: Int) throws(DecodeError) {
        guard newPosition >= 0 && newPosition <= end else {
            throw error(.malformed, "seek to \(newPosition) outside 0...\(end)")
        }
        position = newPosition
    }
}
