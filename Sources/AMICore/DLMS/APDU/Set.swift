/// `Set-Request` (tag 193; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The SET service").
public enum SetRequest: Sendable, Hashable {
    /// Writes one attribute.
    case normal(invokeID: InvokeIDAndPriority, attribute: AttributeDescriptor, access: SelectiveAccess? = nil, value: DLMSData)
    /// Writes one attribute whose encoded value is sent in blocks; this is the first.
    case withFirstDataBlock(invokeID: InvokeIDAndPriority, attribute: AttributeDescriptor, access: SelectiveAccess? = nil, block: DataBlockSA)
    /// A further block of a long SET.
    case withDataBlock(invokeID: InvokeIDAndPriority, block: DataBlockSA)
    /// Writes several attributes.
    case withList(invokeID: InvokeIDAndPriority, attributes: [AttributeSelection], values: [DLMSData])
    /// Writes several attributes whose encoded values are sent in blocks; this is the first.
    case withListAndFirstDataBlock(invokeID: InvokeIDAndPriority, attributes: [AttributeSelection], block: DataBlockSA)

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _, _, _), .withFirstDataBlock(let i, _, _, _), .withDataBlock(let i, _),
             .withList(let i, _, _), .withListAndFirstDataBlock(let i, _, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> SetRequest {
        let (choice, invoke, start) = try c.serviceHeader()
        switch choice {
        case 1:
            let attribute = try AttributeDescriptor.decode(&c)
            let access = try SelectiveAccess.decodeOptional(&c)
            return .normal(invokeID: invoke, attribute: attribute, access: access, value: try DLMSData.decode(&c))
        case 2:
            let attribute = try AttributeDescriptor.decode(&c)
            let access = try SelectiveAccess.decodeOptional(&c)
            return .withFirstDataBlock(invokeID: invoke, attribute: attribute, access: access, block: try DataBlockSA.decode(&c))
        case 3:
            return .withDataBlock(invokeID: invoke, block: try DataBlockSA.decode(&c))
        case 4:
            let attributes = try c.sequence("attribute list", AttributeSelection.decode)
            return .withList(invokeID: invoke, attributes: attributes, values: try c.sequence("value list", DLMSData.decode))
        case 5:
            let attributes = try c.sequence("attribute list", AttributeSelection.decode)
            return .withListAndFirstDataBlock(invokeID: invoke, attributes: attributes, block: try DataBlockSA.decode(&c))
        default:
            throw c.error(.unsupported, "set-request choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.setRequest)
        switch self {
        case .normal(let i, let attribute, let access, let value):
            out += [1, i.rawValue]
            attribute.encode(into: &out)
            SelectiveAccess.encodeOptional(access, into: &out)
            value.encode(into: &out)
        case .withFirstDataBlock(let i, let attribute, let access, let block):
            out += [2, i.rawValue]
            attribute.encode(into: &out)
            SelectiveAccess.encodeOptional(access, into: &out)
            block.encode(into: &out)
        case .withDataBlock(let i, let block):
            out += [3, i.rawValue]
            block.encode(into: &out)
        case .withList(let i, let attributes, let values):
            out += [4, i.rawValue]
            out.appendSequence(attributes) { $0.encode(into: &$1) }
            out.appendSequence(values) { $0.encode(into: &$1) }
        case .withListAndFirstDataBlock(let i, let attributes, let block):
            out += [5, i.rawValue]
            out.appendSequence(attributes) { $0.encode(into: &$1) }
            block.encode(into: &out)
        }
    }
}

/// `Set-Response` (tag 197; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The SET service").
public enum SetResponse: Sendable, Hashable {
    case normal(invokeID: InvokeIDAndPriority, result: DataAccessResult)
    /// Acknowledges block `blockNumber` of a long SET.
    case dataBlock(invokeID: InvokeIDAndPriority, blockNumber: UInt32)
    /// Answers the last block of a long SET.
    case lastDataBlock(invokeID: InvokeIDAndPriority, result: DataAccessResult, blockNumber: UInt32)
    /// Answers the last block of a long SET with list.
    case lastDataBlockWithList(invokeID: InvokeIDAndPriority, results: [DataAccessResult], blockNumber: UInt32)
    case withList(invokeID: InvokeIDAndPriority, results: [DataAccessResult])

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _), .dataBlock(let i, _), .lastDataBlock(let i, _, _),
             .lastDataBlockWithList(let i, _, _), .withList(let i, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> SetResponse {
        let (choice, invoke, start) = try c.serviceHeader()
        func result(_ c: inout ByteCursor) throws(DecodeError) -> DataAccessResult {
            DataAccessResult(rawValue: try c.u8())
        }
        switch choice {
        case 1:
            return .normal(invokeID: invoke, result: try result(&c))
        case 2:
            return .dataBlock(invokeID: invoke, blockNumber: try c.blockNumber())
        case 3:
            let r = try result(&c)
            return .lastDataBlock(invokeID: invoke, result: r, blockNumber: try c.blockNumber())
        case 4:
            let results = try c.sequence("result list", result)
            return .lastDataBlockWithList(invokeID: invoke, results: results, blockNumber: try c.blockNumber())
        case 5:
            return .withList(invokeID: invoke, results: try c.sequence("result list", result))
        default:
            throw c.error(.unsupported, "set-response choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.setResponse)
        switch self {
        case .normal(let i, let r):
            out += [1, i.rawValue, r.rawValue]
        case .dataBlock(let i, let block):
            out += [2, i.rawValue]
            out.appendBigEndian(block)
        case .lastDataBlock(let i, let r, let block):
            out += [3, i.rawValue, r.rawValue]
            out.appendBigEndian(block)
        case .lastDataBlockWithList(let i, let results, let block):
            out += [4, i.rawValue]
            out.appendSequence(results) { $1.append($0.rawValue) }
            out.appendBigEndian(block)
        case .withList(let i, let results):
            out += [5, i.rawValue]
            out.appendSequence(results) { $1.append($0.rawValue) }
        }
    }
}
