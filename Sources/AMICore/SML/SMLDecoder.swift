/// Decodes an SML 1.04 transport frame (as German electricity meters push on their optical or
/// wired interface) into one reading per entry of its GetList.Res value lists: the OBIS code, the
/// value × 10^scaler in the unit's base unit (DLMS unit codes, IEC 62056-6-2), the entry's own time
/// when it is a timestamp (else the frame's receive time), and the server ID as the meter.
/// Attention responses become `sml_attention` events. Other messages (open, close, requests,
/// profiles, parameters) yield no records.
public enum SMLDecoder {
    public static func decode<E: RecordEmitter>(_ frame: [UInt8], context: FrameContext,
                                                into out: inout E) throws(DecodeError) {
        let unwrapped = try SMLTransport.unwrap(frame, ignoreCRC: context.options.ignoreChecksums) {
            out.warning($0)
        }
        let messages: [SMLMessage]
        do {
            messages = try SMLMessage.readAll(unwrapped.payload) { out.warning(moved($0, unwrapped)) }
        } catch {
            throw moved(error, unwrapped)
        }
        let provenance = context.provenance(.sml)
        var meterSet: String? = nil
        for (index, m) in messages.enumerated() {
            switch SMLMessage.Tag(rawValue: m.tag) {
            case .getListResponse?:
                // clientId, serverId, listName, actSensorTime, valList, listSignature, actGatewayTime.
                guard let f = m.body.elements, f.count == 7, let server = f[1].octetsValue,
                      let entries = f[4].elements else {
                    throw moved(DecodeError(.sml, at: m.offset, .malformed,
                                            "message \(index): GetList.Res is not a list of 7"), unwrapped)
                }
                let id = SMLServerID(bytes: server)
                let meter = context.meterHint ?? id.name
                if meterSet != meter {
                    out.setMeter(meter, medium: nil, provenance: provenance)
                    meterSet = meter
                }
                let listTime = SMLTime(f[3])?.utc
                let parsed = entries.compactMap(SMLListEntry.init)
                if parsed.count != entries.count {
                    out.warning(moved(DecodeError(.sml, at: m.offset, .malformed,
                                                  "message \(index): \(entries.count - parsed.count) list "
                                                      + "entries are not SML_ListEntry; skipped"), unwrapped))
                }
                let dzgFix = id.manufacturer == "DZG" && parsed.contains { isDVS74ImportStatus($0.status) }
                for (n, entry) in parsed.enumerated() {
                    emit(entry, record: n, time: entry.valueTime?.utc ?? listTime ?? context.receiveTime,
                         dzgFix: dzgFix, into: &out)
                }
            case .attentionResponse?:
                // serverId, attentionNo (an OBIS-like code), attentionMsg, attentionDetails.
                guard let f = m.body.elements, f.count == 4, let server = f[0].octetsValue,
                      let number = f[1].octetsValue else { continue }
                let text = f[2].octetsValue.map { String(decoding: $0, as: UTF8.self) }
                out.record(.event(Event(meter: context.meterHint ?? SMLServerID(bytes: server).name,
                                        event: "sml_attention", code: Hex.string(number), text: text,
                                        time: context.receiveTime, provenance: provenance)))
            default:
                continue
            }
        }
    }

    /// One list entry as a reading.
    private static func emit<E: RecordEmitter>(_ entry: SMLListEntry, record: Int, time: UTCTime?, dzgFix: Bool,
                                               into out: inout E) {
        let obis = OBISCode(bytes: entry.objectName)
        let meaning = OBISTable.meaning(of: obis?.address)
        var notes: [String] = []
        if let n = meaning.note { notes.append(n) }
        if let s = entry.status { notes.append("status 0x" + String(s, radix: 16, uppercase: true)) }
        var value: ReadingValue
        var unit: Unit? = nil
        var number: Int64? = nil
        switch entry.value {
        case .integer(let v, let width):
            number = v
            if dzgFix, v < 0, let o = obis, o.c == 16, o.d == 7 {
                // DZG DVS74 meters send positive power ≥ 2^(8·width−1) as a signed number; the status
                // word says the energy flows in +A, where negative power cannot be.
                number = Int64(UInt64(bitPattern: v) & (width == 8 ? .max : (1 << UInt64(8 * width)) - 1))
                notes.append("DZG DVS74: sent as a negative signed number, read as unsigned")
            }
        case .unsigned(let v, _):
            if v <= UInt64(Int64.max) { number = Int64(v) }
        case .boolean(let b):
            number = b ? 1 : 0
        default:
            break
        }
        if let n = number {
            let scaled = ExactDecimal(n, exponent: Int(entry.scaler ?? 0))
            if let code = entry.unit, code != 0, code != 255 {
                let dlms = DLMSUnit(rawValue: code)
                if let converted = dlms.convert(scaled) {
                    value = .number(converted.value)
                    unit = converted.unit
                } else {
                    value = .number(scaled)
                    notes.append("unit \(dlms)")
                }
            } else {
                value = .number(scaled)
            }
        } else {
            value = .text(text(entry.value))
        }
        out.reading(quantity: meaning.quantity, obis: obis?.description ?? Hex.string(entry.objectName),
                    value: value, unit: unit, time: time, storage: nil, tariff: meaning.tariff, subunit: nil,
                    function: meaning.function, record: record, note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// An SML value that is not a number, as text: octet strings as ASCII when printable, else hex.
    static func text(_ v: SMLValue) -> String {
        switch v {
        case .octets(let b):
            if !b.isEmpty, b.allSatisfy({ (0x20...0x7E).contains($0) }) { return String(decoding: b, as: UTF8.self) }
            return Hex.string(b)
        case .unsigned(let u, _): return String(u)
        case .integer(let i, _): return String(i)
        case .boolean(let b): return b ? "true" : "false"
        case .list(let items): return "[" + items.map(text).joined(separator: ",") + "]"
        case .absent, .endOfMessage: return ""
        }
    }

    /// The status word of a DZG DVS74 (its product manual): fixed bits 0–7 = 4, the load bit 8 set,
    /// the direction bit 11 clear (+A) and bits 21–31 clear.
    static func isDVS74ImportStatus(_ status: UInt64?) -> Bool {
        guard let s = status else { return false }
        return s <= 0xFFFF_FFFF && s & 0xFFE0_09FF == 0x104
    }

    /// An error in the payload, moved to its offset in the frame.
    private static func moved(_ e: DecodeError, _ u: SMLTransport.Unwrapped) -> DecodeError {
        var copy = e
        copy.offset = u.frameOffset(e.offset)
        return copy
    }
}
