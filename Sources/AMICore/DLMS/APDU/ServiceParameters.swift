/// `Invoke-Id-And-Priority` (DLMS UA 1000-2, "COSEM APDU protocol"): invoke id in bits 0–3,
/// service class in bit 6 (1 confirmed), priority in bit 7 (1 high).
public struct InvokeIDAndPriority: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Invoke id `invokeID` (0…15, higher bits are dropped), confirmed and high priority by default
    /// (`0xC1` for id 1, as most clients send).
    public init(invokeID: UInt8, confirmed: Bool = true, highPriority: Bool = true) {
        rawValue = (invokeID & 0x0F) | (confirmed ? 0x40 : 0) | (highPriority ? 0x80 : 0)
    }

    public var invokeID: UInt8 { rawValue & 0x0F }
    public var isConfirmed: Bool { rawValue & 0x40 != 0 }
    public var isHighPriority: Bool { rawValue & 0x80 != 0 }

    public var description: String {
        "invoke id \(invokeID)\(isConfirmed ? "" : " unconfirmed")\(isHighPriority ? " high priority" : "")"
    }
}

/// `Long-Invoke-Id-And-Priority` (DLMS UA 1000-2, data-notification and general-block-transfer):
/// invoke id in bits 0–23, self-descriptive bit 28, break-on-error bit 29, confirmed bit 30,
/// high priority bit 31.
public struct LongInvokeIDAndPriority: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public var invokeID: UInt32 { rawValue & 0x00FF_FFFF }
    public var isSelfDescriptive: Bool { rawValue & (1 << 28) != 0 }
    public var breaksOnError: Bool { rawValue & (1 << 29) != 0 }
    public var isConfirmed: Bool { rawValue & (1 << 30) != 0 }
    public var isHighPriority: Bool { rawValue & (1 << 31) != 0 }

    public var description: String {
        "invoke id \(invokeID)\(isConfirmed ? "" : " unconfirmed")\(isHighPriority ? " high priority" : "")"
    }
}

/// `Data-Access-Result` (DLMS UA 1000-2, "COSEM APDU protocol"): the outcome of reading or writing
/// an attribute.
public struct DataAccessResult: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = DataAccessResult(rawValue: 0)
    public static let hardwareFault = DataAccessResult(rawValue: 1)
    public static let temporaryFailure = DataAccessResult(rawValue: 2)
    public static let readWriteDenied = DataAccessResult(rawValue: 3)
    public static let objectUndefined = DataAccessResult(rawValue: 4)
    public static let objectClassInconsistent = DataAccessResult(rawValue: 9)
    public static let objectUnavailable = DataAccessResult(rawValue: 11)
    public static let typeUnmatched = DataAccessResult(rawValue: 12)
    public static let scopeOfAccessViolated = DataAccessResult(rawValue: 13)
    public static let dataBlockUnavailable = DataAccessResult(rawValue: 14)
    public static let longGetAborted = DataAccessResult(rawValue: 15)
    public static let noLongGetInProgress = DataAccessResult(rawValue: 16)
    public static let longSetAborted = DataAccessResult(rawValue: 17)
    public static let noLongSetInProgress = DataAccessResult(rawValue: 18)
    public static let dataBlockNumberInvalid = DataAccessResult(rawValue: 19)
    public static let otherReason = DataAccessResult(rawValue: 250)

    /// The standard's name (`object-undefined`), nil for an unassigned code.
    public var name: String? {
        switch rawValue {
        case 0: "success"
        case 1: "hardware-fault"
        case 2: "temporary-failure"
        case 3: "read-write-denied"
        case 4: "object-undefined"
        case 9: "object-class-inconsistent"
        case 11: "object-unavailable"
        case 12: "type-unmatched"
        case 13: "scope-of-access-violated"
        case 14: "data-block-unavailable"
        case 15: "long-get-aborted"
        case 16: "no-long-get-in-progress"
        case 17: "long-set-aborted"
        case 18: "no-long-set-in-progress"
        case 19: "data-block-number-invalid"
        case 250: "other-reason"
        default: nil
        }
    }

    public var description: String { name ?? "data-access-result \(rawValue)" }
}

/// `Action-Result` (DLMS UA 1000-2, "COSEM APDU protocol"): the outcome of invoking a method.
public struct ActionResult: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let success = ActionResult(rawValue: 0)
    public static let hardwareFault = ActionResult(rawValue: 1)
    public static let temporaryFailure = ActionResult(rawValue: 2)
    public static let readWriteDenied = ActionResult(rawValue: 3)
    public static let objectUndefined = ActionResult(rawValue: 4)
    public static let objectClassInconsistent = ActionResult(rawValue: 9)
    public static let objectUnavailable = ActionResult(rawValue: 11)
    public static let typeUnmatched = ActionResult(rawValue: 12)
    public static let scopeOfAccessViolated = ActionResult(rawValue: 13)
    public static let dataBlockUnavailable = ActionResult(rawValue: 14)
    public static let longActionAborted = ActionResult(rawValue: 15)
    public static let noLongActionInProgress = ActionResult(rawValue: 16)
    public static let otherReason = ActionResult(rawValue: 250)

    /// The standard's name (`object-undefined`), nil for an unassigned code.
    public var name: String? {
        switch rawValue {
        case 15: "long-action-aborted"
        case 16: "no-long-action-in-progress"
        case 17, 18, 19: nil
        default: DataAccessResult(rawValue: rawValue).name
        }
    }

    public var description: String { name ?? "action-result \(rawValue)" }
}

/// `Get-Data-Result`: data, or why there is none.
public enum GetDataResult: Sendable, Hashable, CustomStringConvertible {
    case data(DLMSData)
    case error(DataAccessResult)

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> GetDataResult {
        let start = c.offset
        switch try c.u8() {
        case 0: return .data(try DLMSData.decode(&c))
        case 1: return .error(DataAccessResult(rawValue: try c.u8()))
        case let b: throw c.error(.malformed, "Get-Data-Result choice \(b)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        switch self {
        case .data(let d):
            out.append(0)
            d.encode(into: &out)
        case .error(let e):
            out += [1, e.rawValue]
        }
    }

    public var description: String {
        switch self {
        case .data(let d): d.description
        case .error(let e): e.description
        }
    }
}

/// `DataBlock-G`, a block of a long GET response: raw bytes of the encoded data, or an error.
public struct DataBlockG: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case rawData([UInt8])
        case error(DataAccessResult)
    }

    public var lastBlock: Bool
    public var blockNumber: UInt32
    public var content: Content

    public init(lastBlock: Bool, blockNumber: UInt32, content: Content) {
        self.lastBlock = lastBlock
        self.blockNumber = blockNumber
        self.content = content
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> DataBlockG {
        let last = try c.u8() != 0
        let number = try c.blockNumber()
        let start = c.offset
        switch try c.u8() {
        case 0: return DataBlockG(lastBlock: last, blockNumber: number, content: .rawData(try c.lengthPrefixedBytes()))
        case 1: return DataBlockG(lastBlock: last, blockNumber: number, content: .error(DataAccessResult(rawValue: try c.u8())))
        case let b: throw c.error(.malformed, "DataBlock-G result choice \(b)", at: start)
        }
    }

    func encode(into out: inout [UInt8]) {
        out.append(lastBlock ? 1 : 0)
        out.appendBigEndian(blockNumber)
        switch content {
        case .rawData(let raw):
            out.append(0)
            out.appendLengthPrefixed(raw)
        case .error(let e):
            out += [1, e.rawValue]
        }
    }
}

/// `DataBlock-SA`, a block of a long SET or ACTION: raw bytes of the encoded data.
public struct DataBlockSA: Sendable, Hashable {
    public var lastBlock: Bool
    public var blockNumber: UInt32
    public var rawData: [UInt8]

    public init(lastBlock: Bool, blockNumber: UInt32, rawData: [UInt8]) {
        self.lastBlock = lastBlock
        self.blockNumber = blockNumber
        self.rawData = rawData
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> DataBlockSA {
        let last = try c.u8() != 0
        let number = try c.blockNumber()
        return DataBlockSA(lastBlock: last, blockNumber: number, rawData: try c.lengthPrefixedBytes())
    }

    func encode(into out: inout [UInt8]) {
        out.append(lastBlock ? 1 : 0)
        out.appendBigEndian(blockNumber)
        out.appendLengthPrefixed(rawData)
    }
}

extension ByteCursor {
    /// A SEQUENCE OF: an element count, then the elements. The count may not exceed the bytes left,
    /// since every element takes at least one.
    mutating func sequence<T>(_ what: String, _ element: (inout ByteCursor) throws(DecodeError) -> T) throws(DecodeError) -> [T] {
        let count = try lengthField()
        guard count <= remaining else {
            throw error(.needMore(count: count - remaining), "\(what) of \(count) elements, \(remaining) bytes left")
        }
        var out: [T] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }

    /// The start of a GET, SET or ACTION APDU after its tag: the CHOICE byte (and its offset, for
    /// errors) and the invoke-id-and-priority.
    mutating func serviceHeader() throws(DecodeError) -> (choice: UInt8, invokeID: InvokeIDAndPriority, at: Int) {
        let at = offset
        let choice = try u8()
        return (choice, InvokeIDAndPriority(rawValue: try u8()), at)
    }

    /// Four bytes of a block number.
    mutating func blockNumber() throws(DecodeError) -> UInt32 {
        UInt32(truncatingIfNeeded: try uintBE(4))
    }
}

extension Array where Element == UInt8 {
    /// A SEQUENCE OF: the count, then each element.
    mutating func appendSequence<T>(_ elements: [T], _ encode: (T, inout [UInt8]) -> Void) {
        appendLengthField(elements.count)
        for e in elements { encode(e, &self) }
    }
}
