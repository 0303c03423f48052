/// What the Modbus frames of one input share while it is decoded: a response carries no register
/// addresses, so each is read with its request (over TCP the one with its transaction id, on a
/// serial line the one before it from the same source); the meter a profile's identity register
/// named; the profiles loaded.
public struct ModbusStreamState: Sendable {
    private var pending: [String: ModbusRequest] = [:]
    private var meters: [String: String] = [:]
    private var profiles: [String: Result<ModbusProfile, ModbusProfileError>] = [:]
    /// Most requests kept waiting for an answer (a capture of requests alone stays bounded).
    private static let maxPending = 4096

    public init() {}

    /// Decodes one Modbus ADU (TCP with its MBAP header, or RTU with its CRC): a request is kept
    /// for its response, a response to a read becomes a reading per register of the profile that
    /// the read covers whole, an exception response becomes an `application_error` event.
    /// Errors and warnings carry offsets within the frame.
    public mutating func decode<E: RecordEmitter>(_ frame: [UInt8], context: FrameContext, into out: inout E) throws(DecodeError) {
        let ignore = context.options.ignoreChecksums
        guard let framing = ModbusADU.framing(of: frame, source: context.source) ?? (ignore && frame.count >= 4 ? .rtu : nil) else {
            throw DecodeError(.modbus, at: 0, .malformed,
                              "neither a Modbus TCP frame (MBAP header) nor a Modbus RTU frame with a matching CRC")
        }
        if framing == .rtu && ignore && !ModbusADU.crcMatches(frame) {
            out.warning(DecodeError(.modbus, at: frame.count - 2, .checksum, "CRC mismatch"))
        }
        let adu = try ModbusADU.parse(frame, framing: framing, ignoreChecksum: ignore)
        let headerLength = framing == .tcp ? 7 : 1
        let key = framing == .tcp ? "\(context.source)#\(adu.transaction ?? 0)" : context.source
        let isRequest = context.direction.map { $0 == .tx } ?? ModbusStreamState.looksLikeRequest(adu.pdu)
        if isRequest {
            let request: ModbusRequest
            do { request = try ModbusRequest.parse(adu.pdu) } catch { throw error.shifted(by: headerLength) }
            if pending.count >= ModbusStreamState.maxPending { pending.removeAll() }
            pending[key] = request
            return
        }
        let response: ModbusResponse
        do { response = try ModbusResponse.parse(adu.pdu) } catch { throw error.shifted(by: headerLength) }
        guard let request = pending.removeValue(forKey: key) else {
            throw DecodeError(.modbus, at: 0, .malformed,
                              "a response without its request (which holds the register addresses)")
        }
        do { try response.check(answers: request) } catch { throw error.shifted(by: headerLength) }
        let meterKey = "\(context.source)/\(adu.unit)"
        switch response {
        case .written:
            return
        case .exception(_, let e):
            out.record(.event(Event(meter: context.meterHint ?? meters[meterKey] ?? meterKey, event: "application_error",
                                    code: Hex.byte(e.code), text: "\(e) to \(request)",
                                    time: context.receiveTime, provenance: context.provenance(.modbus))))
        case .registers(_, let values):
            let profile = try self.profile(context)
            guard case .read(_, let start, _) = request else { return }
            let registers = profile.registers(in: request)
            func slice(_ r: ModbusProfile.Register) -> ArraySlice<UInt16> {
                values[(r.span.lowerBound - Int(start))..<(r.span.upperBound - Int(start))]
            }
            func offset(_ r: ModbusProfile.Register) -> Int { headerLength + 2 + 2 * (r.span.lowerBound - Int(start)) }
            if let id = profile.identity, registers.contains(id), context.meterHint == nil {
                if let (v, _) = try? id.value(slice(id)) { meters[meterKey] = "\(profile.name)-\(v)" }
            }
            let meter = context.meterHint ?? meters[meterKey] ?? meterKey
            out.setMeter(meter, medium: profile.medium, provenance: context.provenance(.modbus))
            for r in registers {
                let value: ExactDecimal, unit: Unit?
                do {
                    (value, unit) = try r.value(slice(r))
                } catch {
                    out.warning(DecodeError(.modbus, at: offset(r), .outOfRange, "\(r.name): \(error)"))
                    continue
                }
                out.reading(quantity: r.quantity, obis: r.obis, value: .number(value), unit: unit, time: context.receiveTime,
                            storage: nil, tariff: nil, subunit: nil, function: r.readingFunction, record: Int(r.address),
                            note: r.note)
            }
        }
    }

    /// The profile for a frame: `--modbus-profile`, else the one its frame record names (loaded once).
    private mutating func profile(_ context: FrameContext) throws(DecodeError) -> ModbusProfile {
        if let p = context.options.modbusProfile { return p }
        guard let name = context.profile else {
            throw DecodeError(.modbus, at: 0, .unsupported,
                              "no device profile to read the registers with (--modbus-profile, or a frame record's \"profile\")")
        }
        let loaded: Result<ModbusProfile, ModbusProfileError>
        if let known = profiles[name] {
            loaded = known
        } else {
            do throws(ModbusProfileError) { loaded = .success(try ModbusProfile.named(name)) } catch { loaded = .failure(error) }
            profiles[name] = loaded
        }
        switch loaded {
        case .success(let p): return p
        case .failure(let e): throw DecodeError(.modbus, at: 0, .unsupported, "profile \(e)")
        }
    }

    /// A PDU without a direction is a request when its shape says so: reads are 5 bytes asked for
    /// and an even number answered; a write's answer is 5 bytes; exceptions are answers.
    static func looksLikeRequest(_ pdu: [UInt8]) -> Bool {
        guard let f = pdu.first, f & 0x80 == 0 else { return false }
        return f == ModbusFunction.writeMultipleRegisters.rawValue ? pdu.count != 5 : pdu.count == 5
    }
}
