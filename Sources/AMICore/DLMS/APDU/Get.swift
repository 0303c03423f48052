/// An attribute with an optional selective access, as listed in GET and SET with-list requests
/// (`Cosem-Attribute-Descriptor-With-Selection`).
public struct AttributeSelection: Sendable, Hashable {
    public var attribute: AttributeDescriptor
    public var access: SelectiveAccess?

    public init(attribute: AttributeDescriptor, access: SelectiveAccess? = nil) {
        self.attribute = attribute
        self.access = access
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> AttributeSelection {
        let attribute = try AttributeDescriptor.decode(&c)
        return AttributeSelection(attribute: attribute, access: try SelectiveAccess.decodeOptional(&c))
    }

    func encode(into out: inout [UInt8]) {
        attribute.encode(into: &out)
        SelectiveAccess.encodeOptional(access, into: &out)
    }
}

/// `Get-Request` (tag 192; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The GET service").
public enum GetRequest: Sendable, Hashable {
    /// Reads one attribute.
    case normal(invokeID: InvokeIDAndPriority, attribute: AttributeDescriptor, access: SelectiveAccess? = nil)
    /// Asks for the block after `blockNumber` of a long response.
    case next(invokeID: InvokeIDAndPriority, blockNumber: UInt32)
    /// Reads several attributes.
    case withList(invokeID: InvokeIDAndPriority, attributes: [AttributeSelection])

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _, _), .next(let i, _), .withList(let i, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> GetRequest {
        let (choice, invoke, start) = try c.serviceHeader()
        switch choice {
        case 1:
            let attribute = try AttributeDescriptor.decode(&c)
            return .normal(invokeID: invoke, attribute: attribute, access: try SelectiveAccess.decodeOptional(&c))
        case 2:
            return .next(invokeID: invoke, blockNumber: try c.blockNumber())
        case 3:
            return .withList(invokeID: invoke, attributes: try c.sequence("attribute list", AttributeSelection.decode))
        default:
            throw c.error(.unsupported, "get-request choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.getRequest)
        switch self {
        case .normal(let i, let attribute, let access):
            out += [1, i.rawValue]
            attribute.encode(into: &out)
            SelectiveAccess.encodeOptional(access, into: &out)
        case .next(let i, let block):
            out += [2, i.rawValue]
            out.appendBigEndian(block)
        case .withList(let i, let attributes):
            out += [3, i.rawValue]
            out.appendSequence(attributes) { $0.encode(into: &$1) }
        }
    }
}

/// `Get-Response` (tag 196; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The GET service").
public enum GetResponse: Sendable, Hashable {
    /// The attribute's value, or why there is none.
    case normal(invokeID: InvokeIDAndPriority, result: GetDataResult)
    /// One block of a long response: raw bytes of the encoded value, to be joined in block order.
    case withDataBlock(invokeID: InvokeIDAndPriority, block: DataBlockG)
    /// One result per requested attribute.
    case withList(invokeID: InvokeIDAndPriority, results: [GetDataResult])

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _), .withDataBlock(let i, _), .withList(let i, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> GetResponse {
        let (choice, invoke, start) = try c.serviceHeader()
        switch choice {
        case 1: return .normal(invokeID: invoke, result: try GetDataResult.decode(&c))
        case 2: return .withDataBlock(invokeID: invoke, block: try DataBlockG.decode(&c))
        case 3: return .withList(invokeID: invoke, results: try c.sequence("result list", GetDataResult.decode))
        default: throw c.error(.unsupported, "get-response choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.getResponse)
        switch self {
        case .normal(let i, let result):
            out += [1, i.rawValue]
            result.encode(into: &out)
        case .withDataBlock(let i, let block):
            out += [2, i.rawValue]
            block.encode(into: &out)
        case .withList(let i, let results):
            out += [3, i.rawValue]
            out.appendSequence(results) { $0.encode(into: &$1) }
        }
    }
}
