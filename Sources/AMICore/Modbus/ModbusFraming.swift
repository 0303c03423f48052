/// How Modbus PDUs travel: in an MBAP header over TCP, or with an address and CRC on a serial line.
public enum ModbusFraming: String, Sendable, Equatable {
    /// Modbus TCP: the 7-byte MBAP header (transaction id, protocol id 0, length, unit id), then
    /// the PDU (Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3).
    case tcp
    /// Modbus RTU: unit address, PDU, CRC-16/MODBUS low byte first (Modbus over Serial Line
    /// V1.02 §2.5.1, §6.2.2).
    case rtu
}

/// One Modbus ADU: the unit (slave) id, the TCP transaction id, and the PDU.
public struct ModbusADU: Sendable, Equatable {
    public var framing: ModbusFraming
    public var unit: UInt8
    /// The MBAP transaction identifier (TCP only).
    public var transaction: UInt16?
    public var pdu: [UInt8]

    public init(framing: ModbusFraming, unit: UInt8, transaction: UInt16? = nil, pdu: [UInt8]) {
        self.framing = framing
        self.unit = unit
        self.transaction = transaction
        self.pdu = pdu
    }

    /// The most bytes a PDU may have (Modbus Application Protocol V1.1b3 §4.1).
    public static let maxPDU = 253

    /// CRC-16/MODBUS: polynomial 0x8005 reflected, initial 0xFFFF (Modbus over Serial Line V1.02
    /// §6.2.2).
    static let crc = ReflectedCRC16(reflectedPolynomial: 0xA001, initial: 0xFFFF, finalXOR: 0)

    /// The CRC of `bytes`, as sent: low byte first.
    public static func crcBytes(_ bytes: [UInt8]) -> [UInt8] {
        let c = crc.checksum(bytes, 0..<bytes.count)
        return [UInt8(c & 0xFF), UInt8(c >> 8)]
    }

    /// The bytes on the wire.
    public var bytes: [UInt8] {
        switch framing {
        case .tcp:
            let t = transaction ?? 0
            let length = pdu.count + 1
            return [UInt8(t >> 8), UInt8(t & 0xFF), 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), unit] + pdu
        case .rtu:
            let body = [unit] + pdu
            return body + ModbusADU.crcBytes(body)
        }
    }

    /// Parses a whole ADU. Under `ignoreChecksum` a wrong RTU CRC does not throw (the caller
    /// warns instead; `crcMatches` tells).
    public static func parse(_ bytes: [UInt8], framing: ModbusFraming, ignoreChecksum: Bool = false) throws(DecodeError) -> ModbusADU {
        switch framing {
        case .tcp:
            var c = ByteCursor(bytes, layer: .modbus)
            let transaction = UInt16(try c.uintBE(2))
            let protocolID = try c.uintBE(2)
            guard protocolID == 0 else { throw c.error(.malformed, "MBAP protocol identifier \(protocolID), not 0", at: 2) }
            let length = Int(try c.uintBE(2))
            guard length >= 2, length - 1 <= maxPDU else { throw c.error(.malformed, "MBAP length \(length)", at: 4) }
            let unit = try c.u8()
            guard c.remaining == length - 1 else {
                throw c.error(.malformed, "MBAP length \(length), but \(c.remaining + 1) bytes follow it", at: 4)
            }
            return ModbusADU(framing: .tcp, unit: unit, transaction: transaction, pdu: try c.take(length - 1))
        case .rtu:
            guard bytes.count >= 4 else {
                throw DecodeError(.modbus, at: 0, .malformed, "an RTU frame of \(bytes.count) bytes (4 at least)")
            }
            guard bytes.count <= maxPDU + 3 else {
                throw DecodeError(.modbus, at: 0, .malformed, "an RTU frame of \(bytes.count) bytes (256 at most)")
            }
            if !ignoreChecksum && !crcMatches(bytes) {
                throw DecodeError(.modbus, at: bytes.count - 2, .checksum, "CRC mismatch")
            }
            return ModbusADU(framing: .rtu, unit: bytes[0], pdu: Array(bytes[1..<(bytes.count - 2)]))
        }
    }

    /// True when an RTU frame's last two bytes are the CRC of the rest.
    public static func crcMatches(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 3 && crcBytes(Array(bytes[0..<(bytes.count - 2)])) == Array(bytes[(bytes.count - 2)...])
    }

    /// The framing of a captured ADU from `source` (a `frame` record's): TCP from a `tcp://`
    /// source, RTU from a `serial:` one; otherwise RTU when its CRC matches (an MBAP header can look
    /// like the start of an RTU frame, a CRC matching by chance is 1 in 65536), else TCP when its
    /// MBAP header's protocol id is 0 and its length covers exactly the rest; nil when neither.
    public static func framing(of bytes: [UInt8], source: String = "") -> ModbusFraming? {
        if source.hasPrefix("tcp://") { return .tcp }
        if source.hasPrefix("serial:") { return .rtu }
        if bytes.count >= 4, crcMatches(bytes) { return .rtu }
        if bytes.count >= 8, bytes[2] == 0, bytes[3] == 0, Int(bytes[4]) << 8 | Int(bytes[5]) == bytes.count - 6 {
            return .tcp
        }
        return nil
    }

    /// How many bytes the RTU response that starts with `head` (unit id and function code, and
    /// the byte count of a read) has in all, by its function (Modbus over Serial Line V1.02
    /// §2.5.1.1: frames end by silence, which a length known in advance makes unnecessary to wait
    /// for); nil when `head` is too short to tell, or the function is not one read here.
    public static func rtuResponseLength(_ head: ArraySlice<UInt8>) -> Int? {
        guard head.count >= 2 else { return nil }
        let f = head[head.startIndex + 1]
        if f & 0x80 != 0 { return 5 }
        switch ModbusFunction(rawValue: f) {
        case .readHoldingRegisters?, .readInputRegisters?:
            guard head.count >= 3 else { return nil }
            return 5 + Int(head[head.startIndex + 2])
        case .writeMultipleRegisters?:
            return 8
        case nil:
            return nil
        }
    }
}
