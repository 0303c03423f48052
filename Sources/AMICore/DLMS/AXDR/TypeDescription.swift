/// The type of a compact array's elements: the `TypeDescription` CHOICE of DLMS UA 1000-2
/// ("COSEM APDU protocol", compact-array) and IEC 62056-6-2 §4.1.5.
public indirect enum TypeDescription: Sendable, Hashable, CustomStringConvertible {
    /// A type without parts: any type but array, structure and compact-array.
    case simple(DLMSDataType)
    /// `count` elements of one type.
    case array(count: UInt16, element: TypeDescription)
    /// One element of each type, in order.
    case structure([TypeDescription])

    public var description: String {
        switch self {
        case .simple(let t): t.description
        case .array(let n, let e): "array[\(n)] of \(e)"
        case .structure(let parts): "structure{" + parts.map(\.description).joined(separator: ", ") + "}"
        }
    }

    /// True when some part of this type takes no bytes in a compact array: null-data, dont-care, an
    /// empty structure or array. Decoding refuses such types: they would let a few input bytes
    /// stand for any number of values.
    var hasEmptyPart: Bool {
        switch self {
        case .simple(let t): t == .nullData || t == .dontCare
        case .array(let n, let e): n == 0 || e.hasEmptyPart
        case .structure(let parts): parts.isEmpty || parts.contains(where: \.hasEmptyPart)
        }
    }

    /// Decodes a type description; nesting is limited like data (`DLMSData.maxDepth`).
    static func decode(_ c: inout ByteCursor, depth: Int) throws(DecodeError) -> TypeDescription {
        let start = c.offset
        guard depth < DLMSData.maxDepth else {
            throw c.error(.malformed, "type description nested deeper than \(DLMSData.maxDepth)", at: start)
        }
        let tag = try c.u8()
        guard let type = DLMSDataType(rawValue: tag) else {
            throw c.error(.malformed, "unknown data type \(tag) in a type description", at: start)
        }
        switch type {
        case .array:
            let count = UInt16(try c.uintBE(2))
            return .array(count: count, element: try decode(&c, depth: depth + 1))
        case .structure:
            let count = try c.lengthField()
            guard count <= c.remaining else {
                throw c.error(.needMore(count: count - c.remaining),
                              "structure type of \(count) elements, \(c.remaining) bytes left")
            }
            var parts: [TypeDescription] = []
            parts.reserveCapacity(count)
            for _ in 0..<count { parts.append(try decode(&c, depth: depth + 1)) }
            return .structure(parts)
        case .compactArray:
            throw c.error(.malformed, "compact-array inside a compact-array type", at: start)
        default:
            return .simple(type)
        }
    }

    /// Appends the encoded type description.
    func encode(into out: inout [UInt8]) {
        switch self {
        case .simple(let t):
            out.append(t.rawValue)
        case .array(let n, let e):
            out.append(DLMSDataType.array.rawValue)
            out.appendBigEndian(n)
            e.encode(into: &out)
        case .structure(let parts):
            out.append(DLMSDataType.structure.rawValue)
            out.appendLengthField(parts.count)
            for p in parts { p.encode(into: &out) }
        }
    }
}
