/// Decodes the DLMS frames of one stream (both directions of client–meter exchanges, in order):
/// the HDLC frames of IEC 62056-46 (segments joined, LLC header removed), the wrapper frames of
/// IEC 62056-47 or bare APDUs, then the APDUs they carry, deciphered when a `frame` record brings the plaintext
/// (`plain`) or when keys are given, into `DLMSInterpreter` for readings and events.
public struct DLMSStreamDecoder: Sendable {
    /// Keys for ciphered APDUs without plaintext beside them; nil to report such APDUs.
    public var security: SecurityContext?
    private var interpreters: [String: DLMSInterpreter] = [:]
    /// HDLC information fields of unfinished segmented APDUs, by source and destination address.
    private var segments: [String: [UInt8]] = [:]
    /// The system titles seen in AARQs (client) and AAREs (meter), by stream: the IVs of glo- APDUs.
    private var clientTitles: [String: [UInt8]] = [:]
    private var serverTitles: [String: [UInt8]] = [:]

    public init(security: SecurityContext? = nil) {
        self.security = security
    }

    /// LLC headers of the first segment of an APDU (IEC 62056-46 §8.2): to the meter, from it.
    static let llcRequest: [UInt8] = [0xE6, 0xE6, 0x00]
    static let llcResponse: [UInt8] = [0xE6, 0xE7, 0x00]

    /// Decodes one link frame (as found by `Codecs.scan`). `plain` is the deciphered APDU a frame
    /// record carried. Errors are relative to the frame's first byte.
    public mutating func decode(_ frame: [UInt8], context: FrameContext, plain: [UInt8]?,
                                into out: inout DecodeOutput) throws(DecodeError) {
        guard let first = frame.first else { return }
        let apdu: [UInt8]
        let apduOffset: Int
        if first == 0x7E {
            let f = try HDLCFrame(decoding: frame)
            guard case .i = f.control else { return }
            let key = "\(context.source) \(f.source)>\(f.destination)"
            var info = segments.removeValue(forKey: key) ?? []
            if info.isEmpty {
                let llc = Array(f.information.prefix(3))
                guard llc == Self.llcRequest || llc == Self.llcResponse else {
                    throw DecodeError(.hdlc, at: 0, .malformed, "I frame without the LLC header E6 E6 00 / E6 E7 00")
                }
                info = Array(f.information.dropFirst(3))
            } else {
                info += f.information
            }
            if f.segmented {
                guard info.count <= 1 << 20 else { throw DecodeError(.hdlc, at: 0, .outOfRange, "segmented APDU over 1 MiB") }
                segments[key] = info
                return
            }
            apdu = info
            apduOffset = 0
        } else if first == 0x00 {
            apdu = try WrapperFrame(decoding: frame).payload
            apduOffset = 8
        } else {
            apdu = frame
            apduOffset = 0
        }
        guard !apdu.isEmpty else { return }
        var parsed: APDU
        do {
            parsed = try APDU.parse(apdu)
        } catch {
            throw error.shifted(by: apduOffset)
        }
        parsed = try plaintext(parsed, plain: plain, stream: context.source, offset: apduOffset)
        let ctx = DLMSInterpreter.Context(provenance: context.provenance(.dlms), receiveTime: context.receiveTime,
                                          meterHint: context.meterHint, meterTimeZone: context.options.meterTimeZone)
        interpreters[context.source, default: DLMSInterpreter()].consume(parsed, context: ctx, offset: apduOffset, into: &out)
    }

    /// The APDU to interpret: the plaintext of a ciphered service APDU (from `plain`, or deciphered
    /// with the keys); AARQ, AARE and releases as they are (their ciphered part is the initiate).
    private mutating func plaintext(_ apdu: APDU, plain: [UInt8]?, stream: String, offset: Int) throws(DecodeError) -> APDU {
        switch apdu {
        case .aarq(let a):
            if let t = a.calling.apTitle { clientTitles[stream] = t }
            return apdu
        case .aare(let a):
            if let t = a.responding.apTitle { serverTitles[stream] = t }
            return apdu
        case .ciphered, .generalCiphered:
            break
        default:
            return apdu
        }
        if let plain {
            do {
                return try APDU.parse(plain)
            } catch {
                throw DecodeError(.dlmsSecurity, at: offset, .malformed, "the frame record's plain APDU: \(error.message)")
            }
        }
        guard let security else {
            throw DecodeError(.dlmsSecurity, at: offset, .unsupported,
                              "ciphered \(apdu.kindName): no keys (give --key-file, or decode ami-read's frame records, which carry the plaintext)")
        }
        let request = DLMSStreamDecoder.isRequest(apdu)
        let title = request ? clientTitles[stream] : serverTitles[stream]
        do {
            return try security.decrypt(apdu, senderSystemTitle: title)
        } catch {
            throw error.shifted(by: offset)
        }
    }

    /// Whether a ciphered APDU goes from client to meter (glo-/ded- request tags).
    static func isRequest(_ apdu: APDU) -> Bool {
        guard case .ciphered(let x) = apdu else { return false }
        switch x.tag.plaintextTag {
        case 0xC0, 0xC1, 0xC3, 0x01: return true
        default: return false
        }
    }
}
