import Foundation
import Glibc
import Testing

/// The DLMS meter simulator of `../shared/peers/dlms` (Gurux's server engine, a peer nobody on this
/// project wrote), run with `.venv-dlms` (made by `scripts/python-env --set dlms`).
final class DLMSSimulator {
    static let script = Binaries.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/peers/dlms/dlms_meter_sim.py")
    static let python = Binaries.packageRoot.appendingPathComponent(".venv-dlms/bin/python")
    static let available = FileManager.default.fileExists(atPath: script.path)
        && FileManager.default.isExecutableFile(atPath: python.path)

    let process = Process()
    let port: UInt16
    let arguments: [String]

    init(_ arguments: [String]) throws {
        self.arguments = arguments
        port = try DLMSSimulator.freePort()
        let ready = FileManager.default.temporaryDirectory.appendingPathComponent("ami-sim-\(UUID().uuidString)")
        process.executableURL = DLMSSimulator.python
        process.arguments = [DLMSSimulator.script.path, "--port", String(port), "--ready-file", ready.path,
                             "--max-seconds", "300"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let start = ContinuousClock.now
        while !FileManager.default.fileExists(atPath: ready.path) {
            guard process.isRunning, ContinuousClock.now - start < .seconds(30) else {
                process.terminate()
                throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "simulator did not start"])
            }
            usleep(20_000)
        }
        try? FileManager.default.removeItem(at: ready)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// What the simulator says a client must read, for the same options.
    func expected() throws -> [String: Any] {
        let json = try Binaries.jsonObject(DLMSSimulator.python,
                                           [DLMSSimulator.script.path, "--port", String(port), "--print-expected"] + arguments)
        return try #require((json["meters"] as? [[String: Any]])?.first)
    }

    /// Waits until `port` on loopback accepts a connection, trying every 20 ms.
    static func waitUntilListening(_ port: UInt16, tries: Int) {
        for _ in 0..<tries {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if ok == 0 { return }
            usleep(20_000)
        }
    }

    /// A loopback port nobody listens on right now.
    static func freePort() throws -> UInt16 {
        let (fd, port) = boundSocket()
        close(fd)
        return port
    }

    /// A TCP socket bound to a free loopback port (not listening yet), and the port.
    static func boundSocket() -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
        }
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, UInt16(bigEndian: addr.sin_port))
    }
}

/// `ami-read dlms … | ami-decode` against the simulator: every register with its scaler and unit,
/// the clock, the load profile by range and by entry, disconnect and reconnect, over the wrapper and
/// HDLC, with no authentication, LLS and HLS-GMAC with authenticated encryption; the readings must
/// equal the simulator's `--print-expected`.
@Suite(.enabled(if: DLMSSimulator.available, "needs ../shared/peers/dlms and .venv-dlms (scripts/python-env --set dlms)"),
       .serialized)
struct DLMSMeterTests {
    static let registers = ["1.0.1.8.0.255", "1.0.2.8.0.255", "1.0.1.8.1.255", "1.0.1.8.2.255", "1.0.32.7.0.255",
                            "1.0.31.7.0.255", "1.0.1.7.0.255"]

    struct Setup: CustomTestStringConvertible, Sendable {
        var name: String
        var simulator: [String]
        var read: [String]
        var testDescription: String { name }
    }

    static let keys = "ek = 000102030405060708090A0B0C0D0E0F\nak = D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF\npassword = 12345678\n"

    static let setups: [Setup] = [
        Setup(name: "wrapper, no authentication", simulator: [], read: []),
        Setup(name: "HDLC, no authentication", simulator: ["--framing", "hdlc"], read: ["--framing", "hdlc"]),
        Setup(name: "wrapper, LLS", simulator: ["--auth", "low", "--password", "12345678"], read: ["--auth", "low"]),
        Setup(name: "HDLC, LLS", simulator: ["--framing", "hdlc", "--auth", "low", "--password", "12345678"],
              read: ["--framing", "hdlc", "--auth", "low"]),
        Setup(name: "wrapper, HLS-GMAC, authenticated encryption",
              simulator: ["--auth", "hls-gmac", "--security", "auth-enc"],
              read: ["--auth", "hls-gmac", "--security", "auth-enc", "--system-title", "4D4D4D0000000001"]),
        Setup(name: "wrapper, HLS-GMAC, authentication only",
              simulator: ["--auth", "hls-gmac", "--security", "auth"],
              read: ["--auth", "hls-gmac", "--security", "auth"]),
        Setup(name: "HDLC, HLS-GMAC, authenticated encryption",
              simulator: ["--framing", "hdlc", "--auth", "hls-gmac", "--security", "auth-enc"],
              read: ["--framing", "hdlc", "--auth", "hls-gmac", "--security", "auth-enc"]),
    ]

    /// A key file (mode 0600) and a state folder for one test.
    static func workspace() throws -> (keyFile: String, state: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-dlms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let keyFile = dir.appendingPathComponent("meter.keys").path
        try keys.write(toFile: keyFile, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keyFile)
        return (keyFile, dir.appendingPathComponent("state").path)
    }

    static func readings(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func obis(_ dotted: String) -> String {
        let p = dotted.split(separator: ".")
        return "\(p[0])-\(p[1]):\(p[2]).\(p[3]).\(p[4])*\(p[5])"
    }

    /// The value text of a number as ami writes it, from the simulator's raw value and scaler.
    static func decimal(_ raw: Int, scaler: Int) -> String {
        guard scaler < 0 else { return String(raw * Int(pow(10.0, Double(scaler)))) }
        let digits = String(raw)
        let n = -scaler
        let padded = String(repeating: "0", count: max(0, n + 1 - digits.count)) + digits
        var text = String(padded.dropLast(n)) + "." + String(padded.suffix(n))
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    @Test(arguments: setups)
    func readsEveryObjectAsTheSimulatorExpects(_ setup: Setup) throws {
        let sim = try DLMSSimulator(setup.simulator + ["--reset-state-per-connection"])
        let expected = try sim.expected()
        let (keyFile, state) = try Self.workspace()
        let gets = Self.registers.flatMap { ["--get", Self.obis($0)] } + ["--get", "0-0:96.1.0*255"]
        let command = (["ami-read", "dlms", "--tcp", "127.0.0.1:\(sim.port)", "--key-file", keyFile, "--state-dir", state,
                        "--clock"] + gets + ["--profile", "1-0:99.1.0*255", "--relay-state", "--disconnect", "--reconnect"]
                       + setup.read).joined(separator: " ")
        let r = try Binaries.shell("set -o pipefail; \(command) | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let records = try Self.readings(r.stdout)
        let objects = try #require(expected["objects"] as? [String: [String: Any]])
        func reading(_ code: String) -> [String: Any]? {
            records.first { $0["obis"] as? String == code && $0["record"] == nil }
        }
        for dotted in Self.registers {
            let o = try #require(objects[dotted])
            let r = reading(Self.obis(dotted))
            let want = Self.decimal(try #require(o["raw"] as? Int), scaler: try #require(o["scaler"] as? Int))
            #expect((r?["value"] as? NSNumber)?.stringValue == want, "\(setup.name) \(dotted)")
            #expect(r?["unit"] as? String == o["unit_name"] as? String, "\(setup.name) \(dotted) unit")
            #expect(r?["meter"] as? String == (objects["0.0.42.0.0.255"]?["value_ascii"] as? String))
        }
        #expect(reading("0-0:1.0.0*255")?["text"] as? String == objects["0.0.1.0.0.255"]?["time"] as? String)
        #expect(reading("0-0:96.1.0*255")?["text"] as? String == objects["0.0.96.1.0.255"]?["value"] as? String)
        // The whole load profile (96 rows, read in blocks), each row at its capture time.
        let profile = try #require(expected["load_profile"] as? [String: Any])
        let rows = try #require(profile["entries"] as? [[Any]])
        let profileReadings = records.filter { $0["record"] != nil && $0["obis"] as? String == "1-0:1.8.0*255" }
        #expect(profileReadings.count == rows.count, "\(setup.name): profile rows")
        for (row, reading) in zip(rows, profileReadings) {
            #expect(reading["time"] as? String == row[0] as? String)
            #expect((reading["value"] as? NSNumber)?.intValue == row[1] as? Int)
        }
        // Disconnect, then reconnect: events, and the state read after each.
        let events = records.filter { $0["type"] as? String == "event" }.compactMap { $0["event"] as? String }
        #expect(events == ["remote_disconnect", "remote_reconnect"])
        let states = records.filter { $0["quantity"] as? String == "breaker_state" }.compactMap { ($0["value"] as? NSNumber)?.intValue }
        let dc = try #require(objects["0.0.96.3.10.255"])
        let afterDisconnect = (dc["after_remote_disconnect"] as? [String: Any])?["control_state"] as? Int
        let afterReconnect = (dc["after_remote_reconnect"] as? [String: Any])?["control_state"] as? Int
        #expect(states == [dc["control_state"] as? Int, afterDisconnect, afterReconnect].compactMap { $0 })
    }

    @Test func profileByRangeAndByEntry() throws {
        let sim = try DLMSSimulator([])
        let expected = try sim.expected()
        let rows = try #require((expected["load_profile"] as? [String: Any])?["entries"] as? [[Any]])
        let last = try #require(rows.last?[0] as? String), firstOfRange = try #require(rows[rows.count - 9][0] as? String)
        var r = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(sim.port) --profile 1-0:99.1.0*255 --from \(firstOfRange) --to \(last) | ami-decode")
        var times = try Self.readings(r.stdout).filter { $0["record"] != nil }.compactMap { $0["time"] as? String }
        #expect(times == rows.suffix(9).compactMap { $0[0] as? String })
        r = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(sim.port) --profile 1-0:99.1.0*255 --entries 1-4 | ami-decode")
        times = try Self.readings(r.stdout).filter { $0["record"] != nil }.compactMap { $0["time"] as? String }
        #expect(times == rows.prefix(4).compactMap { $0[0] as? String })
    }

    @Test func getWithList() throws {
        let sim = try DLMSSimulator(["--framing", "hdlc"])
        let objects = try #require(try sim.expected()["objects"] as? [String: [String: Any]])
        let r = try Binaries.shell("set -o pipefail; ami-read dlms --tcp 127.0.0.1:\(sim.port) --framing hdlc --with-list "
                                   + "--get 3/1-0:32.7.0*255/2 --get 3/1-0:1.8.0*255/2 --get 1/0-0:96.1.0*255/2 | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let records = try Self.readings(r.stdout)
        let voltage = try #require(objects["1.0.32.7.0.255"])
        let v = records.first { $0["obis"] as? String == "1-0:32.7.0*255" }
        #expect((v?["value"] as? NSNumber)?.stringValue == Self.decimal(voltage["raw"] as? Int ?? 0, scaler: voltage["scaler"] as? Int ?? 0))
        #expect(v?["unit"] as? String == "V")
        #expect(records.first { $0["obis"] as? String == "0-0:96.1.0*255" }?["text"] as? String == objects["0.0.96.1.0.255"]?["value"] as? String)
        // One GET-Request-With-List (C0 03) asks for scaler_unit and value of the register and the serial.
        let requests = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(sim.port) --framing hdlc --with-list --get 3/1-0:1.8.0*255/2 --get 1/0-0:96.1.0*255/2")
        #expect(requests.stdout.contains("e6e600c003c20300030100010800ff0300"), "one get-request-with-list of 3 attributes")
    }

    @Test func aMeterDescriptionFileStandsForTheOptions() throws {
        let sim = try DLMSSimulator(["--auth", "low", "--password", "12345678"])
        let (keyFile, _) = try Self.workspace()
        let folder = URL(fileURLWithPath: keyFile).deletingLastPathComponent()
        let description = folder.appendingPathComponent("meter.json")
        try """
            {"tcp": "127.0.0.1:\(sim.port)", "auth": "low", "key-file": "meter.keys",
             "get": ["1-0:1.8.0*255", "1-0:32.7.0*255"], "clock": true, "timeout": 3, "meter": "substation-7"}
            """.write(to: description, atomically: false, encoding: .utf8)
        let r = try Binaries.shell("set -o pipefail; ami-read dlms --description \(description.path) --timeout 2 | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let records = try Self.readings(r.stdout)
        #expect(records.filter { $0["type"] as? String == "reading" }.count == 4, "\(r.stdout)")
        #expect(records.contains { $0["obis"] as? String == "1-0:32.7.0*255" && $0["unit"] as? String == "V" })
        let bad = folder.appendingPathComponent("bad.json")
        try #"{"tcp": "127.0.0.1:1", "colour": "red"}"#.write(to: bad, atomically: false, encoding: .utf8)
        let refused = try Binaries.shell("ami-read dlms --description \(bad.path)")
        #expect(refused.status == 64, "\(refused.stderr)")
    }

    /// The `command` records ami-bill's prepaid runs write, carried out by `ami-read exec` on the
    /// meters of a registry: a disconnect then a reconnect on the simulator, each with its `session`
    /// record; a command for a meter not in the registry is reported with its line and skipped
    /// (exit 65).
    @Test func commandRecordsAreCarriedOutOnTheirMeters() throws {
        let sim = try DLMSSimulator([])
        let (keyFile, _) = try Self.workspace()
        let folder = URL(fileURLWithPath: keyFile).deletingLastPathComponent()
        let registry = folder.appendingPathComponent("meters.jsonl")
        try #"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://127.0.0.1:\#(sim.port)","read":{"timeout":3,"relay-state":true}}"#
            .write(to: registry, atomically: false, encoding: .utf8)
        let commands = folder.appendingPathComponent("commands.jsonl")
        try """
            {"type":"notification","v":1,"account":"P1","meter":"M1","kind":"low_credit"}
            {"type":"command","v":1,"time":"2026-06-01T11:00:00Z","command":"disconnect","meter":"M1","account":"P1","reason":"credit exhausted"}
            {"type":"command","v":1,"time":"2026-06-01T12:30:00Z","command":"reconnect","meter":"M1","account":"P1","reason":"paid"}
            {"type":"command","v":1,"time":"2026-06-01T12:30:00Z","command":"disconnect","meter":"M9","account":"P9","reason":"credit exhausted"}

            """.write(to: commands, atomically: false, encoding: .utf8)
        let r = try Binaries.shell("ami-read exec --registry \(registry.path) \(commands.path) | ami-decode; echo \"status ${PIPESTATUS[0]}\" >&2")
        let records = try Self.readings(r.stdout)
        #expect(records.compactMap { $0["event"] as? String } == ["remote_disconnect", "remote_reconnect"], "\(r.stderr)")
        // The relay state each session reads (--relay-state) and reads again after its action.
        #expect(records.filter { $0["quantity"] as? String == "breaker_state" }.compactMap { $0["note"] as? String }
                == ["connected", "disconnected", "disconnected", "connected"])
        let sessions = records.filter { $0["type"] as? String == "session" }
        #expect(sessions.map { "\($0["meter"]!) \($0["command"]!) \($0["result"]!)" } == ["M1 disconnect ok", "M1 reconnect ok"])
        #expect(r.stderrLines.count == 3, "\(r.stderr)")
        #expect(r.stderrLines.first == "ami-read: \(commands.path):4: meter \"M9\" is not in the registry")
        #expect(r.stderrLines.dropFirst().first?.hasPrefix("ami-read: exec: 2 sessions: 2 ok, 0 failed in ") == true)
        #expect(r.stderrLines.last == "status 65")
    }

    @Test func setClockSynchronisesTheMeter() throws {
        let sim = try DLMSSimulator([])
        let before = Date()
        let r = try Binaries.shell("set -o pipefail; ami-read dlms --tcp 127.0.0.1:\(sim.port) --set-clock --clock | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let records = try Self.readings(r.stdout)
        #expect(records.contains { $0["event"] as? String == "clock_set" })
        let clock = try #require(records.first { $0["quantity"] as? String == "clock" }?["text"] as? String)
        let formatter = ISO8601DateFormatter()
        let read = try #require(formatter.date(from: clock))
        // The simulator keeps the clock it was set to (its fixed clock plus the shift).
        #expect(abs(read.timeIntervalSince(before)) < 10, "meter clock \(clock) after synchronisation")
    }

    @Test func wrongPasswordAndWrongKeyFailDistinctly() throws {
        let lls = try DLMSSimulator(["--auth", "low", "--password", "12345678"])
        var r = try Binaries.shell("AMI_DLMS_PASSWORD=wrong ami-read dlms --tcp 127.0.0.1:\(lls.port) --auth low --clock")
        #expect(r.status == 77)
        #expect(r.stderr.contains("authentication-failure"), "\(r.stderr)")
        #expect(!r.stderr.contains("wrong") || !r.stderr.contains("AMI_DLMS_PASSWORD=wrong"))

        let hls = try DLMSSimulator(["--auth", "hls-gmac", "--security", "auth-enc"])
        let (_, state) = try Self.workspace()
        r = try Binaries.shell("AMI_DLMS_EK=000102030405060708090A0B0C0D0E0E AMI_DLMS_AK=D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF "
                               + "ami-read dlms --tcp 127.0.0.1:\(hls.port) --auth hls-gmac --security auth-enc --state-dir \(state) --clock")
        #expect(r.status == 77)
        #expect(r.stderr.hasPrefix("ami-read: tcp://127.0.0.1:\(hls.port): association: "), "\(r.stderr)")
        #expect(!r.stderr.contains("authentication-failure"), "a wrong key is not reported as a wrong password")
        #expect(!r.stderr.contains("000102030405060708090A0B0C0D0E0E"))
    }

    @Test func theFrameCounterIsReadThroughThePublicClientFirst() throws {
        // The simulator has no frame counter object, and answers only the authentication it was
        // started with. Its last event code (a Data object, value 5) stands in for the counter on a
        // meter without authentication; the counter's effect on the invocation counter (it starts
        // above) is InvocationCounterStoreTests.atLeastRaisesTheStart.
        let open = try DLMSSimulator([])
        let r = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(open.port) --frame-counter 0-0:96.11.0*255 --clock")
        #expect(r.status == 0, "\(r.stderr)")
        let frames = try Self.readings(r.stdout)
        let aarqs = frames.filter { ($0["hex"] as? String)?.dropFirst(16).hasPrefix("60") == true }
        #expect(aarqs.count == 2, "a public association for the counter, then the session")
        #expect(frames.contains { ($0["hex"] as? String)?.hasSuffix("c001c1000100006 00b00ff0200".replacingOccurrences(of: " ", with: "")) == true })

        // A meter that refuses the public client: the counter cannot be read, and nothing is ciphered.
        let hls = try DLMSSimulator(["--auth", "hls-gmac", "--security", "auth-enc"])
        let (keyFile, state) = try Self.workspace()
        let refused = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(hls.port) --auth hls-gmac --security auth-enc "
                                         + "--key-file \(keyFile) --state-dir \(state) --frame-counter 0-0:43.1.0*255 --clock")
        #expect(refused.status == 77)
        #expect(refused.stderrLines == ["ami-read: tcp://127.0.0.1:\(hls.port): frame counter 0-0:43.1.0*255: association rejected-permanent: authentication-mechanism-name-not-recognised"],
                "\(refused.stderr)")
    }

    @Test func invocationCountersNeverRepeatAcrossRuns() throws {
        let sim = try DLMSSimulator(["--auth", "hls-gmac", "--security", "auth-enc"])
        let (keyFile, state) = try Self.workspace()
        var counters: [String] = []
        for _ in 0..<2 {
            let r = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(sim.port) --auth hls-gmac --security auth-enc --key-file \(keyFile) --state-dir \(state) --clock")
            #expect(r.status == 0, "\(r.stderr)")
            // The invocation counter of every ciphered request the client sent (general-glo-ciphering:
            // tag, title length and title, length, SC, then the counter).
            for line in try Self.readings(r.stdout) where line["dir"] as? String == "tx" {
                let hex = try #require(line["hex"] as? String)
                if let range = hex.range(of: "db084d4d4d0000000001") ?? hex.range(of: "db08414d490000000001") {
                    counters.append(String(hex[range.upperBound...].dropFirst(4).prefix(8)))
                }
            }
        }
        #expect(counters.count >= 4)
        #expect(Set(counters).count == counters.count, "\(counters)")
    }
}

/// Meters that fail: one that never answers, one that answers garbage, one whose connection drops in
/// the middle of a block transfer. Each is a failure of that meter within its timeout, with the reason.
/// The misbehaving peers are socat processes (installed by scripts/system-deps --test).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/socat"), "needs socat"), .serialized)
struct DLMSFailingMeterTests {
    /// `socat TCP-LISTEN:PORT,fork SYSTEM:command` on loopback: each connection runs `command`.
    final class Peer {
        let process = Process()
        let port: UInt16

        init(_ command: String) throws {
            port = try DLMSSimulator.freePort()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
            process.arguments = ["TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "SYSTEM:\(command)"]
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Ready when a connection is accepted (that probe's child runs the command and is left be).
            DLMSSimulator.waitUntilListening(port, tries: 200)
        }

        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    func elapsed(_ body: () throws -> Binaries.Result) rethrows -> (Binaries.Result, Duration) {
        let start = ContinuousClock.now
        let r = try body()
        return (r, ContinuousClock.now - start)
    }

    @Test func aMeterThatNeverAnswersFailsWithinItsTimeout() throws {
        let peer = try Peer("sleep 5")
        let (r, took) = try elapsed { try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(peer.port) --timeout 1 --clock") }
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("ami-read: tcp://127.0.0.1:\(peer.port): association: "), "\(r.stderr)")
        #expect(took < .seconds(10))
        // The AARQ it sent is on stdout; nothing else.
        #expect(r.stdoutLines.count == 1)
    }

    @Test func aMeterThatAnswersGarbageFailsWithTheReason() throws {
        let peer = try Peer("head -c 4000 /dev/urandom; sleep 5")
        let (r, took) = try elapsed { try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(peer.port) --timeout 1 --clock") }
        #expect([69, 76].contains(r.status), "\(r.stderr)")
        #expect(r.stderr.hasPrefix("ami-read: tcp://127.0.0.1:\(peer.port): association: "), "\(r.stderr)")
        #expect(took < .seconds(10))
    }

    @Test(.enabled(if: DLMSSimulator.available, "needs the simulator"))
    func aConnectionDroppedInTheMiddleOfABlockTransferFails() throws {
        let sim = try DLMSSimulator(["--framing", "hdlc"])
        // peers/drop_proxy.py passes the first 1500 bytes of the meter's answers, then closes.
        let port = try DLMSSimulator.freePort()
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proxy.arguments = ["python3", Binaries.packageRoot.appendingPathComponent("peers/drop_proxy.py").path,
                           String(port), String(sim.port), "1500"]
        let ready = Pipe()
        proxy.standardOutput = ready
        try proxy.run()
        defer { kill(proxy.processIdentifier, SIGKILL); proxy.waitUntilExit() }
        _ = ready.fileHandleForReading.availableData
        let (r, took) = try elapsed {
            try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(port) --framing hdlc --timeout 1 --retries 1 --profile 1-0:99.1.0*255")
        }
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderrLines == ["ami-read: tcp://127.0.0.1:\(port): profile 1-0:99.1.0*255: connection closed by the meter"])
        #expect(took < .seconds(15))
    }

    @Test(.enabled(if: DLMSSimulator.available, "needs the simulator"))
    func hdlcOverASerialLine() throws {
        // A pseudo-terminal whose other end is bridged to the simulator's HDLC port: ami-read opens
        // it as a serial device (termios raw, 9600 8N1) and speaks HDLC through it.
        let sim = try DLMSSimulator(["--framing", "hdlc"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-pty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let link = dir.appendingPathComponent("meter").path
        let bridge = Process()
        bridge.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
        bridge.arguments = ["PTY,raw,echo=0,link=\(link)", "TCP:127.0.0.1:\(sim.port)"]
        bridge.standardError = FileHandle.nullDevice
        try bridge.run()
        defer { kill(bridge.processIdentifier, SIGKILL); bridge.waitUntilExit() }
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: link) { usleep(20_000) }
        let r = try Binaries.shell("set -o pipefail; ami-read dlms --serial \(link) --get 1-0:1.8.0*255 --clock | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let expected = try sim.expected()
        let raw = ((expected["objects"] as? [String: Any])?["1.0.1.8.0.255"] as? [String: Any])?["raw"] as? Int
        #expect(r.stdout.contains("\"obis\":\"1-0:1.8.0*255\",\"value\":\(raw ?? -1),\"unit\":\"Wh\""), "\(r.stdout)")
        #expect(r.stdout.contains("\"source\":\"serial:\(link)\""))
    }
}
