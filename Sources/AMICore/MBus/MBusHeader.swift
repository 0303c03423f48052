/// The fixed parts of an M-Bus application-layer response: the header of the variable data
/// structure, manufacturer and medium codes, the status byte, and the meter identity built from
/// them.
enum MBusHeader {
    /// The three-letter FLAG manufacturer code of the 2-byte manufacturer field (EN 13757-3, the
    /// manufacturer identification of the fixed data header; EN 62056-21 FLAG codes): three 5-bit
    /// letters, `A` = 1, packed as `32·32·L1 + 32·L2 + L3`. Bit 15 (set by some wireless meters)
    /// is ignored. Values that are not letters come out as the ASCII characters 64 + n (`@`, `[`…),
    /// as libmbus prints them.
    static func manufacturerLetters(_ raw: UInt16) -> (UInt8, UInt8, UInt8) {
        (UInt8(truncatingIfNeeded: (raw >> 10) & 0x1F) &+ 64,
         UInt8(truncatingIfNeeded: (raw >> 5) & 0x1F) &+ 64,
         UInt8(truncatingIfNeeded: raw & 0x1F) &+ 64)
    }

    /// The manufacturer code as a string (`0x0477` → `ACW`).
    static func manufacturer(_ raw: UInt16) -> String {
        let (a, b, c) = manufacturerLetters(raw)
        return String(decoding: [a, b, c], as: UTF8.self)
    }

    /// The meter identity `MAN-IIIIIIII-VV-MM` (ami-jsonl(5)): manufacturer letters, the 8 digits of
    /// the identification number (BCD, most significant first; a nibble above 9 shows as its hex
    /// digit, as libmbus prints it), version and medium as two uppercase hex digits each.
    /// `id` holds the 4 identification bytes most significant byte first.
    static func meterIdentity(manufacturer raw: UInt16, id: (UInt8, UInt8, UInt8, UInt8),
                              version: UInt8, medium: UInt8) -> String {
        let (a, b, c) = manufacturerLetters(raw)
        return String(unsafeUninitializedCapacity: 18) { buf in
            let hex = Hex.upperDigits
            buf[0] = a; buf[1] = b; buf[2] = c; buf[3] = 0x2D
            func put(_ byte: UInt8, _ i: Int) {
                buf[i] = hex[Int(byte >> 4)]
                buf[i + 1] = hex[Int(byte & 0x0F)]
            }
            put(id.0, 4); put(id.1, 6); put(id.2, 8); put(id.3, 10)
            buf[12] = 0x2D
            buf[13] = hex[Int(version >> 4)]; buf[14] = hex[Int(version & 0x0F)]
            buf[15] = 0x2D
            buf[16] = hex[Int(medium >> 4)]; buf[17] = hex[Int(medium & 0x0F)]
            return 18
        }
    }

    /// Identity of a meter whose frame has no long header (CI 0x7A, 0x78, 0x70): the frame record's
    /// meter when there is one, else `mbus-primary-A` with the link-layer (primary) address.
    static func addressIdentity(address: UInt8, hint: String?) -> String {
        if let h = hint { return h }
        return "mbus-primary-" + String(address)
    }

    /// Stable names of the medium (device type) byte of the variable data header (the device type
    /// table of EN 13757-3 for the fixed data header, with the codes EN 13757-3:2013 added after the
    /// M-Bus documentation rev. 4.8). Reserved codes are `reserved`.
    static let mediumNames: [String] = {
        var t = [String](repeating: "reserved", count: 256)
        let named: [(Int, String)] = [
            (0x00, "other"), (0x01, "oil"), (0x02, "electricity"), (0x03, "gas"),
            (0x04, "heat_outlet"), (0x05, "steam"), (0x06, "warm_water"), (0x07, "water"),
            (0x08, "heat_cost_allocator"), (0x09, "compressed_air"), (0x0A, "cooling_load_outlet"),
            (0x0B, "cooling_load_inlet"), (0x0C, "heat_inlet"), (0x0D, "heat_cooling_load"),
            (0x0E, "bus_system"), (0x0F, "unknown"),
            (0x14, "calorific_value"), (0x15, "hot_water"), (0x16, "cold_water"), (0x17, "dual_water"),
            (0x18, "pressure"), (0x19, "ad_converter"), (0x1A, "smoke_detector"), (0x1B, "room_sensor"),
            (0x1C, "gas_detector"),
            (0x20, "breaker_electricity"), (0x21, "valve_gas_or_water"), (0x25, "customer_unit"),
            (0x28, "waste_water"), (0x29, "garbage"),
            (0x31, "communication_controller"), (0x32, "unidirectional_repeater"),
            (0x33, "bidirectional_repeater"), (0x36, "radio_converter_system"),
            (0x37, "radio_converter_meter"),
        ]
        for (code, name) in named { t[code] = name }
        return t
    }()

    /// Stable names of the 4-bit medium of the fixed data structure (CI 0x73 / 0x77; EN 1434-3 and the
    /// M-Bus documentation rev. 4.8 §6.2). "Mode 2" media count in a different way but measure the same
    /// medium; the meter identity keeps the code apart.
    static let fixedMediumNames: [String] = [
        "other", "oil", "electricity", "gas", "heat", "steam", "hot_water", "water",
        "heat_cost_allocator", "reserved", "gas", "heat", "hot_water", "water", "heat_cost_allocator", "reserved",
    ]

    /// The events the status byte of a response reports (the status field of the fixed data header,
    /// EN 13757-3; M-Bus documentation rev. 4.8 §6.3.1, and §6.2 for the fixed data structure): bits 0–1
    /// application state
    /// (01 busy, 10 any application error, 11 abnormal condition / alarm in EN 13757-3:2013, reserved
    /// before), bit 2 power low, bit 3
    /// permanent error, bit 4 temporary error, bits 5–7 manufacturer specific (bit 5 only for the
    /// fixed structure, whose bits 6–7 code the counters). `code` is the status byte, e.g. `0x10`.
    static func statusEvents<E: RecordEmitter>(_ status: UInt8, manufacturerMask: UInt8, meter: String,
                                               time: UTCTime?, provenance: Provenance, into out: inout E) {
        if status & (0x1F | manufacturerMask) == 0 { return }
        let code = Hex.byte(status)
        func emit(_ event: StaticString, _ text: StaticString) {
            out.statusEvent(meter: meter, event: event, code: code, text: text, time: time, provenance: provenance)
        }
        switch status & 0x03 {
        case 0x01: emit("application_busy", "application busy")
        case 0x02: emit("application_error", "any application error")
        case 0x03: emit("abnormal_condition", "abnormal condition or alarm")
        default: break
        }
        if status & 0x04 != 0 { emit("power_low", "power low") }
        if status & 0x08 != 0 { emit("permanent_error", "permanent error") }
        if status & 0x10 != 0 { emit("temporary_error", "temporary error") }
        if status & manufacturerMask != 0 { emit("manufacturer_status", "manufacturer-specific status bits") }
    }

    /// The meaning of the error byte of an application error response (CI 0x70; EN 13757-3
    /// "Codes for general application errors", M-Bus documentation §6.6), worded as libmbus words
    /// them.
    static func applicationErrorText(_ code: UInt8) -> String {
        switch code {
        case 0: return "Unspecified error"
        case 1: return "Unimplemented CI-Field"
        case 2: return "Buffer too long, truncated"
        case 3: return "Too many records"
        case 4: return "Premature end of record"
        case 5: return "More than 10 DIFE´s"
        case 6: return "More than 10 VIFE´s"
        case 7: return "Reserved"
        case 8: return "Application busy"
        case 9: return "Too many readouts"
        default: return "Unknown error (\(Hex.byte(code)))"
        }
    }
}
