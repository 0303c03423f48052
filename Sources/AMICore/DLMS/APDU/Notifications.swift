/// `Data-Notification` (tag 15; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The DataNotification
/// service"): what a meter pushes unasked.
public struct DataNotification: Sendable, Hashable {
    public var invokeID: LongInvokeIDAndPriority
    /// When the data was taken; sent as an octet-string, empty when absent.
    public var dateTime: COSEMDateTime?
    public var body: DLMSData

    public init(invokeID: LongInvokeIDAndPriority, dateTime: COSEMDateTime? = nil, body: DLMSData) {
        self.invokeID = invokeID
        self.dateTime = dateTime
        self.body = body
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> DataNotification {
        let invoke = LongInvokeIDAndPriority(rawValue: UInt32(truncatingIfNeeded: try c.uintBE(4)))
        let start = c.offset
        let time = try c.lengthPrefixedBytes()
        let dateTime: COSEMDateTime?
        if time.isEmpty {
            dateTime = nil
        } else if let d = COSEMDateTime(bytes: time) {
            dateTime = d
        } else {
            throw c.error(.malformed, "data-notification date-time of \(time.count) bytes, not 0 or 12", at: start)
        }
        return DataNotification(invokeID: invoke, dateTime: dateTime, body: try DLMSData.decode(&c))
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.dataNotification)
        out.appendBigEndian(invokeID.rawValue)
        out.appendLengthPrefixed(dateTime?.bytes ?? [])
        body.encode(into: &out)
    }
}

/// `EventNotificationRequest` (tag 194; DLMS UA 1000-2 Ed. 10, "The EventNotification service"):
/// an attribute's value sent unasked, with an optional time.
public struct EventNotification: Sendable, Hashable {
    /// When the event happened (12 bytes when a date-time), if sent.
    public var time: [UInt8]?
    public var attribute: AttributeDescriptor
    public var value: DLMSData

    public init(time: [UInt8]? = nil, attribute: AttributeDescriptor, value: DLMSData) {
        self.time = time
        self.attribute = attribute
        self.value = value
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> EventNotification {
        let time = try c.optionalFlag("time") ? try c.lengthPrefixedBytes() : nil
        let attribute = try AttributeDescriptor.decode(&c)
        return EventNotification(time: time, attribute: attribute, value: try DLMSData.decode(&c))
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.eventNotificationRequest)
        if let time {
            out.append(1)
            out.appendLengthPrefixed(time)
        } else {
            out.append(0)
        }
        attribute.encode(into: &out)
        value.encode(into: &out)
    }
}

/// `ExceptionResponse` (tag 216; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "ExceptionResponse"): the
/// server could not handle a request at all.
public struct ExceptionResponse: Sendable, Hashable, CustomStringConvertible {
    /// 1 service-not-allowed, 2 service-unknown.
    public var stateError: UInt8
    public var serviceError: ServiceError

    /// The service-error CHOICE.
    public enum ServiceError: Sendable, Hashable, CustomStringConvertible {
        case operationNotPossible
        case serviceNotSupported
        case otherReason
        case pduTooLong
        case decipheringError
        /// The invocation counter was not above the last one the server accepted; the server's
        /// expected value.
        case invocationCounterError(UInt32)
        /// A code the standard does not assign.
        case other(UInt8)

        var code: UInt8 {
            switch self {
            case .operationNotPossible: 1
            case .serviceNotSupported: 2
            case .otherReason: 3
            case .pduTooLong: 4
            case .decipheringError: 5
            case .invocationCounterError: 6
            case .other(let c): c
            }
        }

        public var description: String {
            switch self {
            case .operationNotPossible: "operation-not-possible"
            case .serviceNotSupported: "service-not-supported"
            case .otherReason: "other-reason"
            case .pduTooLong: "pdu-too-long"
            case .decipheringError: "deciphering-error"
            case .invocationCounterError(let ic): "invocation-counter-error \(ic)"
            case .other(let c): "service-error \(c)"
            }
        }
    }

    public init(stateError: UInt8, serviceError: ServiceError) {
        self.stateError = stateError
        self.serviceError = serviceError
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> ExceptionResponse {
        let state = try c.u8()
        let service: ServiceError
        switch try c.u8() {
        case 1: service = .operationNotPossible
        case 2: service = .serviceNotSupported
        case 3: service = .otherReason
        case 4: service = .pduTooLong
        case 5: service = .decipheringError
        case 6: service = .invocationCounterError(UInt32(truncatingIfNeeded: try c.uintBE(4)))
        case let b: service = .other(b)
        }
        return ExceptionResponse(stateError: state, serviceError: service)
    }

    func encode(into out: inout [UInt8]) {
        out += [APDUTag.exceptionResponse, stateError, serviceError.code]
        if case .invocationCounterError(let ic) = serviceError { out.appendBigEndian(ic) }
    }

    public var description: String {
        let state = switch stateError {
        case 1: "service-not-allowed"
        case 2: "service-unknown"
        default: "state-error \(stateError)"
        }
        return "\(state), \(serviceError)"
    }
}
