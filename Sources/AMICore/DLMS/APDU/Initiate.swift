/// The xDLMS conformance block (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The xDLMS conformance
/// block"): 24 bits, bit 0 first; sent as `[APPLICATION 31] IMPLICIT BIT STRING`, `5F 1F 04 00` and
/// three bytes. `rawValue` holds bit 0 in its bit 23.
public struct Conformance: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue & 0xFF_FFFF }

    /// The conformance bit `n` (0…23) of the standard.
    public init(bit n: Int) { self.init(rawValue: n >= 0 && n < 24 ? 1 << UInt32(23 - n) : 0) }

    public static let reservedZero = Conformance(bit: 0)
    public static let generalProtection = Conformance(bit: 1)
    public static let generalBlockTransfer = Conformance(bit: 2)
    public static let read = Conformance(bit: 3)
    public static let write = Conformance(bit: 4)
    public static let unconfirmedWrite = Conformance(bit: 5)
    public static let deltaValueEncoding = Conformance(bit: 6)
    public static let reservedSeven = Conformance(bit: 7)
    public static let attribute0SupportedWithSet = Conformance(bit: 8)
    public static let priorityMgmtSupported = Conformance(bit: 9)
    public static let attribute0SupportedWithGet = Conformance(bit: 10)
    public static let blockTransferWithGetOrRead = Conformance(bit: 11)
    public static let blockTransferWithSetOrWrite = Conformance(bit: 12)
    public static let blockTransferWithAction = Conformance(bit: 13)
    public static let multipleReferences = Conformance(bit: 14)
    public static let informationReport = Conformance(bit: 15)
    public static let dataNotification = Conformance(bit: 16)
    public static let access = Conformance(bit: 17)
    public static let parameterizedAccess = Conformance(bit: 18)
    public static let get = Conformance(bit: 19)
    public static let set = Conformance(bit: 20)
    public static let selectiveAccess = Conformance(bit: 21)
    public static let eventNotification = Conformance(bit: 22)
    public static let action = Conformance(bit: 23)

    /// The standard's names of bits 0…23.
    public static let bitNames = [
        "reserved-zero", "general-protection", "general-block-transfer", "read", "write", "unconfirmed-write",
        "delta-value-encoding", "reserved-seven", "attribute0-supported-with-set", "priority-mgmt-supported",
        "attribute0-supported-with-get", "block-transfer-with-get-or-read", "block-transfer-with-set-or-write",
        "block-transfer-with-action", "multiple-references", "information-report", "data-notification",
        "access", "parameterized-access", "get", "set", "selective-access", "event-notification", "action",
    ]

    /// The names of the bits set, in bit order.
    public var names: [String] {
        (0..<24).filter { contains(Conformance(bit: $0)) }.map { Conformance.bitNames[$0] }
    }

    public var description: String { names.joined(separator: " ") }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> Conformance {
        let start = c.offset
        let header = try c.take(4)
        guard header == [0x5F, 0x1F, 0x04, 0x00] else {
            throw c.error(.malformed, "conformance block header \(Hex.string(header)), not 5f1f0400", at: start)
        }
        return Conformance(rawValue: UInt32(truncatingIfNeeded: try c.uintBE(3)))
    }

    func encode(into out: inout [UInt8]) {
        out += [0x5F, 0x1F, 0x04, 0x00,
                UInt8(truncatingIfNeeded: rawValue >> 16), UInt8(truncatingIfNeeded: rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)]
    }
}

/// `InitiateRequest` (tag 1; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The xDLMS InitiateRequest"):
/// the client's proposal, carried in the AARQ's user-information.
public struct InitiateRequest: Sendable, Hashable {
    /// The dedicated key for ded- ciphering during the association, if the client sends one.
    public var dedicatedKey: DLMSKey?
    /// `response-allowed`; nil when not sent (the default, true).
    public var responseAllowed: Bool?
    public var proposedQualityOfService: Int8?
    public var dlmsVersion: UInt8
    public var conformance: Conformance
    public var maxReceivePDUSize: UInt16

    public init(dedicatedKey: DLMSKey? = nil, responseAllowed: Bool? = nil, proposedQualityOfService: Int8? = nil,
                dlmsVersion: UInt8 = 6, conformance: Conformance, maxReceivePDUSize: UInt16 = 0xFFFF) {
        self.dedicatedKey = dedicatedKey
        self.responseAllowed = responseAllowed
        self.proposedQualityOfService = proposedQualityOfService
        self.dlmsVersion = dlmsVersion
        self.conformance = conformance
        self.maxReceivePDUSize = maxReceivePDUSize
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> InitiateRequest {
        var key: DLMSKey? = nil
        if try c.optionalFlag("dedicated-key") {
            let start = c.offset
            let bytes = try c.lengthPrefixedBytes()
            guard let k = DLMSKey(bytes) else {
                throw c.error(.unsupported, "dedicated key of \(bytes.count) bytes (16 expected)", at: start)
            }
            key = k
        }
        let allowed = try c.optionalFlag("response-allowed") ? try c.u8() != 0 : nil
        let qos = try c.optionalFlag("proposed-quality-of-service") ? Int8(bitPattern: try c.u8()) : nil
        let version = try c.u8()
        let conformance = try Conformance.decode(&c)
        return InitiateRequest(dedicatedKey: key, responseAllowed: allowed, proposedQualityOfService: qos,
                               dlmsVersion: version, conformance: conformance,
                               maxReceivePDUSize: UInt16(try c.uintBE(2)))
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.initiateRequest)
        if let dedicatedKey {
            out.append(1)
            out.appendLengthPrefixed(dedicatedKey.bytes)
        } else {
            out.append(0)
        }
        if let responseAllowed { out += [1, responseAllowed ? 1 : 0] } else { out.append(0) }
        if let q = proposedQualityOfService { out += [1, UInt8(bitPattern: q)] } else { out.append(0) }
        out.append(dlmsVersion)
        conformance.encode(into: &out)
        out.appendBigEndian(maxReceivePDUSize)
    }
}

/// `InitiateResponse` (tag 8; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "The xDLMS InitiateResponse"):
/// what the server accepted, carried in the AARE's user-information.
public struct InitiateResponse: Sendable, Hashable {
    public var negotiatedQualityOfService: Int8?
    public var dlmsVersion: UInt8
    public var conformance: Conformance
    public var maxReceivePDUSize: UInt16
    /// 0x0007 for LN referencing, 0xFA00 for SN.
    public var vaaName: UInt16

    public init(negotiatedQualityOfService: Int8? = nil, dlmsVersion: UInt8 = 6, conformance: Conformance,
                maxReceivePDUSize: UInt16, vaaName: UInt16 = 0x0007) {
        self.negotiatedQualityOfService = negotiatedQualityOfService
        self.dlmsVersion = dlmsVersion
        self.conformance = conformance
        self.maxReceivePDUSize = maxReceivePDUSize
        self.vaaName = vaaName
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> InitiateResponse {
        let qos = try c.optionalFlag("negotiated-quality-of-service") ? Int8(bitPattern: try c.u8()) : nil
        let version = try c.u8()
        let conformance = try Conformance.decode(&c)
        let size = UInt16(try c.uintBE(2))
        return InitiateResponse(negotiatedQualityOfService: qos, dlmsVersion: version, conformance: conformance,
                                maxReceivePDUSize: size, vaaName: UInt16(try c.uintBE(2)))
    }

    func encode(into out: inout [UInt8]) {
        out.append(APDUTag.initiateResponse)
        if let q = negotiatedQualityOfService { out += [1, UInt8(bitPattern: q)] } else { out.append(0) }
        out.append(dlmsVersion)
        conformance.encode(into: &out)
        out.appendBigEndian(maxReceivePDUSize)
        out.appendBigEndian(vaaName)
    }
}

/// `ConfirmedServiceError` (tag 14; DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3, "ConfirmedServiceError"):
/// which service failed and a ServiceError (error class and value), e.g. an AARE's
/// `initiateError / initiate / dlms-version-too-low`.
public struct ConfirmedServiceError: Sendable, Hashable, CustomStringConvertible {
    /// The service CHOICE: 1 initiateError, 2 getStatus, 3 getNameList, 4 getVariableAttribute,
    /// 5 read, 6 write, …
    public var service: UInt8
    /// The ServiceError CHOICE: 0 application-reference, 1 hardware-resource, 2 vde-state-error,
    /// 3 service, 4 definition, 5 access, 6 initiate, 7 load-data-set, 8 change-scope, 9 task, 10 other.
    public var errorClass: UInt8
    public var value: UInt8

    public init(service: UInt8, errorClass: UInt8, value: UInt8) {
        self.service = service
        self.errorClass = errorClass
        self.value = value
    }

    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> ConfirmedServiceError {
        let service = try c.u8()
        let errorClass = try c.u8()
        return ConfirmedServiceError(service: service, errorClass: errorClass, value: try c.u8())
    }

    func encode(into out: inout [UInt8]) {
        out += [APDUTag.confirmedServiceError, service, errorClass, value]
    }

    private static let services = [
        1: "initiateError", 2: "getStatus", 3: "getNameList", 4: "getVariableAttribute", 5: "read", 6: "write",
        7: "getDataSetAttribute", 8: "getTIAttribute", 9: "changeScope", 10: "start", 11: "stop", 12: "resume",
        13: "makeUsable", 14: "initiateLoad", 15: "loadSegment", 16: "terminateLoad", 17: "initiateUpLoad",
        18: "upLoadSegment", 19: "terminateUpLoad",
    ]

    private static let classes: [(name: String, values: [String])] = [
        ("application-reference", ["other", "time-elapsed", "application-unreachable", "application-reference-invalid",
                                   "application-context-unsupported", "provider-communication-error", "deciphering-error"]),
        ("hardware-resource", ["other", "memory-unavailable", "processor-resource-unavailable",
                               "mass-storage-unavailable", "other-resource-unavailable"]),
        ("vde-state-error", ["other", "no-dlms-context", "loading-data-set", "status-nochange", "status-inoperable"]),
        ("service", ["other", "pdu-size", "service-unsupported"]),
        ("definition", ["other", "object-undefined", "object-class-inconsistent", "object-attribute-inconsistent"]),
        ("access", ["other", "scope-of-access-violated", "object-access-violated", "hardware-fault", "object-unavailable"]),
        ("initiate", ["other", "dlms-version-too-low", "incompatible-conformance", "pdu-size-too-short",
                      "refused-by-the-VDE-Handler"]),
        ("load-data-set", ["other", "primitive-out-of-sequence", "not-loadable", "dataset-size-too-large",
                           "not-awaited-segment", "interpretation-failure", "storage-failure", "data-set-not-ready"]),
        ("change-scope", []),
        ("task", ["other", "no-remote-control", "ti-stopped", "ti-running", "ti-unusable"]),
        ("other", []),
    ]

    /// `initiateError: initiate: dlms-version-too-low`; unnamed codes as numbers.
    public var description: String {
        let s = ConfirmedServiceError.services[Int(service)] ?? "service \(service)"
        guard Int(errorClass) < ConfirmedServiceError.classes.count else { return "\(s): error class \(errorClass) \(value)" }
        let c = ConfirmedServiceError.classes[Int(errorClass)]
        let v = Int(value) < c.values.count ? c.values[Int(value)] : String(value)
        return "\(s): \(c.name): \(v)"
    }
}
