/// What the wireless M-Bus frames of one input share: the data-record formats of full frames by their
/// format signature, so that compact frames (CI 0x79), which send only a signature and the data,
/// can be read (EN 13757-3:2018 Annex G; OMS Vol. 2 §7.2.4).
public struct WMBusStreamState: Sendable {
    /// The DIF/VIF bytes of full frames, by the CRC of those bytes.
    var formats: [UInt16: [UInt8]] = [:]
    /// The layouts of the data records seen so far.
    let layouts = MBusLayoutCache()

    public init() {}
}

/// The wireless M-Bus decoder: the link layer of EN 13757-4 (formats A and B, or CRCs removed), the
/// extended link layer (CI 0x8C–0x8F) and authentication and fragmentation layer (CI 0x90) of
/// EN 13757-4/-7, the transport layer of EN 13757-7 (CI 0x7A short and 0x72 long header, 0x78 none,
/// 0x79 compact), security modes 5 and 7 (EN 13757-7 §9, OMS Vol. 2 §9), and the data records of
/// EN 13757-3, read by the wired M-Bus record decoder (`MBusDataRecord`).
///
/// Output per frame: one `Reading` per data record, with the meter `MAN-IIIIIIII-VV-TT` of the long
/// transport header when there is one, else of the link-layer address; then the events of the
/// status byte. An application error (CI 0x70, 0x6E, 0x6F) or alarm (CI 0x71, 0x74, 0x75) is one
/// `application_error` or `alarm` event with the state byte as its code. Manufacturer-specific application data (CI 0xA0–0xB7) is one `manufacturer_specific`
/// reading in hex, its note naming the CI and the byte it starts at. Offsets in errors are relative
/// to the frame without its CRCs.
public enum WMBusDecoder {
    public static func decode<E: RecordEmitter>(_ raw: [UInt8], context: FrameContext, state: inout WMBusStreamState,
                                                into out: inout E) throws(DecodeError) {
        var warnings: [DecodeError] = []
        var frame = try WMBusFraming.strip(raw, ignoreChecksums: context.options.ignoreChecksums) {
            warnings.append($0)
        }.frame
        for w in warnings { out.warning(w) }
        guard frame.count >= 10 else {
            throw DecodeError(.wmbusLink, at: frame.count, .malformed,
                              "link header cut short at \(frame.count) of 10 bytes")
        }
        let link = WMBusLinkHeader(frame, addressAt: 2, c: frame[1])
        var pos = 10
        var afl: AFL? = nil
        while pos < frame.count {
            let ci = frame[pos]
            switch ci {
            case 0x8C...0x8F:
                pos = try extendedLinkLayer(&frame, at: pos, link: link, context: context)
            case 0x90:
                let a = try AFL(frame, at: pos)
                afl = a
                pos = a.end
            default:
                try transport(&frame, at: pos, link: link, afl: afl, context: context, state: &state, into: &out)
                return
            }
        }
        // A frame without application data (an acknowledgement, a link-layer command): nothing to report.
    }

    // MARK: - extended link layer

    /// The extended link layer (EN 13757-4 §13.2.12; CI 0x8C: CC ACC; 0x8D: CC ACC SN and the
    /// payload CRC; 0x8E/0x8F the same with an address after ACC). A payload the SN marks as
    /// AES-128-CTR enciphered is deciphered with the meter's key and checked by its payload CRC; one
    /// whose payload CRC already matches was deciphered by the receiver. Returns the position after it.
    static func extendedLinkLayer(_ frame: inout [UInt8], at pos: Int, link: WMBusLinkHeader,
                                  context: FrameContext) throws(DecodeError) -> Int {
        let ci = frame[pos]
        let addressed = ci == 0x8E || ci == 0x8F
        let headerLength = 3 + (addressed ? 8 : 0)
        guard ci == 0x8D || ci == 0x8F else {
            guard frame.count >= pos + headerLength else { throw short(.wmbusLink, "extended link layer", pos, frame) }
            return pos + headerLength
        }
        let sn = pos + headerLength
        let payload = sn + 4
        guard frame.count >= payload + 2 else { throw short(.wmbusLink, "extended link layer", pos, frame) }
        let cc = frame[pos + 1]
        let session = UInt32(frame[sn]) | UInt32(frame[sn + 1]) << 8 | UInt32(frame[sn + 2]) << 16
            | UInt32(frame[sn + 3]) << 24
        let crcMatches = { (f: [UInt8]) in
            WMBusCRC.checksum(f, (payload + 2)..<f.count) == UInt16(f[payload]) | UInt16(f[payload + 1]) << 8
        }
        switch session >> 29 {
        case 0:
            guard crcMatches(frame) else {
                throw DecodeError(.wmbusLink, at: payload, .checksum, "extended link layer payload CRC does not match")
            }
        case 1:
            if crcMatches(frame) { break }
            guard let key = context.options.wmbusKeys.key(for: link.meter) else {
                throw noKey(link.meter, at: payload)
            }
            guard key.bytes.count == 16 else {
                throw wrongKey(link.meter, at: payload, "the extended link layer is AES-128, the key file has a DES key")
            }
            let iv = link.addressBytes + [cc] + Array(frame[sn..<(sn + 4)]) + [0, 0, 0]
            guard let plain = WMBusAES.ctr(key: key.bytes, iv: iv, Array(frame[payload...])) else {
                throw DecodeError(.wmbusSecurity, at: payload, .malformed, "AES-CTR failed")
            }
            frame.replaceSubrange(payload..., with: plain)
            guard crcMatches(frame) else {
                throw wrongKey(link.meter, at: payload, "the extended link layer payload CRC does not match")
            }
        default:
            throw DecodeError(.wmbusSecurity, at: sn, .unsupported,
                              "extended link layer encryption \(session >> 29) is not supported")
        }
        return payload + 2
    }

    // MARK: - authentication and fragmentation layer

    /// The authentication and fragmentation layer (EN 13757-7 §6; CI 0x90): its length, fragmentation
    /// control (FCL), and the optional message control (MCL), key information, message counter
    /// (MCR), MAC and message length that the FCL's presence bits announce.
    struct AFL {
        var end: Int
        var mcl: UInt8?
        var counter: [UInt8]?
        var mac: [UInt8]?
        var messageLength: [UInt8]?

        init(_ frame: [UInt8], at pos: Int) throws(DecodeError) {
            guard frame.count >= pos + 4 else { throw short(.wmbusLink, "AFL header", pos, frame) }
            let length = Int(frame[pos + 1])
            end = pos + 2 + length
            guard end <= frame.count, length >= 2 else {
                throw DecodeError(.wmbusLink, at: pos + 1, .malformed, "AFL length \(length) does not fit the frame")
            }
            let fcl = UInt16(frame[pos + 2]) | UInt16(frame[pos + 3]) << 8
            guard fcl & 0x4000 == 0 else {
                throw DecodeError(.wmbusLink, at: pos + 2, .unsupported, "fragmented message (more fragments follow)")
            }
            var c = ByteCursor(frame, start: pos + 4, end: end, layer: .wmbusLink)
            if fcl & 0x2000 != 0 { mcl = try c.u8() }
            if fcl & 0x1000 != 0 { try c.skip(2) }                        // key information
            if fcl & 0x0800 != 0 { counter = try c.take(4) }
            if fcl & 0x0400 != 0 {
                // The MCL's AT field gives the MAC's length (EN 13757-7 Table 12): 4, 8, 12 or 16 bytes.
                let at = Int((mcl ?? 0) & 0x0F)
                guard (4...7).contains(at) else {
                    throw DecodeError(.wmbusLink, at: pos + 4, .unsupported, "AFL authentication type \(at) is not supported")
                }
                mac = try c.take(4 * (at - 3))
            }
            if fcl & 0x0200 != 0 { messageLength = try c.take(2) }
        }
    }

    // MARK: - transport layer

    /// The transport-layer header of CI 0x7A (short) and 0x72 (long) (EN 13757-7 §7.5, §7.6).
    struct TPLHeader {
        /// The meter the data is from: the long header's, else the link layer's.
        var meter: WMBusLinkHeader
        var access: UInt8
        var status: UInt8
        var config: UInt16
        /// Where the application data starts.
        var end: Int
        var long: Bool

        var securityMode: Int { Int((config >> 8) & 0x1F) }
        var encryptedBlocks: Int { Int((config >> 4) & 0x0F) }
    }

    static func tplHeader(_ frame: [UInt8], at pos: Int, long: Bool, link: WMBusLinkHeader) throws(DecodeError) -> TPLHeader {
        let h = pos + 1
        let length = long ? 12 : 4
        guard frame.count >= h + length else { throw short(.wmbusTransport, "transport header", pos, frame) }
        let meter = long ? link.reorderedLong(frame, at: h) : link
        let a = h + length - 4
        return TPLHeader(meter: meter, access: frame[a], status: frame[a + 1],
                         config: UInt16(frame[a + 2]) | UInt16(frame[a + 3]) << 8, end: h + length, long: long)
    }

    static func transport<E: RecordEmitter>(_ frame: inout [UInt8], at pos: Int, link: WMBusLinkHeader, afl: AFL?,
                                            context: FrameContext, state: inout WMBusStreamState,
                                            into out: inout E) throws(DecodeError) {
        let ci = frame[pos]
        let provenance = context.provenance(.wmbus)
        switch ci {
        case 0x7A, 0x72, 0x8A, 0x8B:
            let header = try tplHeader(frame, at: pos, long: ci == 0x72 || ci == 0x8B, link: link)
            var start = header.end
            let checked = try decipher(&frame, header: header, link: link, afl: afl, start: &start, context: context,
                                       into: &out)
            let meter = header.meter.meter
            out.setMeter(meter, medium: MBusHeader.mediumNames[Int(header.meter.deviceType)], provenance: provenance)
            let now: UTCTime?
            if ci == 0x7A || ci == 0x72 {
                now = try records(frame, start..<frame.count, context: context, state: &state,
                                  cutShortAllowed: checked, into: &out)
            } else {
                now = context.receiveTime
            }
            MBusHeader.statusEvents(header.status, manufacturerMask: 0xE0, meter: meter, time: now,
                                    provenance: provenance, into: &out)
        case 0x78:
            out.setMeter(link.meter, medium: MBusHeader.mediumNames[Int(link.deviceType)], provenance: provenance)
            _ = try records(frame, (pos + 1)..<frame.count, context: context, state: &state, into: &out)
        case 0x79:
            out.setMeter(link.meter, medium: MBusHeader.mediumNames[Int(link.deviceType)], provenance: provenance)
            let full = try expandCompact(frame, at: pos, state: state)
            _ = try records(full, 0..<full.count, context: context, state: &state, into: &out)
        case 0x70, 0x6E, 0x6F, 0x71, 0x74, 0x75:
            // Application error and alarm, without, with a short or with a long transport header
            // (EN 13757-7 Table 2): one state byte (EN 13757-3 general application errors; the
            // alarm state is the meter's own).
            var meter = link
            var start = pos + 1
            var status: UInt8? = nil
            if ci != 0x70 && ci != 0x71 {
                let header = try tplHeader(frame, at: pos, long: ci == 0x6F || ci == 0x75, link: link)
                start = header.end
                _ = try decipher(&frame, header: header, link: link, afl: afl, start: &start, context: context,
                                 into: &out)
                meter = header.meter
                status = header.status
            }
            let code: UInt8 = start < frame.count ? frame[start] : 0
            let isError = ci <= 0x70
            out.record(.event(Event(
                meter: meter.meter, event: isError ? "application_error" : "alarm", code: Hex.byte(code),
                text: isError ? MBusHeader.applicationErrorText(code) : "alarm state",
                time: context.receiveTime, provenance: provenance)))
            if let st = status {
                MBusHeader.statusEvents(st, manufacturerMask: 0xE0, meter: meter.meter, time: context.receiveTime,
                                        provenance: provenance, into: &out)
            }
        case 0xA0...0xB7:
            // Manufacturer-specific application layer (EN 13757-7 Table 2): kept as it is, but for
            // the Apator NA-1's, whose layout is known.
            out.setMeter(link.meter, medium: MBusHeader.mediumNames[Int(link.deviceType)], provenance: provenance)
            if WMBusApatorNA1.matches(link, ci: ci) {
                try WMBusApatorNA1.decode(frame, at: pos, link: link, context: context, into: &out)
                return
            }
            var hex: [UInt8] = []
            Hex.append(frame[(pos + 1)...], to: &hex)
            out.reading(quantity: .manufacturerSpecific, obis: nil, value: .text(String(decoding: hex, as: UTF8.self)),
                        unit: nil, time: context.receiveTime, storage: 0, tariff: 0, subunit: 0,
                        function: .instantaneous, record: 0, note: "ci \(Hex.byte(ci)) at byte \(pos + 1)")
        default:
            throw DecodeError(.wmbusTransport, at: pos, .unsupported, "CI \(Hex.byte(ci)) is not decoded")
        }
    }

    /// Deciphers the application data after a transport header in place, as its configuration field
    /// says: security mode 0 (none), 2 (DES-CBC with IV 0, EN 13757-3:2004 Annex H, withdrawn), 5
    /// (AES-128-CBC, IV from the address and access number) or 7 (AES-128-CBC with IV 0 and a key
    /// derived from the AFL message counter; a configuration field extension byte follows the header).
    /// Blocks that already start with the check bytes 2F2F were deciphered by the receiver and are left
    /// as they are when the key does not decipher them. A frame that ends inside the announced
    /// blocks is deciphered up to its last whole block, the bytes after it dropped with a warning
    /// (`partSkipped`).
    /// Moves `start` past the header extension; returns whether the check bytes 2F2F begin the data.
    static func decipher<E: RecordEmitter>(_ frame: inout [UInt8], header: TPLHeader, link: WMBusLinkHeader, afl: AFL?,
                                           start: inout Int, context: FrameContext,
                                           into out: inout E) throws(DecodeError) -> Bool {
        let mode = header.securityMode
        if mode == 0 { return false }
        guard mode == 2 || mode == 5 || mode == 7 else {
            let what = mode == 3 ? " (DES-CBC with an IV, withdrawn with EN 13757-3:2004)" : ""
            throw DecodeError(.wmbusSecurity, at: header.end - 2, .unsupported, "security mode \(mode)\(what) is not supported")
        }
        if mode == 7 {
            guard start < frame.count else { throw short(.wmbusTransport, "configuration field extension", start, frame) }
            start += 1
        }
        var count = header.encryptedBlocks * 16
        if count == 0 { count = (frame.count - start) / 16 * 16 }
        if start + count > frame.count {
            let whole = (frame.count - start) / 16 * 16
            var cut = DecodeError(.wmbusSecurity, at: start + whole, .malformed,
                                  "\(count / 16) encrypted blocks announced, \(frame.count - start) bytes left: the "
                                  + "frame is cut short; \(whole / 16) whole blocks deciphered, the \(frame.count - start - whole) "
                                  + "bytes after them dropped")
            cut.partSkipped = true
            out.warning(cut)
            frame.removeSubrange((start + whole)...)
            count = whole
        }
        let range = start..<(start + count)
        guard !range.isEmpty else { return false }        // no whole block: nothing enciphered
        // A receiver that knew the key may have deciphered the blocks already.
        let alreadyPlain = frame[start] == 0x2F && frame[start + 1] == 0x2F
        let meter = header.meter.meter
        guard let key = context.options.wmbusKeys.key(for: meter) ?? context.options.wmbusKeys.key(for: link.meter) else {
            if alreadyPlain { return true }
            throw noKey(meter, at: start)
        }
        guard key.bytes.count == (mode == 2 ? 8 : 16) else {
            if alreadyPlain { return true }
            throw wrongKey(meter, at: start, mode == 2 ? "security mode 2 is DES, the key file has an AES-128 key"
                                                      : "security mode \(mode) is AES-128, the key file has a DES key")
        }
        let cipher = Array(frame[range])
        let deciphered: [UInt8]?
        var macOK: Bool? = nil
        switch mode {
        case 2:
            guard WMBusDES.isAvailable else {
                throw DecodeError(.wmbusSecurity, at: start, .unsupported,
                                  "security mode 2 needs DES-CBC, and libcrypto's legacy provider, which has it, "
                                  + "could not be loaded (install it, or point OPENSSL_MODULES at its directory)")
            }
            deciphered = WMBusDES.cbcDecrypt(key: key.bytes, cipher)
        case 5:
            deciphered = WMBusAES.cbcDecrypt(key: key.bytes,
                                             iv: header.meter.addressBytes + [UInt8](repeating: header.access, count: 8), cipher)
        default:
            guard let a = afl, let counter = a.counter else {
                throw DecodeError(.wmbusSecurity, at: start, .malformed, "security mode 7 without an AFL message counter")
            }
            let id = Array(link.addressBytes[2..<6])
            guard let kEnc = WMBusAES.cmac(key: key.bytes, [0x00] + counter + id + [UInt8](repeating: 0x07, count: 7)),
                  let kMac = WMBusAES.cmac(key: key.bytes, [0x01] + counter + id + [UInt8](repeating: 0x07, count: 7))
            else { throw DecodeError(.wmbusSecurity, at: start, .malformed, "AES-CMAC failed") }
            if let mac = a.mac, let mcl = a.mcl {
                let tplStart = header.end - (header.long ? 13 : 5)
                let input = [mcl] + counter + (a.messageLength ?? []) + Array(frame[tplStart...])
                macOK = WMBusAES.cmac(key: kMac, input).map { Array($0[0..<mac.count]) == mac }
            }
            deciphered = WMBusAES.cbcDecrypt(key: kEnc, iv: [UInt8](repeating: 0, count: 16), cipher)
        }
        guard let plain = deciphered else {
            throw DecodeError(.wmbusSecurity, at: start, .malformed, mode == 2 ? "DES-CBC failed" : "AES-CBC failed")
        }
        if plain.count >= 2, plain[0] == 0x2F, plain[1] == 0x2F {
            frame.replaceSubrange(range, with: plain)
            return true
        }
        if macOK != true, alreadyPlain { return true }
        if macOK == false {
            throw wrongKey(meter, at: start, "the AFL MAC does not match")
        }
        // Without a MAC: deciphered data that still reads as data records is the right key with
        // bad check bytes; anything else is a wrong key.
        var scratch = DecodeOutput()
        var c = ByteCursor(plain, layer: .mbusApplication)
        let info = MBusDataRecord.FrameInfo(bigEndian: false, zone: context.options.meterTimeZone)
        let readsAsRecords = macOK == true || (try? MBusDataRecord.decodeAll(
            &c, frame: info, times: MBusDataRecord.FrameTimes(points: .init(), receiveTime: nil),
            layouts: MBusLayoutCache(), into: &scratch)) != nil
        guard readsAsRecords else {
            throw wrongKey(meter, at: start, "the deciphered data is neither 2F2F nor data records")
        }
        throw DecodeError(.wmbusSecurity, at: start, .checksum,
                          "decrypted but check bytes failed: meter \(meter): deciphered data does not start with 2F2F")
    }

    // MARK: - data records

    /// Decodes the data records of `frame[range]` and remembers their format for compact frames;
    /// returns the frame's own time (storage 0). With `cutShortAllowed` (deciphered data whose check
    /// bytes matched), a last record cut short by the end of the frame is skipped with a warning
    /// (`partSkipped`), and the records before it stand.
    static func records<E: RecordEmitter>(_ frame: [UInt8], _ range: Range<Int>, context: FrameContext,
                                          state: inout WMBusStreamState, cutShortAllowed: Bool = false,
                                          into out: inout E) throws(DecodeError) -> UTCTime? {
        let info = MBusDataRecord.FrameInfo(bigEndian: false, zone: context.options.meterTimeZone)
        let times = MBusDataRecord.FrameTimes(
            points: MBusDataRecord.scanTimePoints(frame, range, bigEndian: false, zone: info.zone),
            receiveTime: context.receiveTime)
        var cursor = ByteCursor(frame, start: range.lowerBound, end: range.upperBound, layer: .mbusApplication)
        do {
            try MBusDataRecord.decodeAll(&cursor, frame: info, times: times, layouts: state.layouts, into: &out)
        } catch {
            guard cutShortAllowed, error.layer == .mbusApplication,
                  MBusDataRecord.runsPastEnd(frame, at: error.offset, end: range.upperBound) else { throw error }
            var cut = DecodeError(.mbusApplication, at: error.offset, .malformed,
                                  "the record at byte \(error.offset) is cut short by the end of the frame "
                                  + "(\(range.upperBound - error.offset) bytes); the records before it are kept")
            cut.partSkipped = true
            out.warning(cut)
            return times.now
        }
        if let f = format(frame, range) {
            state.formats[WMBusCRC.checksum(f, 0..<f.count)] = f
        }
        return times.now
    }

    /// The DIF/VIF bytes of the records in `range` (fillers left out), the format a compact frame
    /// refers to; nil when there are none or manufacturer-specific data ends the records.
    static func format(_ frame: [UInt8], _ range: Range<Int>) -> [UInt8]? {
        var out: [UInt8] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let dif = frame[i]
            if dif == 0x2F { i += 1; continue }
            guard dif & 0x0F != 0x0F, let h = MBusDataRecord.header(frame, at: i, end: range.upperBound),
                  let d = MBusDataRecord.dataSize(dif, frame, at: h.end, end: range.upperBound) else { return nil }
            out.append(contentsOf: frame[i..<h.end])
            i = h.end + d.lengthBytes + d.size
        }
        return out.isEmpty ? nil : out
    }

    /// The records of a compact frame (CI 0x79: format signature, CRC of the full records, data)
    /// rebuilt from the format of a full frame seen before, checked by the full records' CRC.
    static func expandCompact(_ frame: [UInt8], at pos: Int, state: WMBusStreamState) throws(DecodeError) -> [UInt8] {
        guard frame.count >= pos + 5 else { throw short(.wmbusTransport, "compact frame header", pos, frame) }
        let signature = UInt16(frame[pos + 1]) | UInt16(frame[pos + 2]) << 8
        let crc = UInt16(frame[pos + 3]) | UInt16(frame[pos + 4]) << 8
        guard let format = state.formats[signature] else {
            throw DecodeError(.wmbusTransport, at: pos + 1, .unsupported,
                              "compact frame of format \(WMBusFraming.hex16(signature)): no full frame of that format came before")
        }
        var full: [UInt8] = []
        var f = 0, d = pos + 5
        while f < format.count {
            guard let h = MBusDataRecord.header(format, at: f, end: format.count),
                  let size = MBusDataRecord.dataSize(format[f], frame, at: d, end: frame.count),
                  d + size.lengthBytes + size.size <= frame.count else {
                throw DecodeError(.wmbusTransport, at: d, .malformed, "compact frame data shorter than its format")
            }
            full.append(contentsOf: format[f..<h.end])
            full.append(contentsOf: frame[d..<(d + size.lengthBytes + size.size)])
            f = h.end
            d += size.lengthBytes + size.size
        }
        guard WMBusCRC.checksum(full, 0..<full.count) == crc else {
            throw DecodeError(.wmbusTransport, at: pos + 3, .checksum, "compact frame's full-frame CRC does not match")
        }
        return full
    }

    // MARK: - errors

    static func short(_ layer: DecodeLayer, _ what: String, _ at: Int, _ frame: [UInt8]) -> DecodeError {
        DecodeError(layer, at: frame.count, .malformed, "\(what) at byte \(at) cut short by the end of the frame")
    }

    /// The application data is enciphered and the key file has no key for the meter.
    static func noKey(_ meter: String, at: Int) -> DecodeError {
        DecodeError(.wmbusSecurity, at: at, .unsupported, "no key for meter \(meter)")
    }

    /// The key deciphers into something no right key gives.
    static func wrongKey(_ meter: String, at: Int, _ why: String) -> DecodeError {
        DecodeError(.wmbusSecurity, at: at, .checksum, "wrong key for meter \(meter): \(why)")
    }
}

extension WMBusLinkHeader {
    /// The address of a long transport header (EN 13757-7 §7.6: identification number, manufacturer,
    /// version, device type, in that order, unlike the link layer's M then A) at `bytes[at]`.
    func reorderedLong(_ bytes: [UInt8], at h: Int) -> WMBusLinkHeader {
        var m = self
        m.id = (bytes[h + 3], bytes[h + 2], bytes[h + 1], bytes[h])
        m.manufacturer = UInt16(bytes[h + 5]) << 8 | UInt16(bytes[h + 4])
        m.version = bytes[h + 6]
        m.deviceType = bytes[h + 7]
        return m
    }
}
