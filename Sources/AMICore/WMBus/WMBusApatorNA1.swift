/// The Apator NA-1 water meter (manufacturer APA, version 0x14, device type 0x07), which sends its
/// reading in a manufacturer-specific application layer (CI 0xA0 or 0xA1, EN 13757-7 Table 2): the
/// access number, a status byte in the clear, then one AES-128-CBC block enciphered with the meter's
/// key and the IV of security mode 5 (link-layer M and A fields, then the access number eight times).
/// Apator does not publish the block's layout; it is read as wmbusmeters' apatorna1 driver reads it
/// (its tests, issue 1215), which the wmbusmeters corpus cases confirm:
///
/// | byte | content |
/// | --- | --- |
/// | 0 | check byte 0x2F |
/// | 1–4 | total volume, little-endian: bits 8–31 and 0–3 the digits, bits 4–5 the power of ten, in litres |
/// | 5–8 | the meter's clock, seconds since 2000-01-01 00:00 local time, little-endian |
/// | 9–10 | age of the last historic value in hours: byte 9 and bits 2–7 of byte 10 (high) |
/// | 10–13 | how much less the historic value was: bits 0–1 of byte 10, then bytes 11–13, same units as the total |
/// | 14, 15 | current and historic alarm flags |
///
/// Bytes after the block, if any, are left as a `manufacturer_specific` reading.
enum WMBusApatorNA1 {
    /// Whether a frame with application CI `ci` is an Apator NA-1 telegram.
    static func matches(_ link: WMBusLinkHeader, ci: UInt8) -> Bool {
        link.manufacturer == 0x0601 && link.version == 0x14 && link.deviceType == 0x07 && (ci == 0xA0 || ci == 0xA1)
    }

    static let frameFlags = ["summer_time", "historic_indication", "max_speed_exceeded", "device_access_error",
                             "two_way_communication_blocked", "installation_frame", "wrong_temperature", "service_event"]
    static let alarmFlags = ["battery_low", "magnetic_field", "device_disconnected", "leak",
                             "measurement_unchanged", "reverse_flow", "maximum_flow", "minimum_flow"]

    /// "frame status: summer_time, leak" for the bits of `byte` set, by their names from bit 0 up.
    static func flags(_ what: String, _ byte: UInt8, _ names: [String]) -> String {
        let set = (0..<8).filter { byte & (1 << $0) != 0 }.map { names[$0] }
        return what + ": " + (set.isEmpty ? "none" : set.joined(separator: ", "))
    }

    /// Deciphers and decodes the payload after the CI at `frame[pos]`.
    static func decode<E: RecordEmitter>(_ frame: [UInt8], at pos: Int, link: WMBusLinkHeader, context: FrameContext,
                                         into out: inout E) throws(DecodeError) {
        let data = pos + 1
        let block = data + 2
        guard frame.count >= block + 16 else {
            throw WMBusDecoder.short(.wmbusTransport, "Apator NA-1 payload (18 bytes)", data, frame)
        }
        let meter = link.meter
        guard let key = context.options.wmbusKeys.key(for: meter) else { throw WMBusDecoder.noKey(meter, at: block) }
        guard key.bytes.count == 16 else {
            throw WMBusDecoder.wrongKey(meter, at: block, "the Apator NA-1 block is AES-128, the key file has a DES key")
        }
        let access = frame[data], frameStatus = frame[data + 1]
        let iv = link.addressBytes + [UInt8](repeating: access, count: 8)
        guard let p = WMBusAES.cbcDecrypt(key: key.bytes, iv: iv, Array(frame[block..<(block + 16)])) else {
            throw DecodeError(.wmbusSecurity, at: block, .malformed, "AES-CBC failed")
        }
        guard p[0] == 0x2F else {
            throw WMBusDecoder.wrongKey(meter, at: block, "the deciphered Apator NA-1 block does not start with the check byte 2F")
        }
        func u32(_ i: Int) -> Int64 {
            Int64(p[i]) | Int64(p[i + 1]) << 8 | Int64(p[i + 2]) << 16 | Int64(p[i + 3]) << 24
        }
        let packed = u32(1)
        let exponent = Int((packed >> 4) & 0x3) - 3                // litres, times 10^0…3, in m3
        let total = (packed >> 8) << 4 | packed & 0x0F
        let less = Int64(p[13]) << 18 | Int64(p[12]) << 10 | Int64(p[11]) << 2 | Int64(p[10] & 0x03)
        let ageHours = Int64(p[10] >> 2) << 8 | Int64(p[9])
        let zone = context.options.meterTimeZone
        let local = UTCTime(seconds: 946_684_800 + u32(5)).civil  // 2000-01-01T00:00, read as local time
        let clock = zone.utc(year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute,
                             second: local.second, isDST: zone.identifier == "UTC" ? nil : frameStatus & 0x01 != 0)
        let historicTime = clock.map { UTCTime(milliseconds: $0.milliseconds - ageHours * 3_600_000) }
        let current = p[14], historic = p[15]

        var record = 0
        func reading(_ q: Quantity, _ v: ReadingValue, _ unit: Unit?, _ time: UTCTime?, storage: Int, _ note: String?) {
            out.reading(quantity: q, obis: nil, value: v, unit: unit, time: time, storage: storage, tariff: 0,
                        subunit: 0, function: .instantaneous, record: record, note: note)
            record += 1
        }
        reading(.volume, .number(ExactDecimal(total, exponent: exponent)), .cubicMetre, clock, storage: 0, nil)
        if let c = clock { reading(.clock, .text(c.description), nil, c, storage: 0, nil) }
        reading(.status, .number(ExactDecimal(Int64(frameStatus))), nil, clock, storage: 0,
                flags("frame status", frameStatus, frameFlags))
        reading(.status, .number(ExactDecimal(Int64(current))), nil, clock, storage: 0,
                flags("alarms", current, alarmFlags))
        reading(.volume, .number(ExactDecimal(total - less, exponent: exponent)), .cubicMetre, historicTime,
                storage: 1, nil)
        reading(.duration, .number(ExactDecimal(ageHours * 3600)), .second, historicTime, storage: 1,
                "age of the storage 1 values")
        reading(.status, .number(ExactDecimal(Int64(historic))), nil, historicTime, storage: 1,
                flags("alarms", historic, alarmFlags))
        if frame.count > block + 16 {
            var hex: [UInt8] = []
            Hex.append(frame[(block + 16)...], to: &hex)
            reading(.manufacturerSpecific, .text(String(decoding: hex, as: UTF8.self)), nil, context.receiveTime,
                    storage: 0, "ci \(Hex.byte(frame[pos])) at byte \(block + 16)")
        }
        if current & 0x01 != 0 {
            out.record(.event(Event(meter: meter, event: "power_low", code: Hex.byte(current), text: "battery low",
                                    time: clock, provenance: context.provenance(.wmbus))))
        }
    }
}
