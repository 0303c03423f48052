/// How a value is laid out in registers (Modbus registers are 16-bit, sent high byte first; the
/// order of registers within a wider value is the device's choice, as its register map says).
public enum ModbusDataType: String, Sendable, Equatable, CaseIterable {
    case int16, uint16, int32, uint32, int64, uint64, float32, float64

    /// Registers the value spans.
    public var registers: Int {
        switch self {
        case .int16, .uint16: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        }
    }
}

/// The order of a value's bytes across its registers, named by where the bytes of the big-endian
/// value `A B C D` (`A B C D E F G H` for 64 bits) go:
/// - `abcd`: big-endian, high word first (the Modbus default; Eastron, most meters);
/// - `cdab`: words swapped, low word first, each word big-endian (`G H E F C D A B` for 64 bits);
/// - `badc`: high word first, bytes swapped in each word (`B A D C F E H G`);
/// - `dcba`: little-endian throughout (`H G F E D C B A`).
/// A 16-bit value is `A B` under `abcd` and `cdab`, `B A` under `badc` and `dcba`.
public enum ModbusWordOrder: String, Sendable, Equatable, CaseIterable {
    case abcd, cdab, badc, dcba

    /// The big-endian bytes of the value held in `registers` (as many as the type spans).
    public func valueBytes(_ registers: ArraySlice<UInt16>) -> [UInt8] {
        let words = (self == .cdab || self == .dcba) ? Array(registers.reversed()) : Array(registers)
        let swapBytes = self == .badc || self == .dcba
        var out: [UInt8] = []
        out.reserveCapacity(words.count * 2)
        for w in words {
            let hi = UInt8(w >> 8), lo = UInt8(w & 0xFF)
            out += swapBytes ? [lo, hi] : [hi, lo]
        }
        return out
    }

    /// The registers that hold the big-endian `bytes` (an even count) in this order: the inverse of
    /// `valueBytes`.
    public func registers(_ bytes: [UInt8]) -> [UInt16] {
        let swapBytes = self == .badc || self == .dcba
        var words: [UInt16] = []
        var i = 0
        while i + 1 < bytes.count {
            let (hi, lo) = swapBytes ? (bytes[i + 1], bytes[i]) : (bytes[i], bytes[i + 1])
            words.append(UInt16(hi) << 8 | UInt16(lo))
            i += 2
        }
        return (self == .cdab || self == .dcba) ? words.reversed() : words
    }
}

/// A value read from registers, before scaling.
public enum ModbusRawValue: Sendable, Equatable {
    case signed(Int64)
    case unsigned(UInt64)
    case float32(Float)
    case float64(Double)

    /// Decodes `registers` (exactly `type.registers` of them) laid out in `order`.
    public init(_ registers: ArraySlice<UInt16>, type: ModbusDataType, order: ModbusWordOrder) {
        var bits: UInt64 = 0
        for b in order.valueBytes(registers) { bits = bits << 8 | UInt64(b) }
        switch type {
        case .uint16, .uint32, .uint64: self = .unsigned(bits)
        case .int16: self = .signed(Int64(Int16(truncatingIfNeeded: bits)))
        case .int32: self = .signed(Int64(Int32(truncatingIfNeeded: bits)))
        case .int64: self = .signed(Int64(bitPattern: bits))
        case .float32: self = .float32(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
        case .float64: self = .float64(Double(bitPattern: bits))
        }
    }

    /// The exact decimal of the value: integers as they are, floats as the shortest decimal that
    /// identifies the binary value in its own width (a float32 never passes through a Double), without
    /// trailing zeros (`15`, not `15.0`).
    /// Throws (`.outOfRange`) for NaN, infinities and unsigned values above 2⁶³−1.
    public func decimal() throws(ModbusValueError) -> ExactDecimal {
        switch self {
        case .signed(let v): return ExactDecimal(v)
        case .unsigned(let v):
            guard v <= UInt64(Int64.max) else { throw .outOfRange("\(v) is above 2^63-1") }
            return ExactDecimal(Int64(v))
        case .float32(let f):
            guard let d = ExactDecimal(float: f) else { throw .notANumber(f.isNaN ? "NaN" : f < 0 ? "-infinity" : "infinity") }
            return d.normalized
        case .float64(let f):
            guard let d = ExactDecimal(double: f) else { throw .notANumber(f.isNaN ? "NaN" : f < 0 ? "-infinity" : "infinity") }
            return d.normalized
        }
    }
}

/// A register value that is no reading.
public enum ModbusValueError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A float that is NaN or infinite (meters send NaN for values they do not have).
    case notANumber(String)
    /// A value that cannot be held exactly (beyond 64 bits after scaling).
    case outOfRange(String)

    public var description: String {
        switch self {
        case .notANumber(let what): "the value is \(what), not a number"
        case .outOfRange(let what): "the value is out of range: \(what)"
        }
    }
}
