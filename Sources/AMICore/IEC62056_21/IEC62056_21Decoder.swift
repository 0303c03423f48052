/// Decodes IEC 62056-21 readouts (IEC 62056-21 §6.3 messages, §6.4 modes A–E; OBIS codes per
/// IEC 62056-61) into readings: the mode A–C/E data message `STX … ! CR LF ETX BCC` after the
/// identification line or on its own, and mode D push telegrams ending in `!`.
///
/// - The BCC is checked when the readout has one: a mismatch skips the readout, or with
///   `ignoreChecksums` becomes a warning. An STX block without ETX is decoded with a warning.
/// - The sign-on request `/?…!` echoed into a capture is a frame that yields nothing, and so are
///   the other session messages of a frame record (`IECMessage.sessionMessageLength`: ACK, NAK,
///   `SOH` command messages, whose BCC is checked, an identification line on its own).
/// - `meter` is the serial number / equipment identifier register (see `MeterIdentity`: 96.1.x, `C.1`,
///   `0.0.0`, `0.0`, `1-0:0.0.0*255`, …), trimmed; else `MAN:identification` of the identification
///   line; else the frame's meter hint; else `unknown`.
/// - Each data set is a reading whose `obis` is the address as written and whose quantity comes from
///   `OBISTable`. A value group holding a timestamp `YYMMDDhhmm` (`1.6.0(05.432*kW)(2403011215)`) is
///   the time of the value, read in `meterTimeZone`; other values have the receive time. The medium
///   is given when the address has value group A (1 electricity, 6 heat, 7 gas, 8 water, …).
/// - A piece of a data line that is not a data set is left out with a warning; the rest is decoded.
public enum IEC62056_21Decoder {
    public static func decode(_ frame: [UInt8], context: FrameContext, into out: inout DecodeOutput) throws(DecodeError) {
        if IECMessage.sessionMessageLength(frame, at: 0, end: frame.count) != nil {
            // A programming-mode command with a wrong BCC is reported; the messages carry no readings.
            if frame[0] == IECControl.soh, BlockCheck.bcc(frame, 1..<(frame.count - 1)) != frame[frame.count - 1] {
                throw DecodeError(.iec62056_21, at: frame.count - 1, .checksum, "BCC \(Hex.byte(frame[frame.count - 1])), computed \(Hex.byte(BlockCheck.bcc(frame, 1..<(frame.count - 1))))")
            }
            return
        }
        let layout = try TextTelegramLayout.ofFrame(frame, layer: .iec62056_21)
        guard layout.kind == .telegram else { return }
        try layout.verifyChecksums(frame, layer: .iec62056_21, options: context.options, into: &out)
        let (sets, warnings) = DataSetParser.parse(frame, layout.data, layer: .iec62056_21)
        out.warnings.append(contentsOf: warnings)
        let coded = sets.map { (set: $0, code: OBISAddress($0.address)) }
        let identification = layout.identification.flatMap { IdentificationLine(frame, $0) }
        let meter = MeterIdentity.choose(coded, value: { s in s.groups.first.map { TextValue.identifier($0, hex: false) } })
            ?? identification?.meterName ?? context.meterHint ?? "unknown"
        let base = TextReadingContext(meter: meter, medium: nil, time: context.receiveTime,
                                      zone: context.options.meterTimeZone, hexIdentifiers: false,
                                      provenance: context.provenance(.iec62056_21))
        for (record, (set, code)) in coded.enumerated() {
            var ctx = base
            ctx.medium = code?.a.flatMap(medium(ofValueGroupA:))
            TextReadings.generic(set, code: code, record: record, context: ctx, into: &out)
        }
    }

    /// The medium of OBIS value group A (IEC 62056-61).
    static func medium(ofValueGroupA a: Int) -> String? {
        switch a {
        case 1: return "electricity"
        case 4: return "heat_cost_allocator"
        case 5: return "cooling"
        case 6: return "heat"
        case 7: return "gas"
        case 8: return "cold_water"
        case 9: return "hot_water"
        default: return nil
        }
    }
}
