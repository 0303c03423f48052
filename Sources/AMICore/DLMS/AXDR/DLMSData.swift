/// The tag of a COSEM data type (IEC 62056-6-2 / DLMS UA 1000-1 Ed. 12 §4.1.5 "Common data types";
/// the `Data` CHOICE of DLMS UA 1000-2, "COSEM APDU protocol").
public enum DLMSDataType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case nullData = 0
    case array = 1
    case structure = 2
    case boolean = 3
    case bitString = 4
    case doubleLong = 5
    case doubleLongUnsigned = 6
    case octetString = 9
    case visibleString = 10
    case utf8String = 12
    case bcd = 13
    case integer = 15
    case long = 16
    case unsigned = 17
    case longUnsigned = 18
    case compactArray = 19
    case long64 = 20
    case long64Unsigned = 21
    case enumerated = 22
    case float32 = 23
    case float64 = 24
    case dateTime = 25
    case date = 26
    case time = 27
    case dontCare = 255

    /// The standard's name: `double-long-unsigned`, `octet-string`…
    public var description: String {
        switch self {
        case .nullData: "null-data"
        case .array: "array"
        case .structure: "structure"
        case .boolean: "boolean"
        case .bitString: "bit-string"
        case .doubleLong: "double-long"
        case .doubleLongUnsigned: "double-long-unsigned"
        case .octetString: "octet-string"
        case .visibleString: "visible-string"
        case .utf8String: "utf8-string"
        case .bcd: "bcd"
        case .integer: "integer"
        case .long: "long"
        case .unsigned: "unsigned"
        case .longUnsigned: "long-unsigned"
        case .compactArray: "compact-array"
        case .long64: "long64"
        case .long64Unsigned: "long64-unsigned"
        case .enumerated: "enum"
        case .float32: "float32"
        case .float64: "float64"
        case .dateTime: "date-time"
        case .date: "date"
        case .time: "time"
        case .dontCare: "dont-care"
        }
    }
}

/// A bit string: `count` bits, the first in the most significant bit of `bytes[0]`.
public struct BitString: Sendable, Hashable {
    public var count: Int
    public var bytes: [UInt8]

    /// `count` bits from `bytes`, which must hold `(count + 7) / 8` bytes (nil otherwise).
    public init?(count: Int, bytes: [UInt8]) {
        guard count >= 0, bytes.count == (count + 7) / 8 else { return nil }
        self.count = count
        self.bytes = bytes
    }

    /// Bit `index` (0 = the first sent).
    public subscript(index: Int) -> Bool {
        guard index >= 0 && index < count else { return false }
        return bytes[index / 8] & (0x80 >> UInt8(index % 8)) != 0
    }
}

/// A COSEM data value: the A-XDR encoded `Data` CHOICE (IEC 62056-6-2 / DLMS UA 1000-1 Ed. 12 §4.1.5,
/// encoded by the A-XDR rules of IEC 61334-6). Decoding and encoding are in `DLMSData+Coding`.
///
/// Numbers keep the type the meter sent; floats keep their IEEE 754 bits (`decimalValue` gives the
/// shortest decimal that identifies them); strings keep their bytes.
public indirect enum DLMSData: Sendable, Hashable {
    case null
    case array([DLMSData])
    case structure([DLMSData])
    case boolean(Bool)
    case bitString(BitString)
    case doubleLong(Int32)
    case doubleLongUnsigned(UInt32)
    case octetString([UInt8])
    /// ASCII text as sent (bytes, not checked).
    case visibleString([UInt8])
    /// UTF-8 text as sent (bytes, not checked).
    case utf8String([UInt8])
    /// One byte, sent as `bcd` (the standard types it Integer8).
    case bcd(UInt8)
    case integer(Int8)
    case long(Int16)
    case unsigned(UInt8)
    case longUnsigned(UInt16)
    /// A compact array: the element type, then the elements decoded by it (A-XDR sends them untagged).
    case compactArray(TypeDescription, [DLMSData])
    case long64(Int64)
    case long64Unsigned(UInt64)
    case enumerated(UInt8)
    /// IEEE 754 binary32, as its bits.
    case float32(bits: UInt32)
    /// IEEE 754 binary64, as its bits.
    case float64(bits: UInt64)
    case dateTime(COSEMDateTime)
    case date(COSEMDate)
    case time(COSEMTime)
    case dontCare

    /// The type tag of this value.
    public var type: DLMSDataType {
        switch self {
        case .null: .nullData
        case .array: .array
        case .structure: .structure
        case .boolean: .boolean
        case .bitString: .bitString
        case .doubleLong: .doubleLong
        case .doubleLongUnsigned: .doubleLongUnsigned
        case .octetString: .octetString
        case .visibleString: .visibleString
        case .utf8String: .utf8String
        case .bcd: .bcd
        case .integer: .integer
        case .long: .long
        case .unsigned: .unsigned
        case .longUnsigned: .longUnsigned
        case .compactArray: .compactArray
        case .long64: .long64
        case .long64Unsigned: .long64Unsigned
        case .enumerated: .enumerated
        case .float32: .float32
        case .float64: .float64
        case .dateTime: .dateTime
        case .date: .date
        case .time: .time
        case .dontCare: .dontCare
        }
    }

    /// The value of an integer type (`integer` … `long64-unsigned`), when it fits Int64.
    public var integerValue: Int64? {
        switch self {
        case .doubleLong(let v): Int64(v)
        case .doubleLongUnsigned(let v): Int64(v)
        case .integer(let v): Int64(v)
        case .long(let v): Int64(v)
        case .unsigned(let v): Int64(v)
        case .longUnsigned(let v): Int64(v)
        case .long64(let v): v
        case .long64Unsigned(let v): v <= UInt64(Int64.max) ? Int64(v) : nil
        default: nil
        }
    }

    /// The number this value holds: integers exactly, floats as the shortest decimal that identifies
    /// their binary value; nil for other types, NaN, infinities and unsigned 64-bit values above Int64.max.
    public var decimalValue: ExactDecimal? {
        switch self {
        case .float32(let bits): ExactDecimal(float: Float(bitPattern: bits))
        case .float64(let bits): ExactDecimal(double: Double(bitPattern: bits))
        default: integerValue.map { ExactDecimal($0) }
        }
    }

    /// The bytes of an octet-string, visible-string or utf8-string.
    public var bytesValue: [UInt8]? {
        switch self {
        case .octetString(let b), .visibleString(let b), .utf8String(let b): b
        default: nil
        }
    }

    /// The elements of an array, structure or compact array.
    public var elements: [DLMSData]? {
        switch self {
        case .array(let e), .structure(let e), .compactArray(_, let e): e
        default: nil
        }
    }

    /// A date-time, sent as `date-time` or (as most meters do) as a 12-byte octet-string.
    public var dateTimeValue: COSEMDateTime? {
        switch self {
        case .dateTime(let d): d
        case .octetString(let b): COSEMDateTime(bytes: b)
        default: nil
        }
    }
}

extension DLMSData: CustomStringConvertible {
    /// A compact, one-line form: `{2, [1, 2], 0x0102, "text", 12.5}`; structures in braces, arrays in
    /// brackets, octet-strings in hex, floats as decimals.
    public var description: String {
        switch self {
        case .null: return "null"
        case .dontCare: return "dont-care"
        case .array(let e): return "[" + e.map(\.description).joined(separator: ", ") + "]"
        case .structure(let e): return "{" + e.map(\.description).joined(separator: ", ") + "}"
        case .compactArray(let t, let e):
            return "compact-array<\(t)>[" + e.map(\.description).joined(separator: ", ") + "]"
        case .boolean(let b): return b ? "true" : "false"
        case .bitString(let b):
            return "bits:" + String((0..<b.count).map { b[$0] ? "1" : "0" })
        case .octetString(let b): return "0x" + Hex.string(b)
        case .visibleString(let b), .utf8String(let b): return "\"" + String(decoding: b, as: UTF8.self) + "\""
        case .bcd(let v): return "bcd:" + Hex.byte(v)
        case .enumerated(let v): return "enum:\(v)"
        case .float32(let bits):
            return ExactDecimal(float: Float(bitPattern: bits))?.description ?? "\(Float(bitPattern: bits))"
        case .float64(let bits):
            return ExactDecimal(double: Double(bitPattern: bits))?.description ?? "\(Double(bitPattern: bits))"
        case .long64Unsigned(let v): return String(v)
        case .dateTime(let d): return d.description
        case .date(let d): return d.description
        case .time(let t): return t.description
        default: return integerValue.map { String($0) } ?? type.description
        }
    }
}
