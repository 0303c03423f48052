import Foundation
import Testing
@testable import AMICore

/// A transport that answers each write from a script, in the pieces given; with nothing queued, a
/// read times out at once.
final class ScriptedModbusTransport: Transport {
    let endpoint = "test"
    var written: [[UInt8]] = []
    private var queue: [[UInt8]] = []
    private let answer: ([UInt8]) -> [[UInt8]]

    init(answer: @escaping ([UInt8]) -> [[UInt8]]) { self.answer = answer }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
        written.append(bytes)
        queue += answer(bytes)
    }

    func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
        guard !queue.isEmpty else { throw .timedOut(.read, after: deadline.budget) }
        return queue.removeFirst()
    }

    func close() {}
}

private func hex(_ s: String) -> [UInt8] { try! Hex.decode(Array(s.utf8)) }

struct ModbusPDUTests {
    /// Requests and their PDUs (Modbus Application Protocol V1.1b3 §6.3, §6.4, §6.12 examples).
    @Test(arguments: [
        (ModbusRequest.read(.readHoldingRegisters, address: 0x006B, count: 3), "03006b0003"),
        (.read(.readInputRegisters, address: 0x0008, count: 1), "0400080001"),
        (.read(.readInputRegisters, address: 0, count: 80), "0400000050"),
        (.write(address: 0x0001, values: [0x000A, 0x0102]), "100001000204000a0102"),
    ])
    func requests(_ request: ModbusRequest, _ pdu: String) throws {
        #expect(Hex.string(request.pdu) == pdu)
        #expect(try ModbusRequest.parse(hex(pdu)) == request)
    }

    @Test(arguments: [
        ("0306022b00000064", ModbusResponse.registers(.readHoldingRegisters, [0x022B, 0, 0x64])),
        ("04020000a", nil),
        ("0402000a", .registers(.readInputRegisters, [0x000A])),
        ("1000010002", .written(address: 1, count: 2)),
        ("8402", .exception(function: 4, ModbusException(2))),
        ("8301", .exception(function: 3, ModbusException(1))),
        ("0403000000", nil),     // odd byte count
        ("04040000", nil),       // byte count says 4, 2 follow
        ("05", nil),             // function not read here
        ("840201", nil),         // bytes after an exception
    ] as [(String, ModbusResponse?)])
    func responses(_ pdu: String, _ expected: ModbusResponse?) {
        let bytes = (try? Hex.decode(Array(pdu.utf8))) ?? []
        #expect((try? ModbusResponse.parse(bytes)) == expected)
    }

    @Test func exceptionNames() {
        #expect(ModbusException(2).description == "exception 0x02 (illegal data address)")
        #expect(ModbusException(0x0B).name == "gateway target device failed to respond")
        #expect(ModbusException(0x42).name == "unknown exception")
    }

    @Test func responseMustAnswerItsRequest() throws {
        let read = ModbusRequest.read(.readInputRegisters, address: 0, count: 2)
        try ModbusResponse.registers(.readInputRegisters, [1, 2]).check(answers: read)
        try ModbusResponse.exception(function: 4, ModbusException(2)).check(answers: read)
        #expect(throws: DecodeError.self) { try ModbusResponse.registers(.readInputRegisters, [1]).check(answers: read) }
        #expect(throws: DecodeError.self) { try ModbusResponse.registers(.readHoldingRegisters, [1, 2]).check(answers: read) }
        #expect(throws: DecodeError.self) {
            try ModbusResponse.written(address: 2, count: 1).check(answers: .write(address: 1, values: [5]))
        }
    }
}

struct ModbusFramingTests {
    /// CRC-16/MODBUS (Modbus over Serial Line V1.02 §6.2.2 and Application Protocol examples).
    @Test(arguments: [("01030000000a", "c5cd"), ("1103006b0003", "7687"), ("018402", "c2c1")])
    func crc(_ body: String, _ crc: String) {
        #expect(Hex.string(ModbusADU.crcBytes(hex(body))) == crc)
    }

    @Test func rtuRoundTrip() throws {
        let adu = ModbusADU(framing: .rtu, unit: 0x11, pdu: hex("03006b0003"))
        #expect(Hex.string(adu.bytes) == "1103006b00037687")
        #expect(try ModbusADU.parse(adu.bytes, framing: .rtu) == adu)
        #expect(ModbusADU.framing(of: adu.bytes) == .rtu)
        var bad = adu.bytes
        bad[2] ^= 1
        #expect(throws: DecodeError.self) { try ModbusADU.parse(bad, framing: .rtu) }
        #expect(ModbusADU.framing(of: bad) == nil)
        #expect((try? ModbusADU.parse(bad, framing: .rtu, ignoreChecksum: true))?.unit == 0x11)
    }

    @Test func tcpRoundTrip() throws {
        let adu = ModbusADU(framing: .tcp, unit: 1, transaction: 0x1234, pdu: hex("0400000050"))
        #expect(Hex.string(adu.bytes) == "1234000000060104" + "00000050")
        #expect(try ModbusADU.parse(adu.bytes, framing: .tcp) == adu)
        #expect(ModbusADU.framing(of: adu.bytes) == .tcp)
        #expect(throws: DecodeError.self) { try ModbusADU.parse(hex("123400010006010400000050"), framing: .tcp) }
        #expect(throws: DecodeError.self) { try ModbusADU.parse(hex("1234000000070104000000"), framing: .tcp) }
    }

    /// RTU answers are read by the length their function implies.
    @Test(arguments: [("0103", nil), ("010304", 9), ("0104a0", 165), ("011000", 8), ("018402", 5), ("0105", nil), ("01", nil)] as [(String, Int?)])
    func rtuLengths(_ head: String, _ length: Int?) {
        #expect(ModbusADU.rtuResponseLength(hex(head)[...]) == length)
    }
}

struct ModbusValueTests {
    /// One value in every type and word order: registers as sent, and the decimal written.
    @Test(arguments: [
        ("float32", "abcd", [0x4640, 0xE6B6], "12345.678"),
        ("float32", "cdab", [0xE6B6, 0x4640], "12345.678"),
        ("float32", "badc", [0x4046, 0xB6E6], "12345.678"),
        ("float32", "dcba", [0xB6E6, 0x4046], "12345.678"),
        ("float32", "abcd", [0x0000, 0x0001], "0.000000000000000000000000000000000000000000001"),
        ("float32", "abcd", [0x7F7F, 0xFFFF], "340282350000000000000000000000000000000"),
        ("float32", "abcd", [0x4366, 0x199A], "230.1"),
        ("float64", "abcd", [0x3FB9, 0x9999, 0x9999, 0x999A], "0.1"),
        ("float64", "cdab", [0x999A, 0x9999, 0x9999, 0x3FB9], "0.1"),
        ("float64", "dcba", [0x9A99, 0x9999, 0x9999, 0xB93F], "0.1"),
        ("float64", "badc", [0xB93F, 0x9999, 0x9999, 0x9A99], "0.1"),
        ("int16", "abcd", [0xFFFF], "-1"),
        ("int16", "badc", [0xFEFF], "-2"),
        ("uint16", "abcd", [0xFFFF], "65535"),
        ("int32", "abcd", [0xFFFF, 0xFFFE], "-2"),
        ("int32", "cdab", [0xFFFE, 0xFFFF], "-2"),
        ("uint32", "abcd", [0x0141, 0x80F1], "21070065"),
        ("uint32", "cdab", [0x80F1, 0x0141], "21070065"),
        ("uint32", "dcba", [0xF180, 0x4101], "21070065"),
        ("int64", "abcd", [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF], "-1"),
        ("uint64", "abcd", [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF], "9223372036854775807"),
        ("uint64", "cdab", [0x0001, 0x0000, 0x0000, 0x0000], "1"),
    ] as [(String, String, [UInt16], String)])
    func decode(_ type: String, _ order: String, _ registers: [UInt16], _ text: String) throws {
        let t = try #require(ModbusDataType(rawValue: type)), o = try #require(ModbusWordOrder(rawValue: order))
        #expect(try ModbusRawValue(registers[...], type: t, order: o).decimal().description == text)
        // The registers of the value's big-endian bytes are the ones read.
        #expect(o.registers(o.valueBytes(registers[...])) == registers)
    }

    @Test(arguments: [
        ("float32", [0x7FC0, 0x0000]), ("float32", [0x7F80, 0x0000]), ("float32", [0xFF80, 0x0000]),
        ("float64", [0x7FF8, 0, 0, 0]), ("uint64", [0x8000, 0, 0, 0]),
    ] as [(String, [UInt16])])
    func notReadings(_ type: String, _ registers: [UInt16]) throws {
        let t = try #require(ModbusDataType(rawValue: type))
        #expect(throws: ModbusValueError.self) { try ModbusRawValue(registers[...], type: t, order: .abcd).decimal() }
    }

    /// Scale factors are exact decimals; units move to the base units of ami-jsonl(5).
    @Test(arguments: [
        ("int16", [2301], "0.1", "V", "230.1", "V"),
        ("uint32", [0x0001, 0xE240], "0.01", "kWh", "1234560", "Wh"),
        ("int16", [0xFFF6], "0.5", nil, "-5.0", nil),
        ("uint16", [15], "1", "min", "900", "s"),
        ("uint16", [250], "1", "ms", "0.250", "s"),
        ("float32", [0x41C8, 0x0000], "1", "deg", "25", "deg"),
        ("float32", [0x4170, 0x0000], "1", "min", "900", "s"),
        ("float32", [0x4640, 0xE6B6], "1", "kWh", "12345678", "Wh"),
    ] as [(String, [UInt16], String, String?, String, String?)])
    func scaled(_ type: String, _ registers: [UInt16], _ scale: String, _ unit: String?, _ value: String, _ base: String?) throws {
        let r = ModbusProfile.Register(name: "x", function: .readInputRegisters, address: 0,
                                       type: try #require(ModbusDataType(rawValue: type)), order: .abcd,
                                       scale: try #require(ExactDecimal(scale)), unit: unit, quantity: "register")
        let (v, u) = try r.value(registers[...])
        #expect(v.description == value)
        #expect(u?.rawValue == base)
    }
}

struct ModbusProfileTests {
    @Test func builtInSDM630() throws {
        let p = try ModbusProfile.named("sdm630")
        #expect(p.registers.count == 101)
        #expect(p.identity?.address == 0xFC00)
        let reads = p.reads
        // The identity block first; every read within the SDM630's 80 registers; every register covered once.
        #expect(reads.first == .read(.readHoldingRegisters, address: 0xFC00, count: 2))
        for r in reads { if case .read(_, _, let n) = r { #expect(n <= 80) } }
        for reg in p.registers { #expect(reads.filter { $0.covers(reg) }.count == 1) }
        #expect(reads.count == 6)
        let kwh = try #require(p.registers.first { $0.address == 0x48 && $0.function == .readInputRegisters })
        #expect(kwh.quantity == .energy && kwh.unit == "kWh" && kwh.obis == "1-0:1.8.0")
    }

    @Test func builtInSDM120() throws {
        let p = try ModbusProfile.named("sdm120")
        #expect(p.registers.count == 23)
        #expect(ModbusProfile.builtInNames == ["sdm120", "sdm630"])
    }

    @Test func commandsAndOptions() throws {
        let text = """
        {"profile":"relay","word_order":"cdab","max_registers":10,
         "registers":[{"name":"e","address":"0x10","function":3,"type":"uint32","scale":"0.001","unit":"kWh","quantity":"energy"},
                      {"name":"v","address":0,"type":"int16","word_order":"badc","scale":0.1,"unit":"V","quantity":"voltage"}],
         "commands":{"disconnect":[{"address":100,"type":"uint16","value":0}],
                     "set_clock":[{"address":200,"type":"uint32"}]}}
        """
        let p = try ModbusProfile.parse(Array(text.utf8), origin: "t")
        #expect(p.registers[0].order == .cdab && p.registers[1].order == .badc && p.registers[0].function == .readHoldingRegisters)
        #expect(p.registers[1].function == .readInputRegisters)
        #expect(p.reads == [.read(.readInputRegisters, address: 0, count: 1), .read(.readHoldingRegisters, address: 0x10, count: 2)])
        #expect(p.commands[.disconnect]?.first?.registers(clock: 0) == [0])
        #expect(p.commands[.setClock]?.first?.registers(clock: 0x0001_0002) == [0x0002, 0x0001])
    }

    @Test(arguments: [
        #"[]"#,
        #"{"registers":[{"name":"a","address":0,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy","type":"float16"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":70000,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"function":5,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"Energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy","unit":"furlong"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy","word_order":"acbd"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy"},{"name":"a","address":2,"quantity":"energy"}]}"#,
        #"{"profile":"p","max_registers":200,"registers":[{"name":"a","address":0,"quantity":"energy"}]}"#,
        #"{"profile":"p","identity":"b","registers":[{"name":"a","address":0,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy"}],"commands":{"explode":[{"address":1,"type":"uint16","value":1}]}}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy"}],"commands":{"disconnect":[{"address":1,"type":"uint16","value":70000}]}}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy"}],"commands":{"disconnect":[{"address":1,"type":"uint16"}]}}"#,
        #"{"profile":"p","regsiters":[],"registers":[{"name":"a","address":0,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","adress":0,"address":0,"quantity":"energy"}]}"#,
        #"{"profile":"p","registers":[{"name":"a","address":0,"quantity":"energy"}],"commands":{"disconnect":[{"address":1,"type":"uint16","value":0,"when":1}]}}"#,
    ])
    func refused(_ text: String) {
        #expect(throws: ModbusProfileError.self) { try ModbusProfile.parse(Array(text.utf8), origin: "t") }
    }

    @Test func unknownNames() {
        #expect(throws: ModbusProfileError.self) { try ModbusProfile.named("sdm999") }
        #expect(throws: ModbusProfileError.self) { try ModbusProfile.named("/nonexistent/profile.json") }
    }
}

struct ModbusClientTests {
    /// A device that answers reads of input registers from `memory` and refuses others with exception 2.
    static func device(unit: UInt8 = 1, framing: ModbusFraming, memory: [UInt16], split: Bool = false) -> ([UInt8]) -> [[UInt8]] {
        { bytes in
            guard let adu = try? ModbusADU.parse(bytes, framing: framing), let req = try? ModbusRequest.parse(adu.pdu)
            else { return [] }
            var pdu: [UInt8]
            if case .read(.readInputRegisters, let a, let n) = req, Int(a) + Int(n) <= memory.count {
                pdu = [4, UInt8(n * 2)]
                for v in memory[Int(a)..<(Int(a) + Int(n))] { pdu += [UInt8(v >> 8), UInt8(v & 0xFF)] }
            } else {
                pdu = [req.function.rawValue | 0x80, 2]
            }
            let out = ModbusADU(framing: framing, unit: unit, transaction: adu.transaction, pdu: pdu).bytes
            return split ? out.map { [$0] } : [out]
        }
    }

    @Test(arguments: [ModbusFraming.tcp, .rtu])
    func readsAndExceptions(_ framing: ModbusFraming) throws {
        let t = ScriptedModbusTransport(answer: Self.device(framing: framing, memory: [1, 2, 3, 4], split: true))
        let c = ModbusClient(transport: t, framing: framing, unit: 1, timeout: .milliseconds(50), retries: 1, baudRate: 115_200)
        var seen: [FrameRecord.Direction] = []
        c.observer = { seen.append($0.direction) }
        #expect(try c.perform(.read(.readInputRegisters, address: 1, count: 2)) == .registers(.readInputRegisters, [2, 3]))
        #expect(seen == [.tx, .rx])
        #expect(throws: ModbusClientError.exception(ModbusException(2), .read(.readInputRegisters, address: 3, count: 2))) {
            try c.perform(.read(.readInputRegisters, address: 3, count: 2))
        }
        #expect(t.written.count == 2)
    }

    @Test(arguments: [ModbusFraming.tcp, .rtu])
    func silenceIsRetriedThenReported(_ framing: ModbusFraming) {
        let t = ScriptedModbusTransport { _ in [] }
        let c = ModbusClient(transport: t, framing: framing, unit: 1, timeout: .milliseconds(10), retries: 2, baudRate: 115_200)
        #expect(throws: ModbusClientError.noResponse(attempts: 3, timeout: .milliseconds(10))) {
            try c.perform(.read(.readInputRegisters, address: 0, count: 1))
        }
        #expect(t.written.count == 3)
    }

    /// A late answer to an earlier attempt (its transaction id) is set aside over TCP.
    @Test func lateAnswerIsSetAside() throws {
        var attempts = 0
        let t = ScriptedModbusTransport { bytes in
            attempts += 1
            guard attempts == 2 else { return [] }
            let stale = ModbusADU(framing: .tcp, unit: 1, transaction: 1, pdu: [4, 2, 0, 9]).bytes
            let fresh = ModbusADU(framing: .tcp, unit: 1, transaction: 2, pdu: [4, 2, 0, 7]).bytes
            return [stale + fresh]
        }
        let c = ModbusClient(transport: t, framing: .tcp, unit: 1, timeout: .milliseconds(10), retries: 1)
        #expect(try c.perform(.read(.readInputRegisters, address: 0, count: 1)) == .registers(.readInputRegisters, [7]))
    }

    @Test func garbageAndWrongUnitAreProtocolErrors() {
        let g = ScriptedModbusTransport { _ in [[0x01, 0x04, 0x02, 0x00, 0x01, 0xFF, 0xFF]] }
        let c = ModbusClient(transport: g, framing: .rtu, unit: 1, timeout: .milliseconds(10), retries: 1, baudRate: 115_200)
        #expect {
            try c.perform(.read(.readInputRegisters, address: 0, count: 1))
        } throws: { error in
            if case ModbusClientError.malformed(let e) = error { return e.kind == .checksum }
            return false
        }
        #expect(g.written.count == 2)
        let w = ScriptedModbusTransport(answer: Self.device(unit: 2, framing: .tcp, memory: [1]))
        let c2 = ModbusClient(transport: w, framing: .tcp, unit: 1, timeout: .milliseconds(10), retries: 0)
        #expect {
            try c2.perform(.read(.readInputRegisters, address: 0, count: 1))
        } throws: { error in
            if case ModbusClientError.malformed = error { return true }
            return false
        }
    }
}

struct ModbusDecodeTests {
    static func frameLine(_ bytes: [UInt8], _ dir: String, source: String = "serial:/dev/ttyUSB0",
                          profile: String? = "sdm630", meter: String? = nil) -> String {
        var s = #"{"type":"frame","v":1,"hex":"\#(Hex.string(bytes))","time":"2026-12-02T04:00:00Z","protocol":"modbus","source":"\#(source)","dir":"\#(dir)""#
        if let meter { s += #","meter":"\#(meter)""# }
        if let profile { s += #","profile":"\#(profile)""# }
        return s + "}\n"
    }

    static func decode(_ text: String, options: DecodeOptions = DecodeOptions()) -> CollectingSink {
        let sink = CollectingSink()
        let s = DecodeSession(inputName: "t", sourceName: "-", format: .jsonl, options: options, sink: sink)
        s.feed(Array(text.utf8))
        s.finish()
        return sink
    }

    /// RTU and TCP captures: the serial number names the meter; each register of the read becomes a reading.
    @Test(arguments: [ModbusFraming.rtu, .tcp])
    func readings(_ framing: ModbusFraming) throws {
        let source = framing == .tcp ? "tcp://127.0.0.1:502" : "serial:/dev/ttyUSB0"
        func adu(_ t: UInt16, _ pdu: [UInt8]) -> [UInt8] { ModbusADU(framing: framing, unit: 1, transaction: t, pdu: pdu).bytes }
        var text = ""
        text += Self.frameLine(adu(1, [3, 0xFC, 0, 0, 2]), "tx", source: source)
        text += Self.frameLine(adu(1, [3, 4, 0x01, 0x41, 0x80, 0xF1]), "rx", source: source)
        text += Self.frameLine(adu(2, [4, 0, 0x48, 0, 4]), "tx", source: source)
        text += Self.frameLine(adu(2, [4, 8, 0x46, 0x40, 0xE6, 0xB6, 0x7F, 0xC0, 0, 0]), "rx", source: source)
        let sink = Self.decode(text)
        #expect(sink.skips.isEmpty)
        #expect(sink.readings.map(\.quantity) == [.fabricationNumber, .energy])
        let kwh = sink.readings[1]
        #expect(kwh.meter == "sdm630-21070065" && kwh.value == .number(ExactDecimal("12345678")!) && kwh.unit == .wattHour)
        #expect(kwh.record == 0x48 && kwh.obis == "1-0:1.8.0" && kwh.medium == "electricity")
        #expect(kwh.provenance.protocolID == .modbus && kwh.time == UTCTime(iso8601: "2026-12-02T04:00:00Z"))
        // NaN in the export register: a warning, not a reading.
        #expect(sink.warnings.count == 1)
        #expect(sink.warnings.first?.error.message.contains("total_export_kwh") == true)
    }

    @Test func withoutProfileOrRequest() {
        let rx = ModbusADU(framing: .rtu, unit: 1, pdu: [4, 2, 0, 1]).bytes
        let tx = ModbusADU(framing: .rtu, unit: 1, pdu: [4, 0, 0, 0, 1]).bytes
        #expect(Self.decode(Self.frameLine(rx, "rx")).skips.count == 1)
        let noProfile = Self.decode(Self.frameLine(tx, "tx", profile: nil) + Self.frameLine(rx, "rx", profile: nil))
        #expect(noProfile.skips.count == 1 && noProfile.readings.isEmpty)
        var options = DecodeOptions()
        options.modbusProfile = try? ModbusProfile.named("sdm120")
        let volts: [UInt8] = [1, 4, 4, 0x43, 0x66, 0x19, 0x9A]
        let given = Self.decode(Self.frameLine(tx, "tx", profile: nil) + Self.frameLine(volts + ModbusADU.crcBytes(volts), "rx", profile: nil),
                                options: options)
        // A two-register answer to a one-register request does not answer it.
        #expect(given.skips.map(\.error.message) == ["2 registers for a request of 1"])
        let tx2 = ModbusADU(framing: .rtu, unit: 1, pdu: [4, 0, 0, 0, 2]).bytes
        let right = Self.decode(Self.frameLine(tx2, "tx", profile: nil) + Self.frameLine(volts + ModbusADU.crcBytes(volts), "rx", profile: nil),
                                options: options)
        #expect(right.skips.isEmpty)
        #expect(right.readings.map(\.quantity) == [.voltage])
        #expect(right.readings.first?.meter == "serial:/dev/ttyUSB0/1")
    }

    @Test func exceptionIsAnEvent() {
        let tx = ModbusADU(framing: .tcp, unit: 1, transaction: 7, pdu: [4, 2, 0, 0, 2]).bytes
        let rx = ModbusADU(framing: .tcp, unit: 1, transaction: 7, pdu: [0x84, 2]).bytes
        let sink = Self.decode(Self.frameLine(tx, "tx", source: "tcp://h:502", meter: "m1") + Self.frameLine(rx, "rx", source: "tcp://h:502", meter: "m1"))
        #expect(sink.events.map(\.event) == ["application_error"])
        #expect(sink.events.first?.code == "0x02" && sink.events.first?.meter == "m1")
        #expect(sink.events.first?.text == "exception 0x02 (illegal data address) to read of 2 input registers at 0x0200")
    }

    /// Hex lines under --protocol modbus: directions from the PDUs' shapes.
    @Test func hexLines() {
        var options = DecodeOptions()
        options.protocols = [.modbus]
        options.modbusProfile = try? ModbusProfile.named("sdm630")
        let tx = ModbusADU(framing: .rtu, unit: 1, pdu: [4, 0, 0, 0, 2]).bytes
        let rx = ModbusADU(framing: .rtu, unit: 1, pdu: [4, 4, 0x43, 0x66, 0x19, 0x9A]).bytes
        let sink = CollectingSink()
        let s = DecodeSession(inputName: "t", sourceName: "file:capture.hex", format: .hex, options: options, sink: sink)
        s.feed(Array((Hex.string(tx) + "\n" + Hex.string(rx) + "\n").utf8))
        s.finish()
        #expect(sink.skips.isEmpty)
        #expect(sink.readings.map(\.quantity) == [Quantity(rawValue: "voltage_l1")])
        #expect(sink.readings.first?.value == .number(ExactDecimal("230.1")!))
    }
}

/// Hostile input: the SDM630 sessions of samples/modbus, mutated at random (seeded), through the
/// `modbus` fuzz target and the JSON-lines decode path; and mutated profiles through the parser.
/// Nothing may trap.
struct ModbusHostileInputTests {
    static func sample(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("samples/modbus/\(name)")
        return Array(try Data(contentsOf: url))
    }

    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = bytes
        for _ in 0..<(1 + Int(rng.next() % 8)) where !b.isEmpty {
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 3 {
            case 0: b[i] = UInt8(truncatingIfNeeded: rng.next())
            case 1: b.remove(at: i)
            default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
            }
        }
        return b
    }

    @Test(arguments: ["sdm630-tcp.jsonl", "sdm630-rtu.jsonl"])
    func mutatedSessions(_ name: String) throws {
        let text = try Self.sample(name)
        let frames = String(decoding: text, as: UTF8.self).split(separator: "\n").compactMap { line -> [UInt8]? in
            guard let r = line.range(of: #""hex":""#) else { return nil }
            return try? Hex.decode(Array(line[r.upperBound...].prefix { $0 != "\"" }.utf8))
        }
        #expect(frames.count == 12)
        let flags: UInt8 = name.contains("rtu") ? 1 : 0
        var rng = SplitMix64(state: 0x4D4F_4442)
        let modbus = try #require(FuzzTargets.all["modbus"]), jsonl = try #require(FuzzTargets.all["jsonl"])
        for _ in 0..<500 {
            var input: [UInt8] = [flags | UInt8(rng.next() % 2) << 1]
            for f in frames { let m = Self.mutate(f, &rng); input += [UInt8(truncatingIfNeeded: m.count)] + m }
            modbus(input)
            jsonl(Self.mutate(text, &rng))
        }
    }

    @Test func mutatedProfiles() throws {
        let text = try Self.sample("relay-example.json")
        #expect((try? ModbusProfile.parse(text, origin: "t")) != nil)
        var rng = SplitMix64(state: 0x5052_4F46)
        let target = try #require(FuzzTargets.all["modbus-profile"])
        for _ in 0..<2000 { target(Self.mutate(text, &rng)) }
    }
}
