/// The wired M-Bus decoder: the link layer of EN 13757-2 (FT 1.2 frames) and the application layer
/// of EN 13757-3 (variable and fixed data structures, application errors).
///
/// Output per frame: one `Reading` per data record, then the `Event`s of the header's status byte;
/// an application error response (CI 0x70) is one `application_error` event. Single characters,
/// short frames and control frames carry no application data and give no records. Offsets in
/// errors and warnings are relative to the frame's first byte.
public enum MBusDecoder {
    public static func decode<E: RecordEmitter>(_ frame: [UInt8], context: FrameContext,
                                                into out: inout E) throws(DecodeError) {
        try decode(frame, context: context, layouts: MBusLayoutCache(), into: &out)
    }

    /// Decodes with the record layouts a stream has seen so far (`StreamState`).
    static func decode<E: RecordEmitter>(_ frame: [UInt8], context: FrameContext, layouts: MBusLayoutCache,
                                         into out: inout E) throws(DecodeError) {
        guard let start = frame.first else {
            throw DecodeError(.mbusLink, at: 0, .malformed, "empty frame")
        }
        switch start {
        case 0xE5:
            // Single character (acknowledgement), EN 13757-2.
            guard frame.count == 1 else {
                throw DecodeError(.mbusLink, at: 1, .malformed, "single character 0xE5 followed by more bytes")
            }
        case 0x10:
            // Short frame 10 C A CS 16: a master's request or a link reset; checksum = C + A.
            guard frame.count == 5, frame[4] == 0x16 else {
                throw DecodeError(.mbusLink, at: min(frame.count, 4), .malformed,
                                  "short frame is not 10 C A CS 16 (\(frame.count) bytes)")
            }
            try checkSum(frame, 1..<3, at: 3, context: context, into: &out)
        case 0x68:
            try decodeLong(frame, context: context, layouts: layouts, into: &out)
        default:
            throw DecodeError(.mbusLink, at: 0, .malformed, "\(Hex.byte(start)) is not an M-Bus start byte")
        }
    }

    /// Compares the checksum byte at `at` with the sum of `range` modulo 256 (EN 13757-2); a mismatch
    /// throws, or under `ignoreChecksums` becomes a warning.
    private static func checkSum<E: RecordEmitter>(_ frame: [UInt8], _ range: Range<Int>, at: Int,
                                                   context: FrameContext, into out: inout E) throws(DecodeError) {
        let sum = MBusFraming.checksum(frame, range)
        let sent = frame[at]
        if sent != sum {
            let error = DecodeError(.mbusLink, at: at, .checksum,
                                    "checksum \(Hex.byte(sent)), computed \(Hex.byte(sum))")
            if context.options.ignoreChecksums {
                out.warning(error)
            } else {
                throw error
            }
        }
    }

    // MARK: - long and control frames

    /// Control (L = 3) and long frames `68 L L 68 C A CI data CS 16` (EN 13757-2); the checksum
    /// covers C, A, CI and the data.
    private static func decodeLong<E: RecordEmitter>(_ frame: [UInt8], context: FrameContext,
                                                     layouts: MBusLayoutCache,
                                                     into out: inout E) throws(DecodeError) {
        guard frame.count >= 4 else {
            throw DecodeError(.mbusLink, at: frame.count, .malformed, "long frame cut short at \(frame.count) bytes")
        }
        let l = Int(frame[1])
        guard frame[2] == frame[1] else {
            throw DecodeError(.mbusLink, at: 1, .malformed, "length fields differ (\(frame[1]) and \(frame[2]))")
        }
        guard frame[3] == 0x68 else {
            throw DecodeError(.mbusLink, at: 3, .malformed, "second start byte is \(Hex.byte(frame[3])), not 0x68")
        }
        guard l >= 3 else {
            throw DecodeError(.mbusLink, at: 1, .malformed, "length \(l) is below the minimum of 3")
        }
        guard frame.count == l + 6 else {
            throw DecodeError(.mbusLink, at: min(frame.count, l + 5), .malformed,
                              "frame of \(frame.count) bytes, length field says \(l + 6)")
        }
        guard frame[l + 5] == 0x16 else {
            throw DecodeError(.mbusLink, at: l + 5, .malformed, "no stop byte 0x16 after \(l) bytes of data")
        }
        try checkSum(frame, 4..<(l + 4), at: l + 4, context: context, into: &out)

        let address = frame[5]
        let ci = frame[6]
        let data = 7..<(l + 4)
        switch ci {
        case 0x72, 0x76:
            try decodeVariable(frame, data: data, header: .long, bigEndian: ci == 0x76, address: address,
                               context: context, layouts: layouts, into: &out)
        case 0x7A:
            try decodeVariable(frame, data: data, header: .short, bigEndian: false, address: address,
                               context: context, layouts: layouts, into: &out)
        case 0x78:
            try decodeVariable(frame, data: data, header: .none, bigEndian: false, address: address,
                               context: context, layouts: layouts, into: &out)
        case 0x73, 0x77:
            try decodeFixed(frame, data: data, bigEndian: ci == 0x77, context: context, into: &out)
        case 0x70:
            // Application error from the slave (EN 13757-3 "general application errors"; M-Bus
            // documentation rev. 4.8 §6.6): one error byte, 0 when absent.
            let code: UInt8 = data.isEmpty ? 0 : frame[data.lowerBound]
            out.record(.event(Event(
                meter: MBusHeader.addressIdentity(address: address, hint: context.meterHint),
                event: "application_error", code: Hex.byte(code), text: MBusHeader.applicationErrorText(code),
                time: context.receiveTime, provenance: context.provenance(.mbus))))
        default:
            // A control frame (no data) is a master's command or an acknowledgement: nothing to report.
            if l == 3 { return }
            throw DecodeError(.mbusApplication, at: 6, .unsupported,
                              "CI \(Hex.byte(ci))\(ciName(ci)) is not decoded")
        }
    }

    /// True when `frame` is a long frame with a variable data structure (CI 0x72, 0x76, 0x7A, 0x78)
    /// whose records end with DIF 0x1F: the meter has more records in its next telegram, which a
    /// REQ_UD2 with the FCB toggled asks for (EN 13757-3:2018 §6.5; EN 13757-2 §5.4).
    public static func moreRecordsFollow(_ frame: [UInt8]) -> Bool {
        guard frame.count >= 9, frame[0] == 0x68, frame.count == Int(frame[1]) + 6 else { return false }
        let headerLength: Int
        switch frame[6] {
        case 0x72, 0x76: headerLength = 12
        case 0x7A: headerLength = 4
        case 0x78: headerLength = 0
        default: return false
        }
        let start = 7 + headerLength, end = frame.count - 2
        guard start <= end else { return false }
        return MBusDataRecord.walk(frame, start..<end) { _, _, _ in } == 0x1F
    }

    /// The application error of a response with CI 0x70 (EN 13757-3 "general application errors"):
    /// the error byte and its meaning; nil for any other frame.
    public static func applicationError(_ frame: [UInt8]) -> (code: UInt8, text: String)? {
        guard frame.count >= 9, frame[0] == 0x68, frame[6] == 0x70 else { return nil }
        let code: UInt8 = frame.count > 9 ? frame[7] : 0
        return (code, MBusHeader.applicationErrorText(code))
    }

    /// Names of control information codes that are not decoded, for the message.
    private static func ciName(_ ci: UInt8) -> String {
        switch ci {
        case 0x50: return " (application reset)"
        case 0x51: return " (data send, master to slave)"
        case 0x52: return " (slave select)"
        case 0x71: return " (alarm status)"
        case 0xB8...0xBF: return " (set baud rate)"
        default: return ""
        }
    }

    // MARK: - variable data structure

    enum HeaderKind {
        /// CI 0x72 / 0x76: identification, manufacturer, version, medium, access number, status,
        /// signature (12 bytes).
        case long
        /// CI 0x7A: access number, status, signature (4 bytes).
        case short
        /// CI 0x78: no header.
        case none
    }

    /// The variable data structure: its header, then data records to the end of the user data
    /// (EN 13757-3 "Variable data structure"; M-Bus documentation rev. 4.8 §6.3). CI 0x76 (mode 2)
    /// sends the header fields and multi-byte values most significant byte first.
    private static func decodeVariable<E: RecordEmitter>(_ frame: [UInt8], data: Range<Int>, header: HeaderKind,
                                                         bigEndian: Bool, address: UInt8, context: FrameContext,
                                                         layouts: MBusLayoutCache,
                                                         into out: inout E) throws(DecodeError) {
        let meter: String
        var status: UInt8? = nil
        let provenance = context.provenance(.mbus)
        switch header {
        case .long:
            guard data.count >= 12 else {
                throw DecodeError(.mbusApplication, at: data.lowerBound, .malformed,
                                  "variable data header too short: \(data.count) of 12 bytes")
            }
            let h = data.lowerBound
            // Identification number: 8 BCD digits; manufacturer: 2 bytes (EN 13757-3 fixed data header).
            let id = bigEndian ? (frame[h], frame[h + 1], frame[h + 2], frame[h + 3])
                               : (frame[h + 3], frame[h + 2], frame[h + 1], frame[h])
            let man = bigEndian ? UInt16(frame[h + 4]) << 8 | UInt16(frame[h + 5])
                                : UInt16(frame[h + 5]) << 8 | UInt16(frame[h + 4])
            let version = frame[h + 6], mediumByte = frame[h + 7]
            status = frame[h + 9]
            // The meter as seen before in the stream, else made and kept while there is room.
            let key = UInt64(id.0) << 56 | UInt64(id.1) << 48 | UInt64(id.2) << 40 | UInt64(id.3) << 32
                | UInt64(man) << 16 | UInt64(version) << 8 | UInt64(mediumByte)
            if let known = layouts.meters[key] {
                meter = known._withUnsafeGuaranteedRef { head in
                    out.setMeter(head, provenance: provenance)
                    return head.meter
                }
            } else {
                meter = MBusHeader.meterIdentity(manufacturer: man, id: id, version: version, medium: mediumByte)
                let medium = MBusHeader.mediumNames[Int(mediumByte)]
                if layouts.meters.count < layouts.meters.capacity {
                    let head = MeterHead(meter: meter, medium: medium)
                    layouts.meters.insert(head, key: key)
                    out.setMeter(head, provenance: provenance)
                } else {
                    out.setMeter(meter, medium: medium, provenance: provenance)
                }
            }
        case .short:
            guard data.count >= 4 else {
                throw DecodeError(.mbusApplication, at: data.lowerBound, .malformed,
                                  "variable data header too short: \(data.count) of 4 bytes")
            }
            status = frame[data.lowerBound + 1]
            meter = MBusHeader.addressIdentity(address: address, hint: context.meterHint)
            out.setMeter(meter, medium: nil, provenance: provenance)
        case .none:
            meter = MBusHeader.addressIdentity(address: address, hint: context.meterHint)
            out.setMeter(meter, medium: nil, provenance: provenance)
        }
        let headerLength = header == .long ? 12 : (header == .short ? 4 : 0)
        let info = MBusDataRecord.FrameInfo(bigEndian: bigEndian, zone: context.options.meterTimeZone)
        var cursor = ByteCursor(frame, start: data.lowerBound + headerLength, end: data.upperBound,
                                layer: .mbusApplication)
        let records = (data.lowerBound + headerLength)..<data.upperBound
        let times = MBusDataRecord.FrameTimes(
            points: MBusDataRecord.scanTimePoints(frame, records, bigEndian: bigEndian, zone: info.zone),
            receiveTime: context.receiveTime)
        try MBusDataRecord.decodeAll(&cursor, frame: info, times: times, layouts: layouts, into: &out)
        if let s = status {
            MBusHeader.statusEvents(s, manufacturerMask: 0xE0, meter: meter, time: times.now, provenance: provenance,
                                    into: &out)
        }
    }

    // MARK: - fixed data structure

    /// The fixed data structure (CI 0x73; EN 1434-3 and M-Bus documentation rev. 4.8 §6.2):
    /// identification (8 BCD digits), access number, status, medium and units of two counters, and
    /// the two counters, BCD or binary as status bit 7 says; status bit 6 marks them stored (historic)
    /// values. CI 0x77 is the same most significant byte first (bit 2 of the CI field selects mode 2,
    /// as for 0x76). There is no manufacturer or version: the meter is `@@@-IIIIIIII-00-0M` with
    /// the 4-bit medium code.
    private static func decodeFixed<E: RecordEmitter>(_ frame: [UInt8], data: Range<Int>, bigEndian: Bool,
                                                      context: FrameContext, into out: inout E) throws(DecodeError) {
        guard data.count == 16 else {
            throw DecodeError(.mbusApplication, at: data.lowerBound, .malformed,
                              "fixed data structure of \(data.count) bytes, 16 expected")
        }
        let h = data.lowerBound
        let id = bigEndian ? (frame[h], frame[h + 1], frame[h + 2], frame[h + 3])
                           : (frame[h + 3], frame[h + 2], frame[h + 1], frame[h])
        let status = frame[h + 5]
        let unit1 = frame[h + 6] & 0x3F, unit2 = frame[h + 7] & 0x3F
        let mediumCode = (frame[h + 6] >> 6) | ((frame[h + 7] >> 6) << 2)
        let meter = MBusHeader.meterIdentity(manufacturer: 0, id: id, version: 0, medium: mediumCode)
        let medium = MBusHeader.fixedMediumNames[Int(mediumCode & 0x0F)]
        let provenance = context.provenance(.mbus)
        out.setMeter(meter, medium: medium, provenance: provenance)
        let stored = status & 0x40 != 0
        for k in 0..<2 {
            let r = (h + 8 + 4 * k)..<(h + 12 + 4 * k)
            let raw: Int64?
            if status & 0x80 != 0 {
                raw = MBusDataRecord.signExtend(MBusDataRecord.uint(frame, r, bigEndian: bigEndian), bytes: 4)
            } else {
                raw = try MBusDataRecord.bcd(frame, r, bigEndian: bigEndian, signNibble: false,
                                             difOffset: r.lowerBound, index: k)
            }
            var code = k == 0 ? unit1 : unit2
            var storage = stored ? 1 : 0
            if k == 1 && code == 0x3E {
                // "Same but historic": counter 2 has the unit of counter 1 and is a stored value.
                code = unit1
                storage = 1
            }
            let u = fixedUnit(code)
            var note = u.note
            let value: ReadingValue
            if let v = raw {
                value = .number(ExactDecimal(v, exponent: u.exponent))
            } else {
                value = .text(MBusDataRecord.bcdDigits(frame, r, bigEndian: bigEndian))
                note = note.map { $0 + "; invalid BCD" } ?? "invalid BCD"
            }
            out.reading(quantity: u.quantity, obis: nil, value: value, unit: u.unit,
                        time: storage == 0 ? context.receiveTime : nil, storage: storage, tariff: 0, subunit: 0,
                        function: .instantaneous, record: k, note: note)
        }
        MBusHeader.statusEvents(status, manufacturerMask: 0x20, meter: meter, time: context.receiveTime,
                                provenance: provenance,
                                into: &out)
    }

    /// The units of the fixed data structure (M-Bus documentation rev. 4.8 §6.2, "unit" codes
    /// 0x00–0x3F) as quantity, base unit and power of ten.
    static func fixedUnit(_ code: UInt8) -> (quantity: Quantity, unit: Unit?, exponent: Int, note: String?) {
        let c = Int(code)
        switch c {
        case 0x00: return (.counter, nil, 0, "h,m,s")
        case 0x01: return (.counter, nil, 0, "D,M,Y")
        case 0x02...0x0A: return (.energy, .wattHour, c - 0x02, nil)             // Wh … 100 MWh
        case 0x0B...0x13: return (.energy, .joule, c - 0x0B + 3, nil)           // kJ … 100 GJ
        case 0x14...0x1C: return (.power, .watt, c - 0x14, nil)                 // W … 100 MW
        case 0x1D...0x25: return (.power, .joulePerHour, c - 0x1D + 3, nil)     // kJ/h … 100 GJ/h
        case 0x26...0x2E: return (.volume, .cubicMetre, c - 0x26 - 6, nil)      // ml … 100 m3
        case 0x2F...0x37: return (.volumeFlow, .cubicMetrePerHour, c - 0x2F - 6, nil)  // ml/h … 100 m3/h
        case 0x38: return (.temperature, .degreeCelsius, -3, nil)
        case 0x39: return (.hca, nil, 0, nil)
        case 0x3F: return (.counter, nil, 0, nil)
        default: return (.counter, nil, 0, "reserved unit " + Hex.byte(code))
        }
    }
}
