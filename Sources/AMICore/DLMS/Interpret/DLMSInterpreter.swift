/// Turns the plaintext xDLMS APDUs of one client–meter exchange, in the order they were exchanged,
/// into readings and events.
///
/// A GET response names no object: the interpreter pairs it with its request by invoke id, keeps
/// what earlier responses said about the objects (registers' `scaler_unit`, profiles'
/// `capture_objects`, the logical device name) and applies it to later values. Interface classes
/// (IEC 62056-6-2 §4.3 / DLMS UA 1000-1 "Blue Book" §4.3–§4.5): Data (1) → one reading; Register (3)
/// and Extended register (4) → value × 10^scaler in the unit's name; Clock (8) → a `clock` reading;
/// Profile generic (7) → one reading per captured value of each row, at the row's capture time (event
/// logs → events); Disconnect control (70) → `output_state`, `breaker_state`, `control_mode`, and its
/// remote_disconnect / remote_reconnect actions → events. Data notifications (push, Green Book §9.3.11)
/// give one reading per value.
public struct DLMSInterpreter: Sendable {
    /// The meter's identity: the logical device name once read, else the system title from the AARE,
    /// else the `meter` of the frame records.
    public private(set) var meter: String?
    private var systemTitle: String?
    private var pending: [UInt8: Pending] = [:]
    private var blocks: [UInt8: [UInt8]] = [:]
    private var scalerUnits: [OBISCode: ScalerUnit] = [:]
    private var captureObjects: [OBISCode: [CaptureObject]] = [:]

    private enum Pending: Sendable {
        case get([AttributeSelection])
        case set([AttributeSelection], [DLMSData])
        case action([MethodDescriptor])
    }

    /// What the interpreter needs to know about the frame an APDU came in.
    public struct Context: Sendable {
        public var provenance: Provenance
        /// When the APDU was received; the time of register and clock readings.
        public var receiveTime: UTCTime?
        /// The frame record's `meter`, used until the exchange names the meter itself.
        public var meterHint: String?
        /// The zone of date-times sent with an unspecified deviation.
        public var meterTimeZone: LocalTimeZone

        public init(provenance: Provenance, receiveTime: UTCTime? = nil, meterHint: String? = nil,
                    meterTimeZone: LocalTimeZone = .utc) {
            self.provenance = provenance
            self.receiveTime = receiveTime
            self.meterHint = meterHint
            self.meterTimeZone = meterTimeZone
        }
    }

    public init() {}

    /// Takes the next APDU of the exchange (requests and responses alike), appending the readings and
    /// events it completes. Results that name no value (a data-access error, a rejected association)
    /// become warnings at `offset`.
    public mutating func consume(_ apdu: APDU, context: Context, offset: Int = 0, into out: inout DecodeOutput) {
        switch apdu {
        case .getRequest(.normal(let id, let attribute, let access)):
            pending[id.invokeID] = .get([AttributeSelection(attribute: attribute, access: access)])
            blocks[id.invokeID] = nil
        case .getRequest(.withList(let id, let attributes)):
            pending[id.invokeID] = .get(attributes)
            blocks[id.invokeID] = nil
        case .setRequest(.normal(let id, let attribute, let access, let value)):
            pending[id.invokeID] = .set([AttributeSelection(attribute: attribute, access: access)], [value])
        case .setRequest(.withList(let id, let attributes, let values)):
            pending[id.invokeID] = .set(attributes, values)
        case .actionRequest(.normal(let id, let method, _)):
            pending[id.invokeID] = .action([method])
        case .actionRequest(.withList(let id, let methods, _)):
            pending[id.invokeID] = .action(methods)
        case .getResponse(let response):
            getResponse(response, context: context, offset: offset, into: &out)
        case .setResponse(.normal(let id, let result)):
            setResults(id.invokeID, [result], context: context, offset: offset, into: &out)
        case .setResponse(.withList(let id, let results)):
            setResults(id.invokeID, results, context: context, offset: offset, into: &out)
        case .actionResponse(.normal(let id, let outcome)):
            actionResults(id.invokeID, [outcome], context: context, offset: offset, into: &out)
        case .actionResponse(.withList(let id, let outcomes)):
            actionResults(id.invokeID, outcomes, context: context, offset: offset, into: &out)
        case .aare(let aare):
            if let title = aare.responding.apTitle, title.count == 8 { systemTitle = Hex.string(title) }
            if aare.result != .accepted {
                out.warnings.append(warning(offset, "association \(aare.result): \(aare.diagnostic)"))
            }
        case .dataNotification(let n):
            notification(n, context: context, into: &out)
        case .exceptionResponse(let e):
            out.warnings.append(warning(offset, "exception-response: \(e)"))
        case .confirmedServiceError(let e):
            out.warnings.append(warning(offset, "confirmed-service-error: \(e)"))
        default:
            break
        }
    }

    // MARK: - GET

    private mutating func getResponse(_ response: GetResponse, context: Context, offset: Int,
                                      into out: inout DecodeOutput) {
        let id = response.invokeID.invokeID
        switch response {
        case .normal(_, let result):
            getResults(id, [result], context: context, offset: offset, into: &out)
        case .withList(_, let results):
            getResults(id, results, context: context, offset: offset, into: &out)
        case .withDataBlock(_, let block):
            switch block.content {
            case .error(let e):
                blocks[id] = nil
                getResults(id, [.error(e)], context: context, offset: offset, into: &out)
            case .rawData(let raw):
                blocks[id, default: []] += raw
                guard block.lastBlock, let joined = blocks.removeValue(forKey: id) else { return }
                guard case .get(let selections)? = pending[id] ?? (pending.count == 1 ? pending.first?.value : nil) else { return }
                var cursor = ByteCursor(joined, layer: .dlmsApplication)
                do throws(DecodeError) {
                    if selections.count == 1 {
                        getResults(id, [.data(try DLMSData.decode(&cursor))], context: context, offset: offset, into: &out)
                    } else {
                        let results = try cursor.sequence("result list", GetDataResult.decode)
                        getResults(id, results, context: context, offset: offset, into: &out)
                    }
                } catch {
                    _ = takePending(id)
                    out.warnings.append(warning(offset, "joined data blocks: \(error.message)"))
                }
            }
        }
    }

    private mutating func getResults(_ id: UInt8, _ results: [GetDataResult], context: Context, offset: Int,
                                     into out: inout DecodeOutput) {
        guard case .get(let selections)? = takePending(id) else {
            out.warnings.append(warning(offset, "get-response with invoke id \(id) answers no request seen"))
            return
        }
        for (selection, result) in zip(selections, results) {
            switch result {
            case .error(let e):
                out.warnings.append(warning(offset, "get \(selection.attribute): \(e)"))
            case .data(let value):
                attribute(selection, value, context: context, offset: offset, into: &out)
            }
        }
    }

    /// One attribute value read from the meter.
    private mutating func attribute(_ selection: AttributeSelection, _ value: DLMSData, context: Context, offset: Int,
                                    into out: inout DecodeOutput) {
        let a = selection.attribute
        switch (a.classID, a.attributeID) {
        case (1, 2) where a.instance == DLMSInterpreter.logicalDeviceName:
            if let name = DLMSInterpreter.text(value) { meter = name }
            out.records.append(.reading(reading(a.instance, value, time: context.receiveTime, context: context)))
        case (1, 2):
            out.records.append(.reading(reading(a.instance, value, time: context.receiveTime, context: context)))
        case (3, 3), (4, 3):
            if let su = ScalerUnit(value) { scalerUnits[a.instance] = su }
        case (3, 2), (4, 2):
            out.records.append(.reading(reading(a.instance, value, time: context.receiveTime, context: context)))
        case (8, 2):
            out.records.append(.reading(clock(a.instance, value, context: context)))
        case (7, 3):
            captureObjects[a.instance] = value.elements?.compactMap(CaptureObject.init) ?? []
        case (7, 2):
            profile(a.instance, rows: value, access: selection.access, context: context, offset: offset, into: &out)
        case (70, 2), (70, 3), (70, 4):
            out.records.append(.reading(disconnectControl(a, value, context: context)))
        default:
            break
        }
    }

    // MARK: - Values

    /// A reading of `value` for the object `obis`, scaled when its `scaler_unit` is known.
    private func reading(_ obis: OBISCode?, _ value: DLMSData, time: UTCTime?, context: Context,
                         record: Int? = nil, note: String? = nil) -> Reading {
        let meaning = OBISTable.meaning(of: obis?.address)
        var r = Reading(meter: meterName(context), quantity: meaning.quantity, obis: obis?.description,
                        value: .text(value.description), time: time, tariff: meaning.tariff,
                        function: meaning.function, record: record, note: note ?? meaning.note,
                        provenance: context.provenance)
        if let obis, let su = scalerUnits[obis], let scaled = su.scaled(value) {
            if let converted = su.unit.convert(scaled) {
                r.value = .number(converted.value)
                r.unit = converted.unit
            } else {
                r.value = .number(scaled)
                r.note = [r.note, "unit \(su.unit)"].compactMap { $0 }.joined(separator: "; ")
            }
        } else if let number = value.decimalValue {
            r.value = .number(number)
        } else if case .boolean(let b) = value {
            r.value = .number(ExactDecimal(b ? 1 : 0))
        } else if case .enumerated(let e) = value {
            r.value = .number(ExactDecimal(Int64(e)))
        } else if let t = value.dateTimeValue, let utc = DLMSInterpreter.utc(t, context) {
            r.value = .text(utc.description)
        } else if let text = DLMSInterpreter.text(value) {
            r.value = .text(text)
        }
        return r
    }

    /// The meter clock's time as a `clock` reading (text, UTC), at the time it was received.
    private func clock(_ obis: OBISCode, _ value: DLMSData, context: Context) -> Reading {
        let t = value.dateTimeValue
        let utc = t.flatMap { DLMSInterpreter.utc($0, context) }
        return Reading(meter: meterName(context), quantity: .clock, obis: obis.description,
                       value: .text(utc?.description ?? value.description), time: context.receiveTime,
                       note: t.flatMap(DLMSInterpreter.statusNote), provenance: context.provenance)
    }

    /// Disconnect control attributes (IC 70): output_state, control_state, control_mode.
    private func disconnectControl(_ a: AttributeDescriptor, _ value: DLMSData, context: Context) -> Reading {
        let quantity: Quantity = a.attributeID == 2 ? .outputState : a.attributeID == 3 ? .breakerState : .controlMode
        var r = reading(a.instance, value, time: context.receiveTime, context: context)
        r.quantity = quantity
        // control_state is an enum (Blue Book §4.5.8): its value named in `note`.
        if a.attributeID == 3, case .enumerated(let state) = value {
            r.note = DLMSInterpreter.controlStates[Int64(state)]
        } else {
            r.note = nil
        }
        return r
    }

    /// COSEM logical device name, `0-0:42.0.0*255` (Blue Book §4.1.8.2).
    static let logicalDeviceName = OBISCode(0, 0, 42, 0, 0, 255)

    static let controlStates: [Int64: String] = [0: "disconnected", 1: "connected", 2: "ready_for_reconnection"]

    // MARK: - Profiles

    /// The rows of a profile buffer: one reading per captured value at the row's capture time, or
    /// one event per row of an event log.
    private func profile(_ obis: OBISCode, rows: DLMSData, access: SelectiveAccess?, context: Context, offset: Int,
                         into out: inout DecodeOutput) {
        guard var columns = captureObjects[obis] else {
            unnamedProfile(obis, rows: rows, context: context, into: &out)
            return
        }
        if let range = access?.rangeDescriptor, !range.selectedValues.isEmpty {
            columns = range.selectedValues
        } else if let entry = access?.entryDescriptor, entry.fromSelectedValue > 1 || entry.toSelectedValue != 0 {
            let from = max(Int(entry.fromSelectedValue), 1) - 1
            let to = entry.toSelectedValue == 0 ? columns.count : min(Int(entry.toSelectedValue), columns.count)
            columns = from < to ? Array(columns[from..<to]) : []
        }
        let isEventLog = obis.c == 99 && obis.d == 98
        let clockColumn = columns.firstIndex { $0.classID == 8 && $0.attributeIndex == 2 }
        for (rowIndex, row) in (rows.elements ?? []).enumerated() {
            guard let cells = row.elements, cells.count == columns.count else {
                out.warnings.append(warning(offset, "profile \(obis) row \(rowIndex): \(row.elements?.count ?? 0) values for \(columns.count) capture objects"))
                continue
            }
            let stamp = clockColumn.flatMap { cells[$0].dateTimeValue }
            let time = stamp.flatMap { DLMSInterpreter.utc($0, context) }
            let note = stamp.flatMap(DLMSInterpreter.statusNote)
            for (column, cell) in zip(columns, cells) where column.classID != 8 {
                if isEventLog, let code = cell.integerValue {
                    out.records.append(.event(Event(meter: meterName(context), event: "meter_event", code: String(code),
                                                    text: DLMSInterpreter.standardEvents[code], time: time,
                                                    provenance: context.provenance)))
                } else {
                    out.records.append(.reading(reading(column.instance, cell, time: time, context: context,
                                                        record: rowIndex, note: note)))
                }
            }
        }
    }

    /// Rows of a profile whose capture_objects the exchange did not read: a date-time cell gives the
    /// row's time, every other cell a reading without OBIS code, named by its column in `note`.
    private func unnamedProfile(_ obis: OBISCode, rows: DLMSData, context: Context, into out: inout DecodeOutput) {
        for (rowIndex, row) in (rows.elements ?? []).enumerated() {
            let cells = row.elements ?? [row]
            let stamp = cells.lazy.compactMap(\.dateTimeValue).first
            let time = stamp.flatMap { DLMSInterpreter.utc($0, context) }
            for (column, cell) in cells.enumerated() where cell.dateTimeValue == nil {
                out.records.append(.reading(reading(nil, cell, time: time, context: context, record: rowIndex,
                                                    note: "profile \(obis) column \(column + 1); capture_objects not read")))
            }
        }
    }

    /// Standard event log codes (DLMS UA 1000-1 Blue Book, "Standard event log" of the IDIS
    /// package: 1–5 power and clock events). Other codes are manufacturer- or profile-specific.
    static let standardEvents: [Int64: String] = [
        1: "power down", 2: "power up", 3: "daylight saving time changed",
        4: "clock adjusted (old time)", 5: "clock adjusted (new time)",
    ]

    // MARK: - SET and ACTION

    private mutating func setResults(_ id: UInt8, _ results: [DataAccessResult], context: Context, offset: Int,
                                     into out: inout DecodeOutput) {
        guard case .set(let selections, let values)? = takePending(id) else { return }
        for (i, (selection, result)) in zip(selections, results).enumerated() {
            let a = selection.attribute
            guard result == .success else {
                out.warnings.append(warning(offset, "set \(a): \(result)"))
                continue
            }
            if a.classID == 8, a.attributeID == 2, i < values.count {
                let t = values[i].dateTimeValue.flatMap { DLMSInterpreter.utc($0, context) }
                out.records.append(.event(Event(meter: meterName(context), event: "clock_set",
                                                text: t.map { "set to \($0)" }, time: context.receiveTime,
                                                provenance: context.provenance)))
            }
        }
    }

    private mutating func actionResults(_ id: UInt8, _ outcomes: [ActionOutcome], context: Context, offset: Int,
                                        into out: inout DecodeOutput) {
        guard case .action(let methods)? = takePending(id) else { return }
        for (method, outcome) in zip(methods, outcomes) {
            guard outcome.result == .success else {
                out.warnings.append(warning(offset, "action \(method): \(outcome.result)"))
                continue
            }
            if method.classID == 70, method.methodID == 1 || method.methodID == 2 {
                out.records.append(.event(Event(meter: meterName(context),
                                                event: method.methodID == 1 ? "remote_disconnect" : "remote_reconnect",
                                                time: context.receiveTime, provenance: context.provenance)))
            }
        }
    }

    // MARK: - Push

    /// A data notification: one reading per value; `(OBIS octet-string, value)` pairs, as many push
    /// setups send them, name their object.
    private func notification(_ n: DataNotification, context: Context, into out: inout DecodeOutput) {
        let time = n.dateTime.flatMap { DLMSInterpreter.utc($0, context) } ?? context.receiveTime
        var leaves: [DLMSData] = []
        func flatten(_ d: DLMSData) {
            if let e = d.elements { e.forEach(flatten) } else { leaves.append(d) }
        }
        flatten(n.body)
        var i = 0
        var index = 0
        while i < leaves.count {
            if case .octetString(let b) = leaves[i], b.count == 6, let obis = OBISCode(bytes: b), i + 1 < leaves.count {
                out.records.append(.reading(reading(obis, leaves[i + 1], time: time, context: context, record: index)))
                i += 2
            } else {
                var r = reading(nil, leaves[i], time: time, context: context, record: index)
                r.note = "push element \(index)"
                out.records.append(.reading(r))
                i += 1
            }
            index += 1
        }
    }

    // MARK: - Helpers

    /// The request `id` answers; when none has that id and exactly one is outstanding, that one
    /// (clients wait for each answer, and some servers answer errors with another invoke id).
    private mutating func takePending(_ id: UInt8) -> Pending? {
        if let p = pending.removeValue(forKey: id) { return p }
        guard pending.count == 1, let only = pending.first else { return nil }
        pending.removeAll()
        return only.value
    }

    /// The instant a COSEM date-time names: by its deviation when it has one, else as civil time in
    /// the meter's zone.
    static func utc(_ t: COSEMDateTime, _ context: Context) -> UTCTime? {
        if t.deviation != COSEMDateTime.deviationNotSpecified { return t.utcTime() }
        guard let local = t.utcTime(unspecifiedDeviation: 0) else { return nil }
        if context.meterTimeZone == .utc { return local }
        let c = local.civil
        let dst: Bool? = t.clockStatus == .notSpecified ? nil : t.clockStatus.contains(.daylightSavingActive)
        return context.meterTimeZone.utc(year: c.year, month: c.month, day: c.day, hour: c.hour, minute: c.minute,
                                         second: c.second, isDST: dst)
            .map { UTCTime(milliseconds: $0.milliseconds + Int64(c.millisecond)) }
    }

    private func meterName(_ context: Context) -> String {
        meter ?? systemTitle ?? context.meterHint ?? "unknown"
    }

    private func warning(_ offset: Int, _ message: String) -> DecodeError {
        DecodeError(.dlmsApplication, at: offset, .unsupported, message)
    }

    /// Printable text of an octet-, visible- or utf8-string; nil when it holds other bytes.
    public static func text(_ value: DLMSData) -> String? {
        guard let bytes = value.bytesValue, !bytes.isEmpty,
              bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The clock status bits worth a note (invalid, doubtful, different clock base).
    static func statusNote(_ t: COSEMDateTime) -> String? {
        let s = t.clockStatus
        guard s != .notSpecified else { return nil }
        var parts: [String] = []
        if s.contains(.invalidValue) { parts.append("clock invalid") }
        if s.contains(.doubtfulValue) { parts.append("clock doubtful") }
        if s.contains(.differentClockBase) { parts.append("different clock base") }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }
}
