/// `Cosem-Attribute-Descriptor` (DLMS UA 1000-2, "COSEM APDU protocol", LN referencing): the class,
/// the logical name and the attribute index, sent without tags.
public struct AttributeDescriptor: Sendable, Hashable, CustomStringConvertible, ItemReference {
    public var classID: UInt16
    public var instance: OBISCode
    public var attributeID: Int8

    public init(classID: UInt16, instance: OBISCode, attributeID: Int8) {
        self.classID = classID
        self.instance = instance
        self.attributeID = attributeID
    }

    init(classID: UInt16, instance: OBISCode, index: Int8) { self.init(classID: classID, instance: instance, attributeID: index) }
    var index: Int8 { attributeID }

    /// `class 3 1-0:1.8.0*255 attribute 2`.
    public var description: String { "class \(classID) \(instance) attribute \(attributeID)" }
}

/// `Cosem-Method-Descriptor` (DLMS UA 1000-2, "COSEM APDU protocol"): class, logical name, method index.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible, ItemReference {
    public var classID: UInt16
    public var instance: OBISCode
    public var methodID: Int8

    public init(classID: UInt16, instance: OBISCode, methodID: Int8) {
        self.classID = classID
        self.instance = instance
        self.methodID = methodID
    }

    init(classID: UInt16, instance: OBISCode, index: Int8) { self.init(classID: classID, instance: instance, methodID: index) }
    var index: Int8 { methodID }

    /// `class 70 0-0:96.3.10*255 method 1`.
    public var description: String { "class \(classID) \(instance) method \(methodID)" }
}

/// The encoding attribute and method descriptors share: class id (long-unsigned), logical name
/// (6 bytes), index (integer), without tags.
protocol ItemReference {
    var classID: UInt16 { get }
    var instance: OBISCode { get }
    var index: Int8 { get }
    init(classID: UInt16, instance: OBISCode, index: Int8)
}

extension ItemReference {
    static func decode(_ c: inout ByteCursor) throws(DecodeError) -> Self {
        let classID = UInt16(try c.uintBE(2))
        let instance = try c.obisCode()
        return Self(classID: classID, instance: instance, index: Int8(bitPattern: try c.u8()))
    }

    func encode(into out: inout [UInt8]) {
        out.appendBigEndian(classID)
        out += instance.bytes
        out.append(UInt8(bitPattern: index))
    }
}

extension ByteCursor {
    /// Six bytes of a logical name.
    mutating func obisCode() throws(DecodeError) -> OBISCode {
        try need(6)
        let p = position
        try skip(6)
        return OBISCode(bytes[p], bytes[p + 1], bytes[p + 2], bytes[p + 3], bytes[p + 4], bytes[p + 5])
    }
}

/// `Selective-Access-Descriptor`: a selector and its parameters (DLMS UA 1000-2, "COSEM APDU
/// protocol"). What they mean depends on the attribute; for Profile generic buffers (class 7,
/// IEC 62056-6-2 §4.3.6) selector 1 is `RangeDescriptor` and 2 is `EntryDescriptor`.
public struct SelectiveAccess: Sendable, Hashable, CustomStringConvertible {
    public var selector: UInt8
    public var parameters: DLMSData

    public init(selector: UInt8, parameters: DLMSData) {
        self.selector = selector
        self.parameters = parameters
    }

    /// Selector 1, by range of the restricting object's values.
    public static func range(_ r: RangeDescriptor) -> SelectiveAccess {
        SelectiveAccess(selector: 1, parameters: r.data)
    }

    /// Selector 2, by entry numbers.
    public static func entry(_ e: EntryDescriptor) -> SelectiveAccess {
        SelectiveAccess(selector: 2, parameters: e.data)
    }

    /// The range descriptor, when the selector is 1 and the parameters have its shape.
    public var rangeDescriptor: RangeDescriptor? { selector == 1 ? RangeDescriptor(parameters) : nil }

    /// The entry descriptor, when the selector is 2 and the parameters have its shape.
    public var entryDescriptor: EntryDescriptor? { selector == 2 ? EntryDescriptor(parameters) : nil }

    /// The optional access selection after an attribute descriptor: `00`, or `01` selector parameters.
    static func decodeOptional(_ c: inout ByteCursor) throws(DecodeError) -> SelectiveAccess? {
        guard try c.optionalFlag("access-selection") else { return nil }
        let selector = try c.u8()
        return SelectiveAccess(selector: selector, parameters: try DLMSData.decode(&c))
    }

    static func encodeOptional(_ access: SelectiveAccess?, into out: inout [UInt8]) {
        guard let access else { return out.append(0) }
        out.append(1)
        out.append(access.selector)
        access.parameters.encode(into: &out)
    }

    public var description: String { "selector \(selector) \(parameters)" }
}

/// `capture_object_definition` of a Profile generic (IEC 62056-6-2 §4.3.6): which attribute (and
/// element of it, `dataIndex`, 0 for all) a column holds.
public struct CaptureObject: Sendable, Hashable, CustomStringConvertible {
    public var classID: UInt16
    public var instance: OBISCode
    public var attributeIndex: Int8
    public var dataIndex: UInt16

    public init(classID: UInt16, instance: OBISCode, attributeIndex: Int8, dataIndex: UInt16 = 0) {
        self.classID = classID
        self.instance = instance
        self.attributeIndex = attributeIndex
        self.dataIndex = dataIndex
    }

    /// The clock's time (class 8, 0-0:1.0.0*255, attribute 2), the usual restricting object.
    public static let clock = CaptureObject(classID: 8, instance: OBISCode(0, 0, 1, 0, 0, 255), attributeIndex: 2)

    /// Reads `structure { long-unsigned, octet-string(6), integer, long-unsigned }`.
    public init?(_ data: DLMSData) {
        guard case .structure(let p) = data, p.count == 4,
              case .longUnsigned(let classID) = p[0],
              case .octetString(let name) = p[1], let instance = OBISCode(bytes: name),
              case .integer(let attribute) = p[2],
              case .longUnsigned(let dataIndex) = p[3] else { return nil }
        self.init(classID: classID, instance: instance, attributeIndex: attribute, dataIndex: dataIndex)
    }

    public var data: DLMSData {
        .structure([.longUnsigned(classID), .octetString(instance.bytes), .integer(attributeIndex), .longUnsigned(dataIndex)])
    }

    public var description: String { "class \(classID) \(instance) attribute \(attributeIndex) element \(dataIndex)" }
}

/// Profile generic selective access by range (selector 1, IEC 62056-6-2 §4.3.6): the entries whose
/// restricting object lies in `from…to`, with the `selectedValues` columns (empty for all).
public struct RangeDescriptor: Sendable, Hashable {
    public var restrictingObject: CaptureObject
    public var from: DLMSData
    public var to: DLMSData
    public var selectedValues: [CaptureObject]

    public init(restrictingObject: CaptureObject, from: DLMSData, to: DLMSData, selectedValues: [CaptureObject] = []) {
        self.restrictingObject = restrictingObject
        self.from = from
        self.to = to
        self.selectedValues = selectedValues
    }

    /// A range of the clock's time, the date-times sent as 12-byte octet-strings.
    public init(from: COSEMDateTime, to: COSEMDateTime, selectedValues: [CaptureObject] = []) {
        self.init(restrictingObject: .clock, from: .octetString(from.bytes), to: .octetString(to.bytes),
                  selectedValues: selectedValues)
    }

    /// Reads `structure { capture_object_definition, from, to, array of capture_object_definition }`.
    public init?(_ data: DLMSData) {
        guard case .structure(let p) = data, p.count == 4, let restricting = CaptureObject(p[0]),
              case .array(let selected) = p[3] else { return nil }
        var columns: [CaptureObject] = []
        for s in selected {
            guard let c = CaptureObject(s) else { return nil }
            columns.append(c)
        }
        self.init(restrictingObject: restricting, from: p[1], to: p[2], selectedValues: columns)
    }

    public var data: DLMSData {
        .structure([restrictingObject.data, from, to, .array(selectedValues.map(\.data))])
    }
}

/// Profile generic selective access by entry (selector 2, IEC 62056-6-2 §4.3.6): entries
/// `fromEntry…toEntry` (1-based, 0 = to the last) and columns `fromSelectedValue…toSelectedValue`
/// (1-based, 0 = to the last).
public struct EntryDescriptor: Sendable, Hashable {
    public var fromEntry: UInt32
    public var toEntry: UInt32
    public var fromSelectedValue: UInt16
    public var toSelectedValue: UInt16

    public init(fromEntry: UInt32, toEntry: UInt32, fromSelectedValue: UInt16 = 1, toSelectedValue: UInt16 = 0) {
        self.fromEntry = fromEntry
        self.toEntry = toEntry
        self.fromSelectedValue = fromSelectedValue
        self.toSelectedValue = toSelectedValue
    }

    /// Reads `structure { double-long-unsigned, double-long-unsigned, long-unsigned, long-unsigned }`.
    public init?(_ data: DLMSData) {
        guard case .structure(let p) = data, p.count == 4,
              case .doubleLongUnsigned(let from) = p[0], case .doubleLongUnsigned(let to) = p[1],
              case .longUnsigned(let fromValue) = p[2], case .longUnsigned(let toValue) = p[3] else { return nil }
        self.init(fromEntry: from, toEntry: to, fromSelectedValue: fromValue, toSelectedValue: toValue)
    }

    public var data: DLMSData {
        .structure([.doubleLongUnsigned(fromEntry), .doubleLongUnsigned(toEntry),
                    .longUnsigned(fromSelectedValue), .longUnsigned(toSelectedValue)])
    }
}
