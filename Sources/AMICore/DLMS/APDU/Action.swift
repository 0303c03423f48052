/// `Action-Request` (tag 195; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The ACTION service").
public enum ActionRequest: Sendable, Hashable {
    /// Invokes one method, with optional parameters.
    case normal(invokeID: InvokeIDAndPriority, method: MethodDescriptor, parameters: DLMSData? = nil)
    /// Asks for the block after `blockNumber` of long return parameters.
    case nextPBlock(invokeID: InvokeIDAndPriority, blockNumber: UInt32)
    /// Invokes several methods; one parameter (null-data when none) per method.
    case withList(invokeID: InvokeIDAndPriority, methods: [MethodDescriptor], parameters: [DLMSData])
    /// Invokes one method whose encoded parameters are sent in blocks; this is the first.
    case withFirstPBlock(invokeID: InvokeIDAndPriority, method: MethodDescriptor, block: DataBlockSA)
    /// Invokes several methods whose encoded parameters are sent in blocks; this is the first.
    case withListAndFirstPBlock(invokeID: InvokeIDAndPriority, methods: [MethodDescriptor], block: DataBlockSA)
    /// A further block of parameters.
    case withPBlock(invokeID: InvokeIDAndPriority, block: DataBlockSA)

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _, _), .nextPBlock(let i, _), .withList(let i, _, _), .withFirstPBlock(let i, _, _),
             .withListAndFirstPBlock(let i, _, _), .withPBlock(let i, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> ActionRequest {
        let (choice, invoke, start) = try c.serviceHeader()
        switch choice {
        case 1:
            let method = try MethodDescriptor.decode(&c)
            let parameters = try c.optionalFlag("method-invocation-parameters") ? try DLMSData.decode(&c) : nil
            return .normal(invokeID: invoke, method: method, parameters: parameters)
        case 2:
            return .nextPBlock(invokeID: invoke, blockNumber: try c.blockNumber())
        case 3:
            let methods = try c.sequence("method list", MethodDescriptor.decode)
            return .withList(invokeID: invoke, methods: methods, parameters: try c.sequence("parameter list", DLMSData.decode))
        case 4:
            let method = try MethodDescriptor.decode(&c)
            return .withFirstPBlock(invokeID: invoke, method: method, block: try DataBlockSA.decode(&c))
        case 5:
            let methods = try c.sequence("method list", MethodDescriptor.decode)
            return .withListAndFirstPBlock(invokeID: invoke, methods: methods, block: try DataBlockSA.decode(&c))
        case 6:
            return .withPBlock(invokeID: invoke, block: try DataBlockSA.decode(&c))
        default:
            throw c.error(.unsupported, "action-request choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.actionRequest)
        switch self {
        case .normal(let i, let method, let parameters):
            out += [1, i.rawValue]
            method.encode(into: &out)
            if let parameters {
                out.append(1)
                parameters.encode(into: &out)
            } else {
                out.append(0)
            }
        case .nextPBlock(let i, let block):
            out += [2, i.rawValue]
            out.appendBigEndian(block)
        case .withList(let i, let methods, let parameters):
            out += [3, i.rawValue]
            out.appendSequence(methods) { $0.encode(into: &$1) }
            out.appendSequence(parameters) { $0.encode(into: &$1) }
        case .withFirstPBlock(let i, let method, let block):
            out += [4, i.rawValue]
            method.encode(into: &out)
            block.encode(into: &out)
        case .withListAndFirstPBlock(let i, let methods, let block):
            out += [5, i.rawValue]
            out.appendSequence(methods) { $0.encode(into: &$1) }
            block.encode(into: &out)
        case .withPBlock(let i, let block):
            out += [6, i.rawValue]
            block.encode(into: &out)
        }
    }
}

/// `Action-Response-With-Optional-Data`: the method's result and what it returned, if anything.
public struct ActionOutcome: Sendable, Hashable {
    public var result: ActionResult
    public var returnParameters: GetDataResult?

    public init(result: ActionResult, returnParameters: GetDataResult? = nil) {
        self.result = result
        self.returnParameters = returnParameters
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> ActionOutcome {
        let result = ActionResult(rawValue: try c.u8())
        let returned = try c.optionalFlag("return-parameters") ? try GetDataResult.decode(&c) : nil
        return ActionOutcome(result: result, returnParameters: returned)
    }

    func encode(into out: inout [UInt8]) {
        out.append(result.rawValue)
        if let returnParameters {
            out.append(1)
            returnParameters.encode(into: &out)
        } else {
            out.append(0)
        }
    }
}

/// `Action-Response` (tag 199; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The ACTION service").
public enum ActionResponse: Sendable, Hashable {
    case normal(invokeID: InvokeIDAndPriority, outcome: ActionOutcome)
    /// A block of long return parameters.
    case withPBlock(invokeID: InvokeIDAndPriority, block: DataBlockSA)
    case withList(invokeID: InvokeIDAndPriority, outcomes: [ActionOutcome])
    /// Asks for the block after `blockNumber` of long invocation parameters.
    case nextPBlock(invokeID: InvokeIDAndPriority, blockNumber: UInt32)

    public var invokeID: InvokeIDAndPriority {
        switch self {
        case .normal(let i, _), .withPBlock(let i, _), .withList(let i, _), .nextPBlock(let i, _): i
        }
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> ActionResponse {
        let (choice, invoke, start) = try c.serviceHeader()
        switch choice {
        case 1: return .normal(invokeID: invoke, outcome: try ActionOutcome.decode(&c))
        case 2: return .withPBlock(invokeID: invoke, block: try DataBlockSA.decode(&c))
        case 3: return .withList(invokeID: invoke, outcomes: try c.sequence("result list", ActionOutcome.decode))
        case 4: return .nextPBlock(invokeID: invoke, blockNumber: try c.blockNumber())
        default: throw c.error(.unsupported, "action-response choice \(choice)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.actionResponse)
        switch self {
        case .normal(let i, let outcome):
            out += [1, i.rawValue]
            outcome.encode(into: &out)
        case .withPBlock(let i, let block):
            out += [2, i.rawValue]
            block.encode(into: &out)
        case .withList(let i, let outcomes):
            out += [3, i.rawValue]
            out.appendSequence(outcomes) { $0.encode(into: &$1) }
        case .nextPBlock(let i, let block):
            out += [4, i.rawValue]
            out.appendBigEndian(block)
        }
    }
}
