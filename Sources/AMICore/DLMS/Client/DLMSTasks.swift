/// An object to read: an OBIS code, with its interface class and attribute when given.
///
/// Written `1-0:1.8.0*255` (the class is found by asking the meter: Register, Extended register,
/// then Data; attribute 2) or `CLASS/OBIS/ATTRIBUTE` such as `3/1-0:1.8.0*255/2`.
public struct DLMSObjectReference: Sendable, Hashable, CustomStringConvertible {
    public var classID: UInt16?
    public var obis: OBISCode
    public var attribute: Int8?

    public init(classID: UInt16? = nil, obis: OBISCode, attribute: Int8? = nil) {
        self.classID = classID
        self.obis = obis
        self.attribute = attribute
    }

    /// Nil when `text` is neither form.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1:
            guard let o = OBISCode(parts[0]) else { return nil }
            self.init(obis: o)
        case 3:
            guard let c = UInt16(parts[0]), let o = OBISCode(parts[1]), let a = Int8(parts[2]), a > 0 else { return nil }
            self.init(classID: c, obis: o, attribute: a)
        default:
            return nil
        }
    }

    public var description: String {
        if let classID, let attribute { return "\(classID)/\(obis)/\(attribute)" }
        return obis.description
    }
}

/// Which rows of a profile to read (IEC 62056-6-2 profile generic, attribute 2 with selective access).
public enum DLMSProfileSelection: Sendable, Hashable {
    /// The whole buffer.
    case all
    /// Rows captured from `from` to `to` (by range, selector 1, on the clock column).
    case range(from: UTCTime, to: UTCTime)
    /// Rows `from` to `to`, 1-based; `to` 0 means the last (by entry, selector 2).
    case entries(from: UInt32, to: UInt32)
}

/// One thing to do with a meter in a session.
public enum DLMSTask: Sendable, Hashable, CustomStringConvertible {
    /// The logical device name (`0-0:42.0.0*255`): the meter's identity in every reading.
    case identity
    /// Read the clock (`0-0:1.0.0*255`, IC 8 attribute 2).
    case clock
    /// Set the clock to the client's UTC time (time synchronisation).
    case setClock
    /// Read an object: its scaler_unit first for registers, so that readings carry their unit.
    case get(DLMSObjectReference)
    /// Read several attributes in one request (GET with list); registers' scaler_unit with them.
    case getList([AttributeDescriptor])
    /// Read a profile: its capture objects, the scaler_unit of captured registers, then the rows.
    case profile(OBISCode, DLMSProfileSelection)
    /// Disconnect control (IC 70, `0-0:96.3.10*255`): read output_state, control_state, control_mode.
    case disconnectState
    /// remote_disconnect (method 1), then read the state.
    case disconnect
    /// remote_reconnect (method 2), then read the state.
    case reconnect

    public var description: String {
        switch self {
        case .identity: "identity"
        case .clock: "clock"
        case .setClock: "set clock"
        case .get(let r): "get \(r)"
        case .getList(let list): "get with list of \(list.count)"
        case .profile(let o, _): "profile \(o)"
        case .disconnectState: "disconnect state"
        case .disconnect: "disconnect"
        case .reconnect: "reconnect"
        }
    }
}

extension DLMSClient {
    static let clockObject = OBISCode(0, 0, 1, 0, 0, 255)
    static let disconnectControl = OBISCode(0, 0, 96, 3, 10, 255)

    /// Carries out `task`. The readings are in the frames exchanged (ami-decode makes them); this
    /// returns the logical device name for `.identity` and nil for the other tasks.
    @discardableResult
    public func perform(_ task: DLMSTask, now: () -> UTCTime = UTCTime.now) throws(DLMSClientError) -> DLMSData? {
        switch task {
        case .identity:
            return try get(AttributeDescriptor(classID: 1, instance: DLMSInterpreter.logicalDeviceName, attributeID: 2))
        case .clock:
            _ = try get(AttributeDescriptor(classID: 8, instance: Self.clockObject, attributeID: 2))
        case .setClock:
            guard let t = COSEMDateTime(utc: now(), deviation: 0) else {
                throw .configuration("the system clock is outside what a COSEM date-time can hold")
            }
            try set(AttributeDescriptor(classID: 8, instance: Self.clockObject, attributeID: 2), value: .octetString(t.bytes))
        case .get(let r):
            try read(r)
        case .getList(let attributes):
            var list: [AttributeSelection] = []
            for a in attributes {
                if (a.classID == 3 || a.classID == 4) && a.attributeID == 2 {
                    list.append(AttributeSelection(attribute: AttributeDescriptor(classID: a.classID, instance: a.instance, attributeID: 3)))
                }
                list.append(AttributeSelection(attribute: a))
            }
            for (selection, result) in zip(list, try get(list: list)) {
                if case .error(let e) = result { throw .dataAccess("get \(selection.attribute)", e) }
            }
        case .profile(let obis, let selection):
            try readProfile(obis, selection)
        case .disconnectState:
            try readDisconnectState()
        case .disconnect, .reconnect:
            let method = MethodDescriptor(classID: 70, instance: Self.disconnectControl, methodID: task == .disconnect ? 1 : 2)
            try action(method, parameters: .integer(0))
            try readDisconnectState()
        }
        return nil
    }

    private func readDisconnectState() throws(DLMSClientError) {
        for attribute: Int8 in [2, 3, 4] {
            _ = try get(AttributeDescriptor(classID: 70, instance: Self.disconnectControl, attributeID: attribute))
        }
    }

    /// Reads an object; without a class, tries Register, Extended register and Data in turn.
    private func read(_ r: DLMSObjectReference) throws(DLMSClientError) {
        if let classID = r.classID, let attribute = r.attribute {
            if (classID == 3 || classID == 4) && attribute == 2 {
                _ = try get(AttributeDescriptor(classID: classID, instance: r.obis, attributeID: 3))
            }
            _ = try get(AttributeDescriptor(classID: classID, instance: r.obis, attributeID: attribute))
            return
        }
        for classID: UInt16 in [3, 4] {
            do {
                _ = try get(AttributeDescriptor(classID: classID, instance: r.obis, attributeID: 3))
            } catch .dataAccess(_, let e) where Self.wrongClass(e) {
                continue
            }
            _ = try get(AttributeDescriptor(classID: classID, instance: r.obis, attributeID: 2))
            return
        }
        _ = try get(AttributeDescriptor(classID: 1, instance: r.obis, attributeID: 2))
    }

    private static func wrongClass(_ e: DataAccessResult) -> Bool {
        e == .objectUndefined || e == .objectClassInconsistent || e == .objectUnavailable
    }

    private func readProfile(_ obis: OBISCode, _ selection: DLMSProfileSelection) throws(DLMSClientError) {
        let captured = try get(AttributeDescriptor(classID: 7, instance: obis, attributeID: 3))
        for column in captured.elements?.compactMap(CaptureObject.init) ?? []
        where (column.classID == 3 || column.classID == 4) && column.attributeIndex == 2 {
            _ = try get(AttributeDescriptor(classID: column.classID, instance: column.instance, attributeID: 3))
        }
        let access: SelectiveAccess?
        switch selection {
        case .all:
            access = nil
        case .range(let from, let to):
            guard let f = COSEMDateTime(utc: from, deviation: 0), let t = COSEMDateTime(utc: to, deviation: 0) else {
                throw .configuration("profile range outside what a COSEM date-time can hold")
            }
            access = .range(RangeDescriptor(from: f, to: t))
        case .entries(let from, let to):
            access = .entry(EntryDescriptor(fromEntry: from, toEntry: to))
        }
        _ = try get(AttributeDescriptor(classID: 7, instance: obis, attributeID: 2), access: access)
    }
}
