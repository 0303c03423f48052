import Foundation
import Glibc
import Testing

/// The Modbus energy-meter simulator of `../shared/peers/modbus` (an SDM630 register map served by
/// pymodbus, a peer nobody on this project wrote), run with `.venv` (made by `scripts/python-env`):
/// over TCP on loopback and, with socat, over RTU through a pseudo-terminal pair.
final class ModbusSimulator {
    static let script = Binaries.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/peers/modbus/energy_meter_sim.py")
    static let python = Binaries.packageRoot.appendingPathComponent(".venv/bin/python")
    static let socat = "/usr/bin/socat"
    static let available: Bool = {
        guard FileManager.default.fileExists(atPath: script.path), FileManager.default.isExecutableFile(atPath: python.path)
        else { return false }
        let p = Process()
        p.executableURL = python
        p.arguments = ["-c", "import pymodbus, serial"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()
    static let hasSocat = FileManager.default.isExecutableFile(atPath: socat)

    let process = Process()
    let port: UInt16
    /// The client end of the pty pair, when serving RTU.
    let serialPath: String?
    private var bridge: Process?
    private let directory: URL

    /// Serves TCP on a free loopback port, and RTU on a socat pty pair when `rtu`.
    init(rtu: Bool = false) throws {
        port = try DLMSSimulator.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ami-modbus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var args = [ModbusSimulator.script.path, "--port", String(port)]
        if rtu {
            let meter = directory.appendingPathComponent("meter").path, client = directory.appendingPathComponent("client").path
            bridge = try ModbusSimulator.ptyPair(meter, client)
            args += ["--rtu", meter]
            serialPath = client
        } else {
            serialPath = nil
        }
        process.executableURL = ModbusSimulator.python
        process.arguments = args
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when its TCP port accepts a connection (both servers start in the same event loop).
        DLMSSimulator.waitUntilListening(port, tries: 500)
    }

    /// socat joining two pseudo-terminals linked at `a` and `b` (a serial line), once both are there.
    static func ptyPair(_ a: String, _ b: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: socat)
        p.arguments = ["pty,raw,echo=0,link=\(a)", "pty,raw,echo=0,link=\(b)"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        for _ in 0..<250 where !(FileManager.default.fileExists(atPath: a) && FileManager.default.fileExists(atPath: b)) {
            usleep(20_000)
        }
        return p
    }

    deinit {
        for p in [process, bridge].compactMap({ $0 }) where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The simulator's `--print-expected`: every register, its value and raw words.
    static func expected() throws -> [String: Any] {
        try Binaries.jsonObject(python, [script.path, "--print-expected"])
    }
}

/// `ami-read modbus … | ami-decode` against the simulator: every register `--print-expected` lists
/// comes out with the value its float32 (or uint32) gives, in the base unit.
@Suite(.enabled(if: ModbusSimulator.available, "needs ../shared/peers/modbus and pymodbus in .venv (scripts/python-env)"),
       .serialized)
struct ModbusMeterTests {
    /// One decoded reading: its register (function and address), quantity, exact value text, unit.
    struct Decoded {
        var function: Int
        var address: Int
        var quantity: String
        var value: String
        var unit: String?
        var meter: String
    }

    /// The readings of `decoded`, each with the function code of the request it answers (from the
    /// frame records `frames`: the tx frame before the rx frame a reading came from).
    static func readings(frames: String, decoded: String) throws -> [Decoded] {
        let frameLines = frames.split(separator: "\n").map(String.init)
        var out: [Decoded] = []
        for line in decoded.split(separator: "\n") {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard o["type"] as? String == "reading" else { continue }
            let index = try #require(o["frame"] as? Int)
            let tx = try #require(try JSONSerialization.jsonObject(with: Data(frameLines[index - 1].utf8)) as? [String: Any])
            #expect(tx["dir"] as? String == "tx")
            let hex = try #require(tx["hex"] as? String)
            let source = try #require(o["source"] as? String)
            let fcAt = source.hasPrefix("tcp://") ? 14 : 2
            let fc = try #require(Int(hex.dropFirst(fcAt).prefix(2), radix: 16))
            let value = try #require(line.range(of: #""value":-?[0-9.]+"#, options: .regularExpression))
            out.append(Decoded(function: fc, address: try #require(o["record"] as? Int), quantity: try #require(o["quantity"] as? String),
                               value: String(line[value].dropFirst(8)), unit: o["unit"] as? String,
                               meter: try #require(o["meter"] as? String)))
        }
        return out
    }

    /// The value a register's float32 gives, in the base unit of ami-jsonl(5), as exact decimal text.
    static func expectedValue(_ register: [String: Any], holding: Bool) throws -> Decimal {
        let unit = register["unit"] as? String ?? ""
        var text: String
        if register["type"] as? String == "uint32" {
            text = String(try #require(register["value"] as? Int))
        } else {
            // The float32 the simulator stores: shortest decimal of that binary32 value.
            let words = try #require(register["registers"] as? [Int])
            text = Float(bitPattern: UInt32(words[0]) << 16 | UInt32(words[1])).description
        }
        var d = try #require(Decimal(string: text))
        switch unit {
        case "kWh", "kVArh", "kVAh": d *= 1000
        case "min": d *= 60
        case "ms": d /= 1000
        default: break
        }
        return d
    }

    func check(_ r: Binaries.Result, frames: String, serial: Bool) throws {
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let readings = try Self.readings(frames: frames, decoded: r.stdout)
        let expected = try ModbusSimulator.expected()
        var checked = 0
        for (key, function, holding) in [("input_registers", 4, false), ("holding_registers", 3, true)] {
            for reg in try #require(expected[key] as? [[String: Any]]) {
                let address = try #require(reg["address"] as? Int)
                let matches = readings.filter { $0.function == function && $0.address == address }
                #expect(matches.count == 1, "\(key) \(address): \(matches.count) readings")
                guard let m = matches.first else { continue }
                #expect(Decimal(string: m.value) == (try Self.expectedValue(reg, holding: holding)),
                        "\(key) 0x\(String(address, radix: 16)) \(reg["name"] ?? ""): \(m.value)")
                checked += 1
            }
        }
        #expect(checked == 101)
        #expect(readings.count == 101)
        // The serial number register names the meter.
        #expect(Set(readings.map(\.meter)) == ["sdm630-21070001"])
        let kwh = try #require(readings.first { $0.function == 4 && $0.address == 0x48 })
        #expect(kwh.quantity == "energy" && kwh.value == "12345678" && kwh.unit == "Wh")
        #expect(frames.contains(serial ? "\"source\":\"serial:" : "\"source\":\"tcp://127.0.0.1:"))
    }

    func workspace() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-modbus-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    @Test func everyRegisterOverTCP() throws {
        let sim = try ModbusSimulator()
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Binaries.shell("set -o pipefail; ami-read modbus --tcp 127.0.0.1:\(sim.port) --profile sdm630 | tee \(dir)/frames.jsonl | ami-decode")
        let frames = try String(contentsOfFile: "\(dir)/frames.jsonl", encoding: .utf8)
        try check(r, frames: frames, serial: false)
        // Six block reads (80 registers at most each), each a request and an answer.
        #expect(frames.split(separator: "\n").count == 12)
        // Without the profile in the records, --modbus-profile gives the same readings.
        let bare = try Binaries.shell("sed 's/,\"profile\":\"sdm630\"//' \(dir)/frames.jsonl | ami-decode --modbus-profile sdm630")
        #expect(bare.stdout == r.stdout)
        let none = try Binaries.shell("sed 's/,\"profile\":\"sdm630\"//' \(dir)/frames.jsonl | ami-decode")
        #expect(none.status == 65)
        #expect(none.stderr.contains("ami-decode: stdin:2 byte 0: modbus: no device profile"), "\(none.stderr)")
    }

    @Test(.enabled(if: ModbusSimulator.hasSocat, "needs socat"))
    func everyRegisterOverRTU() throws {
        let sim = try ModbusSimulator(rtu: true)
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try #require(sim.serialPath)
        let r = try Binaries.shell("set -o pipefail; ami-read modbus --serial \(path) --baud 9600 --profile sdm630 --timeout 1 | tee \(dir)/frames.jsonl | ami-decode")
        let frames = try String(contentsOfFile: "\(dir)/frames.jsonl", encoding: .utf8)
        try check(r, frames: frames, serial: true)
    }

    /// A register outside the map: exception 02, reported, the other reads go on; exit 65. The
    /// exception decodes as an `application_error` event.
    @Test func illegalDataAddress() throws {
        let sim = try ModbusSimulator()
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let profile = #"{"profile":"gap","registers":[{"name":"x","address":"0x0200","function":3,"type":"uint16","quantity":"register"},{"name":"v","address":0,"quantity":"voltage_l1","unit":"V"}]}"#
        try profile.write(toFile: "\(dir)/gap.json", atomically: true, encoding: .utf8)
        let r = try Binaries.shell("ami-read modbus --tcp 127.0.0.1:\(sim.port) --profile \(dir)/gap.json --meter m7 | ami-decode; echo \"status ${PIPESTATUS[0]}\"")
        #expect(r.stdout.hasSuffix("status 65\n"), "\(r.stdout)")
        #expect(r.stderrLines == ["ami-read: m7: exception 0x02 (illegal data address) to read of 1 holding register at 0x0200"])
        #expect(r.stdout.contains(#""meter":"m7","quantity":"voltage_l1","value":230.1,"unit":"V""#), "\(r.stdout)")
        #expect(r.stdout.contains(#""event":"application_error","code":"0x02""#), "\(r.stdout)")
    }

    /// A unit the simulator does not serve (pymodbus answers exception 04 for it, as a gateway
    /// would answer 0x0B): the device is unavailable, exit 69.
    @Test func anotherUnit() throws {
        let sim = try ModbusSimulator()
        let r = try Binaries.shell("ami-read modbus --tcp 127.0.0.1:\(sim.port) --profile sdm630 --unit 7 --timeout 1")
        #expect(r.status == 69)
        #expect(r.stderrLines == ["ami-read: tcp://127.0.0.1:\(sim.port)/7: exception 0x04 (server device failure) to read of 2 holding registers at 0xFC00"])
    }

    /// A profile's commands are function 16 writes: here one that sets the demand period, read back.
    @Test func commandsWriteRegisters() throws {
        let sim = try ModbusSimulator()
        let dir = try workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let profile = #"""
        {"profile":"relay","registers":[{"name":"period","address":2,"function":3,"unit":"min","quantity":"averaging_duration"}],
         "commands":{"disconnect":[{"address":2,"type":"float32","value":15}],"reconnect":[{"address":2,"type":"float32","value":"30"}]}}
        """#
        try profile.write(toFile: "\(dir)/relay.json", atomically: true, encoding: .utf8)
        let base = "ami-read modbus --tcp 127.0.0.1:\(sim.port) --profile \(dir)/relay.json --meter r1"
        let off = try Binaries.shell("\(base) --disconnect")
        #expect(off.status == 0, "\(off.stderr)")
        #expect(off.stdoutLines.count == 2)
        #expect(off.stdout.contains(#""hex":"00010000000b01100002000204417000"#), "\(off.stdout)")
        let read = try Binaries.shell("set -o pipefail; \(base) | ami-decode")
        #expect(read.stdout.contains(#""quantity":"averaging_duration","value":900,"unit":"s""#), "\(read.stdout)")
        let on = try Binaries.shell("\(base) --reconnect && \(base) | ami-decode")
        #expect(on.stdout.contains(#""quantity":"averaging_duration","value":1800,"unit":"s""#), "\(on.stdout)")
        let clock = try Binaries.shell("\(base) --set-clock")
        #expect(clock.status == 64)
        #expect(clock.stderr.contains("profile relay defines no set_clock command"), "\(clock.stderr)")
    }
}

/// Devices that fail: nobody listening, a bus where nobody answers. Each is a failure within the
/// timeout, with the reason and exit 69.
@Suite(.serialized)
struct ModbusFailingDeviceTests {
    @Test func nobodyListening() throws {
        let port = try DLMSSimulator.freePort()
        let r = try Binaries.shell("ami-read modbus --tcp 127.0.0.1:\(port) --profile sdm630 --timeout 1")
        #expect(r.status == 69)
        #expect(r.stderrLines == ["ami-read: tcp://127.0.0.1:\(port)/1: connect: connect 127.0.0.1:\(port): Connection refused"])
        #expect(r.stdout.isEmpty)
    }

    @Test(.enabled(if: ModbusSimulator.hasSocat, "needs socat"))
    func aSilentBus() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-modbus-silent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a").path, b = dir.appendingPathComponent("b").path
        let bridge = try ModbusSimulator.ptyPair(a, b)
        defer { kill(bridge.processIdentifier, SIGKILL); bridge.waitUntilExit() }
        let start = ContinuousClock.now
        let r = try Binaries.shell("ami-read modbus --serial \(b) --profile sdm630 --unit 5 --timeout 0.5 --retries 1")
        let took = ContinuousClock.now - start
        #expect(r.status == 69)
        #expect(r.stderrLines == ["ami-read: serial:\(b)/5: read of 2 holding registers at 0xFC00: no answer in 500 ms (2 attempts)"])
        // Both requests are on stdout, no answer.
        #expect(r.stdoutLines.count == 2)
        #expect(took < .seconds(10))
    }

    /// A TCP peer that accepts and never answers (a half-open gateway), and one that answers garbage.
    @Test(.enabled(if: ModbusSimulator.hasSocat, "needs socat"))
    func aTCPPeerThatNeverAnswersOrAnswersGarbage() throws {
        let silent = try DLMSFailingMeterTests.Peer("sleep 5")
        let start = ContinuousClock.now
        let r = try Binaries.shell("ami-read modbus --tcp 127.0.0.1:\(silent.port) --profile sdm630 --timeout 0.5 --retries 1")
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(r.status == 69)
        #expect(r.stderrLines == ["ami-read: tcp://127.0.0.1:\(silent.port)/1: read of 2 holding registers at 0xFC00: no answer in 500 ms (2 attempts)"])
        #expect(r.stdoutLines.count == 2)
        let garbage = try DLMSFailingMeterTests.Peer("head -c 4000 /dev/urandom; sleep 5")
        let g = try Binaries.shell("ami-read modbus --tcp 127.0.0.1:\(garbage.port) --profile sdm630 --timeout 0.5 --retries 1")
        #expect([69, 76].contains(g.status), "\(g.stderr)")
        #expect(g.stderr.hasPrefix("ami-read: tcp://127.0.0.1:\(garbage.port)/1: read of 2 holding registers at 0xFC00: "), "\(g.stderr)")
    }

    @Test func usage() throws {
        let r = try Binaries.run("ami-read", ["modbus", "--tcp", "127.0.0.1:502", "--profile", "sdm999"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("no such built-in profile (sdm120, sdm630)"), "\(r.stderr)")
        let both = try Binaries.run("ami-read", ["modbus", "--profile", "sdm630"])
        #expect(both.status == 64)
    }
}

/// ami's decoding of every data type in the word orders pymodbus knows (abcd, cdab), against
/// pymodbus's own client decode (`peers/modbus_pymodbus.py`), on the simulator's registers.
@Suite(.enabled(if: ModbusSimulator.available, "needs ../shared/peers/modbus and pymodbus in .venv (scripts/python-env)"))
struct ModbusPymodbusAgreementTests {
    /// `[-]digits` and a power of ten for decimal text with or without an exponent, without leading
    /// or trailing zeros: equal for equal numbers however they are written.
    static func canonical(_ text: String) -> String? {
        var t = Substring(text.lowercased())
        var exponent = 0
        if let e = t.firstIndex(of: "e") {
            guard let x = Int(t[t.index(after: e)...]) else { return nil }
            exponent = x
            t = t[..<e]
        }
        let negative = t.hasPrefix("-")
        if negative { t = t.dropFirst() }
        var digits = t.replacingOccurrences(of: ".", with: "")
        if let dot = t.firstIndex(of: ".") { exponent -= t.distance(from: dot, to: t.endIndex) - 1 }
        guard digits.allSatisfy(\.isNumber) else { return nil }
        while digits.hasPrefix("0") { digits.removeFirst() }
        if digits.isEmpty { return "0" }
        while digits.hasSuffix("0") { digits.removeLast(); exponent += 1 }
        return (negative ? "-" : "") + digits + "e" + String(exponent)
    }

    @Test func everyTypeAndWordOrder() throws {
        let sim = try ModbusSimulator()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-modbus-types-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // Every type in both orders at addresses 0x0000…0x004C of the input registers, and the
        // serial number as uint32 in both orders: 322 registers.
        var registers: [[String: Any]] = []
        for address in stride(from: 0, to: 0x50, by: 4) {
            for type in ["int16", "uint16", "int32", "uint32", "float32", "int64", "uint64", "float64"] {
                for order in ["abcd", "cdab"] {
                    let name = "\(type)_\(order)_\(address)"
                    registers.append(["name": name, "address": address, "type": type, "word_order": order,
                                      "quantity": "register", "note": name])
                }
            }
        }
        for order in ["abcd", "cdab"] {
            registers.append(["name": "serial_\(order)", "address": "0xFC00", "function": 3, "type": "uint32",
                              "word_order": order, "quantity": "register", "note": "serial_\(order)"])
        }
        let profile = ["profile": "types", "max_registers": 80, "max_gap": 8, "registers": registers] as [String: Any]
        let path = dir.appendingPathComponent("types.json").path
        try JSONSerialization.data(withJSONObject: profile).write(to: URL(fileURLWithPath: path))

        let ami = try Binaries.shell("set -o pipefail; ami-read modbus --tcp 127.0.0.1:\(sim.port) --profile \(path) --meter t | ami-decode")
        let peer = try Binaries.shell("\(ModbusSimulator.python.path) peers/modbus_pymodbus.py 127.0.0.1:\(sim.port) \(path)")
        #expect(peer.status == 0, "\(peer.stderr)")
        var ours: [String: String] = [:]
        for line in ami.stdoutLines {
            guard let note = line.range(of: #""note":"[a-z0-9_]+""#, options: .regularExpression),
                  let value = line.range(of: #""value":-?[0-9.]+"#, options: .regularExpression) else { continue }
            ours[String(line[note].dropFirst(8).dropLast())] = String(line[value].dropFirst(8))
        }
        var compared = 0, notNumbers = 0
        for line in peer.stdoutLines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let name = try #require(o["name"] as? String), value = try #require(o["value"] as? String)
            // NaN and infinities, and unsigned 64-bit values above 2^63-1 (more than an exact decimal
            // of ami holds), are not readings: ami says so on stderr instead.
            if ["nan", "inf", "-inf"].contains(value) || (name.hasPrefix("uint64") && UInt64(value).map { $0 > UInt64(Int64.max) } == true) {
                #expect(ours[name] == nil, "\(name)")
                #expect(ami.stderr.contains(": \(name): the value is"), "\(name)")
                notNumbers += 1
                continue
            }
            #expect(Self.canonical(ours[name] ?? "?") == Self.canonical(value), "\(name): ami \(ours[name] ?? "none"), pymodbus \(value)")
            compared += 1
        }
        #expect(compared + notNumbers == 322)
        // Warnings skip nothing: the exit status stays 0.
        #expect(ami.status == 0, "\(ami.stderr)")
        #expect(notNumbers > 0 && compared > 250)
    }
}
