/// Decodes DSMR P1 telegrams (DSMR P1 Companion Standard 5.0.2 §6, and the DSMR 2.2/3/4 and e-MUCS
/// P1 1.7.1 variants; NEN-EN-IEC 62056-21 mode D based) into readings and events.
///
/// - The CRC (DSMR 4+, §6.2) is checked when the telegram has one: a mismatch skips the telegram, or
///   with `ignoreChecksums` becomes a warning.
/// - `meter` is the equipment identifier `0-0:96.1.1` (`0-0:96.1.0` in older versions, see
///   `MeterIdentity`), decoded from hex when it is hex ASCII; else `MAN:identification` of the header
///   line; else the frame's meter hint; else `unknown`. Each M-Bus channel `0-n:…` is a meter of its
///   own, named by its `0-n:96.1.0`/`0-n:96.1.1` (or `<meter>/mbus<n>` when it sends none), with the
///   medium of its device type `0-n:24.1.0`. Other readings have medium `electricity`.
/// - Times: the telegram's clock `0-0:1.0.0` is the time of the readings, else the receive time;
///   values with a capture time of their own (`0-n:24.2.1`, `1-0:1.6.0`, DSMR 2.2/3 `0-n:24.3.0`)
///   carry it. `W`/`S` timestamps are UTC+1/UTC+2; others are read in `dsmrTimeZone`.
/// - Every data line is a reading (quantities in `OBISTable`), except the power failure log
///   `1-0:99.97.0`, whose entries are `power_failure` events, and profile buffers such as the e-MUCS
///   peak history `0-0:98.1.0`, which give a reading per entry. A line that is not a data set is left
///   out with a warning; the rest of the telegram is decoded.
public enum DSMRDecoder {
    public static func decode(_ frame: [UInt8], context: FrameContext, into out: inout DecodeOutput) throws(DecodeError) {
        let layout = try TextTelegramLayout.ofFrame(frame, layer: .dsmr)
        switch layout.kind {
        case .idle:
            return
        case .request:
            throw DecodeError(.dsmr, at: layout.begin, .malformed, "an IEC 62056-21 sign-on request is not a DSMR telegram")
        case .telegram:
            break
        }
        try layout.verifyChecksums(frame, layer: .dsmr, options: context.options, into: &out)
        let (sets, warnings) = DataSetParser.parse(frame, layout.data, layer: .dsmr)
        out.warnings.append(contentsOf: warnings)
        let coded = sets.map { (set: $0, code: OBISAddress($0.address)) }
        let zone = context.options.dsmrTimeZone

        func identifier(_ set: DataSet) -> String? { set.groups.first.map { TextValue.identifier($0, hex: true) } }
        let header = layout.identification.flatMap { IdentificationLine(frame, $0) }
        let meter = MeterIdentity.choose(coded, value: identifier) ?? header?.meterName ?? context.meterHint ?? "unknown"

        var time = context.receiveTime
        var channels: [Int: (id: String?, medium: String?)] = [:]
        for (set, code) in coded {
            guard let o = code else { continue }
            if OBISTable.meaning(of: o).isClock, set.groups.count == 1, let g = set.groups.first,
               let t = TextTimestamp.parse(g.value.trimmingSpaces, zone: zone) {
                time = t
            }
            guard let ch = o.mbusChannel else { continue }
            var info = channels[ch] ?? (nil, nil)
            if o.c == 96, o.d == 1, info.id == nil, let id = identifier(set), !id.isEmpty { info.id = id }
            if o.c == 24, o.d == 1, let g = set.groups.first, let type = Int(g.value.trimmingSpaces) {
                info.medium = DSMRMBusMedium.medium(deviceType: type)
            }
            channels[ch] = info
        }

        let electricity = TextReadingContext(meter: meter, medium: "electricity", time: time, zone: zone,
                                             hexIdentifiers: true, provenance: context.provenance(.dsmr))
        for (record, (set, code)) in coded.enumerated() {
            var ctx = electricity
            if let ch = code?.mbusChannel {
                ctx.meter = channels[ch]?.id ?? "\(meter)/mbus\(ch)"
                ctx.medium = channels[ch]?.medium
            }
            if let o = code, let buffer = DSMRProfileBuffer(set.groups) {
                if o.c == 99 && o.d == 97 {
                    DSMRObjects.powerFailures(set, buffer, context: ctx, into: &out)
                } else {
                    DSMRObjects.history(set, buffer, record: record, context: ctx, into: &out)
                }
            } else if let o = code, o.c == 24, o.d == 3,
                      DSMRObjects.hourlyValues(set, record: record, context: ctx, into: &out) {
                continue
            } else {
                TextReadings.generic(set, code: code, record: record, context: ctx, into: &out)
            }
        }
    }
}
