/// The Modbus function codes ami uses (Modbus Application Protocol Specification V1.1b3 §6.3,
/// §6.4, §6.12).
public enum ModbusFunction: UInt8, Sendable, Equatable, CaseIterable {
    /// Read Holding Registers (§6.3).
    case readHoldingRegisters = 0x03
    /// Read Input Registers (§6.4).
    case readInputRegisters = 0x04
    /// Write Multiple Registers (§6.12).
    case writeMultipleRegisters = 0x10
}

/// A request PDU (function code and data, without the ADU's address or checksum).
public enum ModbusRequest: Sendable, Equatable, CustomStringConvertible {
    /// Function 3 or 4: `count` registers (1 to 125) from `address`.
    case read(ModbusFunction, address: UInt16, count: UInt16)
    /// Function 16: `values` (1 to 123 registers) written from `address`.
    case write(address: UInt16, values: [UInt16])

    /// Most registers one read may ask for (§6.3, §6.4: 1 to 125).
    public static let maxReadCount = 125
    /// Most registers one write may carry (§6.12: 1 to 123).
    public static let maxWriteCount = 123

    public var function: ModbusFunction {
        switch self {
        case .read(let f, _, _): f
        case .write: .writeMultipleRegisters
        }
    }

    /// The PDU bytes: function code, then big-endian fields (§4.2, §6.3, §6.4, §6.12).
    public var pdu: [UInt8] {
        switch self {
        case .read(let f, let address, let count):
            return [f.rawValue, UInt8(address >> 8), UInt8(address & 0xFF), UInt8(count >> 8), UInt8(count & 0xFF)]
        case .write(let address, let values):
            var b: [UInt8] = [0x10, UInt8(address >> 8), UInt8(address & 0xFF),
                              UInt8(values.count >> 8), UInt8(values.count & 0xFF), UInt8(truncatingIfNeeded: values.count * 2)]
            for v in values { b += [UInt8(v >> 8), UInt8(v & 0xFF)] }
            return b
        }
    }

    /// `read of 2 input registers at 0x0200`, for messages.
    public var description: String {
        func hex(_ v: UInt16) -> String { Hex.byte(UInt8(v >> 8)) + Hex.string([UInt8(v & 0xFF)]).uppercased() }
        switch self {
        case .read(let f, let address, let count):
            let kind = f == .readInputRegisters ? "input" : "holding"
            return "read of \(count) \(kind) register\(count == 1 ? "" : "s") at \(hex(address))"
        case .write(let address, let values):
            return "write of \(values.count) registers at \(hex(address))"
        }
    }

    /// Parses a request PDU; errors carry offsets within it.
    public static func parse(_ pdu: [UInt8]) throws(DecodeError) -> ModbusRequest {
        var c = ByteCursor(pdu, layer: .modbus)
        let code = try c.u8()
        guard let f = ModbusFunction(rawValue: code) else {
            throw c.error(.unsupported, "function code \(code) is not read here (3, 4 and 16 are)", at: 0)
        }
        let address = UInt16(try c.uintBE(2))
        let count = UInt16(try c.uintBE(2))
        switch f {
        case .readHoldingRegisters, .readInputRegisters:
            guard c.isAtEnd else { throw c.error(.malformed, "\(c.remaining) bytes after a read request") }
            guard (1...UInt16(maxReadCount)).contains(count) else {
                throw c.error(.malformed, "a read of \(count) registers (1 to 125 may be asked for)", at: 3)
            }
            return .read(f, address: address, count: count)
        case .writeMultipleRegisters:
            let byteCount = Int(try c.u8())
            guard (1...UInt16(maxWriteCount)).contains(count), byteCount == Int(count) * 2 else {
                throw c.error(.malformed, "a write of \(count) registers in \(byteCount) bytes", at: 3)
            }
            var values: [UInt16] = []
            for _ in 0..<count { values.append(UInt16(try c.uintBE(2))) }
            guard c.isAtEnd else { throw c.error(.malformed, "\(c.remaining) bytes after a write request") }
            return .write(address: address, values: values)
        }
    }
}

/// A Modbus exception code (§7).
public struct ModbusException: Sendable, Equatable, CustomStringConvertible {
    public var code: UInt8

    public init(_ code: UInt8) { self.code = code }

    /// The name §7 gives the code.
    public var name: String {
        switch code {
        case 0x01: "illegal function"
        case 0x02: "illegal data address"
        case 0x03: "illegal data value"
        case 0x04: "server device failure"
        case 0x05: "acknowledge"
        case 0x06: "server device busy"
        case 0x08: "memory parity error"
        case 0x0A: "gateway path unavailable"
        case 0x0B: "gateway target device failed to respond"
        default: "unknown exception"
        }
    }

    /// `exception 0x02 (illegal data address)`.
    public var description: String {
        "exception \(Hex.byte(code)) (\(name))"
    }
}

/// A response PDU.
public enum ModbusResponse: Sendable, Equatable {
    /// The registers a function 3 or 4 request read.
    case registers(ModbusFunction, [UInt16])
    /// A function 16 write's echo of address and count.
    case written(address: UInt16, count: UInt16)
    /// An exception response (function code + 0x80, exception code; §7).
    case exception(function: UInt8, ModbusException)

    /// Parses a response PDU; errors carry offsets within it. Without the request, a function 3/4
    /// response is read by its byte count alone.
    public static func parse(_ pdu: [UInt8]) throws(DecodeError) -> ModbusResponse {
        var c = ByteCursor(pdu, layer: .modbus)
        let code = try c.u8()
        if code & 0x80 != 0 {
            let e = ModbusException(try c.u8())
            guard c.isAtEnd else { throw c.error(.malformed, "\(c.remaining) bytes after an exception response") }
            return .exception(function: code & 0x7F, e)
        }
        guard let f = ModbusFunction(rawValue: code) else {
            throw c.error(.unsupported, "function code \(code) is not read here (3, 4 and 16 are)", at: 0)
        }
        switch f {
        case .readHoldingRegisters, .readInputRegisters:
            let n = Int(try c.u8())
            guard n % 2 == 0, n > 0 else { throw c.error(.malformed, "odd or zero byte count \(n)", at: 1) }
            guard c.remaining == n else {
                throw c.error(.malformed, "byte count \(n), but \(c.remaining) bytes follow", at: 1)
            }
            var values: [UInt16] = []
            values.reserveCapacity(n / 2)
            for _ in 0..<(n / 2) { values.append(UInt16(try c.uintBE(2))) }
            return .registers(f, values)
        case .writeMultipleRegisters:
            let address = UInt16(try c.uintBE(2))
            let count = UInt16(try c.uintBE(2))
            guard c.isAtEnd else { throw c.error(.malformed, "\(c.remaining) bytes after a write response") }
            return .written(address: address, count: count)
        }
    }

    /// Checks that this response answers `request`: same function, as many registers as asked
    /// for, the write's address and count echoed. Exceptions answer any request of their function.
    public func check(answers request: ModbusRequest) throws(DecodeError) {
        switch (self, request) {
        case (.exception(let f, _), _) where f == request.function.rawValue:
            return
        case (.registers(let f, let values), .read(let rf, _, let count)) where f == rf:
            guard values.count == Int(count) else {
                throw DecodeError(.modbus, at: 1, .malformed, "\(values.count) registers for a request of \(count)")
            }
        case (.written(let a, let n), .write(let address, let values)):
            guard a == address, Int(n) == values.count else {
                throw DecodeError(.modbus, at: 1, .malformed,
                                  "write of \(values.count) at \(address) answered with \(n) at \(a)")
            }
        default:
            throw DecodeError(.modbus, at: 0, .malformed, "the response's function does not answer the request's \(request.function.rawValue)")
        }
    }
}
