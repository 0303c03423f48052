/// A-XDR decoding and encoding of `Data` (IEC 61334-6 A-XDR rules as applied by DLMS UA 1000-2,
/// "Encoding of the COSEM APDUs"): a type tag, then the value; arrays and structures with an element
/// count, strings with a length, both as a `lengthField`; integers big-endian.
extension DLMSData {
    /// How deeply arrays and structures may nest; deeper input is `.malformed` (it would otherwise
    /// let hostile bytes exhaust the stack). Real COSEM attributes nest a handful of levels.
    public static let maxDepth = 32

    /// Decodes one value at the cursor (errors name the cursor's layer).
    public static func decode(_ c: inout ByteCursor) throws(DecodeError) -> DLMSData {
        try decode(&c, depth: 0)
    }

    /// Decodes `bytes` as exactly one value (layer `dlms-app`).
    public init(bytes: [UInt8]) throws(DecodeError) {
        var c = ByteCursor(bytes, layer: .dlmsApplication)
        self = try DLMSData.decode(&c)
        try c.expectEnd("data")
    }

    /// The A-XDR encoding: tag and value.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Appends the A-XDR encoding (tag and value).
    public func encode(into out: inout [UInt8]) {
        out.append(type.rawValue)
        encodeValue(into: &out, tagged: true)
    }

    /// Appends the value without its tag; inside a compact array (`tagged` false) arrays and
    /// structures take their counts from the type description, so none is written.
    private func encodeValue(into out: inout [UInt8], tagged: Bool) {
        switch self {
        case .null, .dontCare: break
        case .array(let e), .structure(let e):
            if tagged { out.appendLengthField(e.count) }
            for v in e {
                if tagged { v.encode(into: &out) } else { v.encodeValue(into: &out, tagged: false) }
            }
        case .compactArray(let t, let e):
            // Only ever tagged: a compact array cannot be an element of another (decoding refuses it).
            t.encode(into: &out)
            var contents: [UInt8] = []
            for v in e { v.encodeValue(into: &contents, tagged: false) }
            out.appendLengthPrefixed(contents)
        case .boolean(let b): out.append(b ? 1 : 0)
        case .bitString(let b):
            out.appendLengthField(b.count)
            out.append(contentsOf: b.bytes)
        case .doubleLong(let v): out.appendBigEndian(v)
        case .doubleLongUnsigned(let v): out.appendBigEndian(v)
        case .octetString(let b), .visibleString(let b), .utf8String(let b): out.appendLengthPrefixed(b)
        case .bcd(let v), .unsigned(let v), .enumerated(let v): out.append(v)
        case .integer(let v): out.append(UInt8(bitPattern: v))
        case .long(let v): out.appendBigEndian(v)
        case .longUnsigned(let v): out.appendBigEndian(v)
        case .long64(let v): out.appendBigEndian(v)
        case .long64Unsigned(let v): out.appendBigEndian(v)
        case .float32(let bits): out.appendBigEndian(bits)
        case .float64(let bits): out.appendBigEndian(bits)
        case .dateTime(let d): out.append(contentsOf: d.bytes)
        case .date(let d): out.append(contentsOf: d.bytes)
        case .time(let t): out.append(contentsOf: t.bytes)
        }
    }

    static func decode(_ c: inout ByteCursor, depth: Int) throws(DecodeError) -> DLMSData {
        let start = c.offset
        let tag = try c.u8()
        guard let type = DLMSDataType(rawValue: tag) else {
            throw c.error(.malformed, "unknown data type \(tag)", at: start)
        }
        switch type {
        case .array, .structure:
            guard depth < maxDepth else {
                throw c.error(.malformed, "data nested deeper than \(maxDepth)", at: start)
            }
            let count = try c.lengthField()
            // Every element takes at least its tag byte.
            guard count <= c.remaining else {
                throw c.error(.needMore(count: count - c.remaining),
                              "\(type) of \(count) elements, \(c.remaining) bytes left")
            }
            var elements: [DLMSData] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try decode(&c, depth: depth + 1)) }
            return type == .array ? .array(elements) : .structure(elements)
        case .compactArray:
            guard depth < maxDepth else {
                throw c.error(.malformed, "data nested deeper than \(maxDepth)", at: start)
            }
            let description = try TypeDescription.decode(&c, depth: depth + 1)
            if description.hasEmptyPart {
                throw c.error(.unsupported, "compact-array with parts that take no bytes (\(description))", at: start)
            }
            var contents = try c.subCursor(try c.lengthField())
            var elements: [DLMSData] = []
            while !contents.isAtEnd {
                elements.append(try decodeUntagged(&contents, description, depth: depth + 1))
            }
            return .compactArray(description, elements)
        default:
            return try decodeSimple(&c, type)
        }
    }

    /// A compact array element: its parts are untagged, counts come from the description.
    private static func decodeUntagged(_ c: inout ByteCursor, _ description: TypeDescription,
                                       depth: Int) throws(DecodeError) -> DLMSData {
        switch description {
        case .simple(let t):
            return try decodeSimple(&c, t)
        case .array(let n, let e):
            var elements: [DLMSData] = []
            for _ in 0..<n { elements.append(try decodeUntagged(&c, e, depth: depth + 1)) }
            return .array(elements)
        case .structure(let parts):
            var elements: [DLMSData] = []
            elements.reserveCapacity(parts.count)
            for p in parts { elements.append(try decodeUntagged(&c, p, depth: depth + 1)) }
            return .structure(elements)
        }
    }

    /// The value of a type without parts, after its tag.
    private static func decodeSimple(_ c: inout ByteCursor, _ type: DLMSDataType) throws(DecodeError) -> DLMSData {
        switch type {
        case .nullData: return .null
        case .dontCare: return .dontCare
        case .boolean: return .boolean(try c.u8() != 0)
        case .bitString:
            let start = c.offset
            let bits = try c.lengthField()
            let (bytes, overflow) = bits.addingReportingOverflow(7)
            guard !overflow else { throw c.error(.outOfRange, "bit-string of \(bits) bits", at: start) }
            let value = try c.take(bytes / 8)
            // take() checked the count, so the bit string is consistent.
            guard let b = BitString(count: bits, bytes: value) else {
                throw c.error(.malformed, "bit-string of \(bits) bits", at: start)
            }
            return .bitString(b)
        case .doubleLong: return .doubleLong(Int32(truncatingIfNeeded: try c.uintBE(4)))
        case .doubleLongUnsigned: return .doubleLongUnsigned(UInt32(truncatingIfNeeded: try c.uintBE(4)))
        case .octetString: return .octetString(try c.lengthPrefixedBytes())
        case .visibleString: return .visibleString(try c.lengthPrefixedBytes())
        case .utf8String: return .utf8String(try c.lengthPrefixedBytes())
        case .bcd: return .bcd(try c.u8())
        case .integer: return .integer(Int8(bitPattern: try c.u8()))
        case .long: return .long(Int16(truncatingIfNeeded: try c.uintBE(2)))
        case .unsigned: return .unsigned(try c.u8())
        case .longUnsigned: return .longUnsigned(UInt16(truncatingIfNeeded: try c.uintBE(2)))
        case .long64: return .long64(Int64(bitPattern: try c.uintBE(8)))
        case .long64Unsigned: return .long64Unsigned(try c.uintBE(8))
        case .enumerated: return .enumerated(try c.u8())
        case .float32: return .float32(bits: UInt32(truncatingIfNeeded: try c.uintBE(4)))
        case .float64: return .float64(bits: try c.uintBE(8))
        case .dateTime: return .dateTime(COSEMDateTime(unchecked: try c.take(12)))
        case .date: return .date(COSEMDate(unchecked: try c.take(5)))
        case .time: return .time(COSEMTime(unchecked: try c.take(4)))
        case .array, .structure, .compactArray:
            // Parts are handled by the callers; a description never yields these as simple.
            throw c.error(.malformed, "\(type) where a simple type is expected")
        }
    }
}
