import Foundation
import Glibc
import Testing

/// The IEC 62056-21 mode C meter simulator of `../shared/peers/iec62056-21` (a peer nobody on this
/// project wrote), run with the project's `.venv` (pyserial comes with the pinned iec62056-21),
/// on one end of a socat pseudo-terminal pair or on a loopback TCP port. Its log (`-v`) is kept.
final class IECSimulator {
    static let folder = Binaries.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/peers/iec62056-21")
    static let script = folder.appendingPathComponent("meter_sim.py")
    static let python = Binaries.packageRoot.appendingPathComponent(".venv/bin/python")
    static let available = FileManager.default.fileExists(atPath: script.path)
        && FileManager.default.isExecutableFile(atPath: python.path)
    static let socat = "/usr/bin/socat"
    static let ptyAvailable = available && FileManager.default.isExecutableFile(atPath: socat)

    let directory: URL
    let arguments: [String]
    private var processes: [Process] = []
    /// `--port PATH` on a pty pair's meter end, or `--tcp 127.0.0.1:PORT`.
    let endpoint: [String]
    /// What ami-read is given to reach the meter.
    let client: [String]

    enum Link { case pty, tcp }

    init(_ link: Link, _ arguments: [String]) throws {
        self.arguments = arguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ami-iec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch link {
        case .pty:
            let meter = directory.appendingPathComponent("meter").path, client = directory.appendingPathComponent("client").path
            let socat = Process()
            socat.executableURL = URL(fileURLWithPath: IECSimulator.socat)
            socat.arguments = ["pty,raw,echo=0,link=\(meter)", "pty,raw,echo=0,link=\(client)"]
            socat.standardError = FileHandle.nullDevice
            try socat.run()
            processes.append(socat)
            try IECSimulator.wait("the socat pty pair") {
                FileManager.default.fileExists(atPath: meter) && FileManager.default.fileExists(atPath: client)
            }
            endpoint = ["--port", meter]
            self.client = ["--serial", client, "--soft-parity"]
        case .tcp:
            let port = try DLMSSimulator.freePort()
            endpoint = ["--tcp", "127.0.0.1:\(port)"]
            client = ["--tcp", "127.0.0.1:\(port)"]
        }
        let sim = Process()
        sim.executableURL = IECSimulator.python
        sim.arguments = [IECSimulator.script.path] + endpoint + arguments + ["-v"]
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        sim.standardError = try FileHandle(forWritingTo: logURL)
        sim.standardOutput = FileHandle.nullDevice
        try sim.run()
        processes.append(sim)
        try IECSimulator.wait("the simulator") { self.log.contains("serving on") }
    }

    deinit {
        for p in processes.reversed() where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    var logURL: URL { directory.appendingPathComponent("sim.log") }
    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// True once the log holds `text`: the simulator logs a message after the client that sent
    /// it may have exited (the last one, B0, has no answer). Gives up after 10 s.
    func logged(_ text: String) -> Bool {
        (try? IECSimulator.wait("log line \(text)") { log.contains(text) }) != nil
    }

    /// A file in the test's folder (a key file is made mode 0600).
    func file(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return path
    }

    static func wait(_ what: String, _ ready: () -> Bool) throws {
        let start = ContinuousClock.now
        while !ready() {
            guard ContinuousClock.now - start < .seconds(10) else {
                throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "\(what) did not start"])
            }
            usleep(20_000)
        }
    }

    /// The simulator's `--print-expected` for the same options.
    func expected() throws -> [String: Any] {
        try Binaries.jsonObject(IECSimulator.python, [IECSimulator.script.path, "--print-expected"] + arguments)
    }
}

/// `ami-read iec … | ami-decode` against the simulator over a socat pty pair (soft parity, the
/// speed switch of mode C) and over TCP (device address), in readout and programming mode, and the
/// pip client iec62056-21 reading the same meter through `peers/iec62056_21_read.py`.
@Suite(.enabled(if: IECSimulator.available, "needs ../shared/peers/iec62056-21 and .venv (scripts/python-env)"), .serialized)
struct IECMeterTests {
    static let fast = ["--ack-delay", "0.2"]

    static func records(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// Every data set with an address is a reading of that OBIS address with the same value: text
    /// as written, numbers exact (kWh and kW in ami's Wh and W).
    static func expectReadings(_ readings: [[String: Any]], match dataSets: [[String: Any]], _ context: String) {
        let addressed = dataSets.filter { $0["address"] is String }
        #expect(readings.count == addressed.count, "\(context): one reading per data set")
        for set in addressed {
            let address = set["address"] as? String ?? ""
            let value = set["value"] as? String ?? ""
            guard let r = readings.first(where: { $0["obis"] as? String == address }) else {
                Issue.record("\(context): no reading for \(address)")
                continue
            }
            if let text = r["text"] as? String {
                #expect(text == value, "\(context) \(address)")
                continue
            }
            let factors = ["kWh": ("Wh", Decimal(1000)), "kW": ("W", Decimal(1000))]
            let unit = set["unit"] as? String
            let (ourUnit, factor) = unit.flatMap { factors[$0] } ?? (unit, Decimal(1))
            let want = (Decimal(string: value) ?? .nan) * factor
            let got = Decimal(string: (r["value"] as? NSNumber)?.stringValue ?? "") ?? .nan
            #expect(got == want, "\(context) \(address): \(got) for \(value)")
            #expect(r["unit"] as? String == ourUnit, "\(context) \(address) unit")
        }
    }

    /// The readout over the pty pair, at the meter's 9600 baud and limited to 2400 by --max-baud:
    /// the data message arrives as one rx frame equal to the simulator's readout, and ami-decode
    /// makes one reading per data set.
    @Test(.enabled(if: IECSimulator.ptyAvailable, "needs socat"), arguments: [9600, 2400])
    func readoutOverAPseudoTerminal(baud: Int) throws {
        let sim = try IECSimulator(.pty, ["--soft-parity"] + Self.fast)
        let expected = try sim.expected()
        let frames = sim.directory.appendingPathComponent("frames.jsonl").path
        let limit = baud == 9600 ? "" : "--max-baud \(baud)"
        let r = try Binaries.shell("set -o pipefail; ami-read iec \(sim.client.joined(separator: " ")) \(limit) --timeout 3 | tee \(frames) | ami-decode")
        #expect(r.status == 0, "\(r.stderr)\n\(sim.log)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        let sent = try Self.records(try String(contentsOfFile: frames, encoding: .utf8))
        #expect(sent.map { $0["dir"] as? String } == ["tx", "rx", "tx", "rx"])
        #expect(sent.last?["hex"] as? String == expected["readout_hex"] as? String)
        #expect(sent[1]["hex"] as? String == Data((expected["identification"] as? String ?? "").utf8).map { String(format: "%02x", $0) }.joined())
        #expect(sent.allSatisfy { $0["protocol"] as? String == "iec62056-21" && ($0["source"] as? String)?.hasPrefix("serial:") == true })
        #expect(sim.log.contains("readout sent at \(baud) baud"), "\(sim.log)")
        Self.expectReadings(try Self.records(r.stdout), match: try #require(expected["data_sets"] as? [[String: Any]]), "pty")
    }

    /// Over TCP with a device address, and the pip client on the same meter: the same data sets.
    @Test func readoutOverTCPAgreesWithThePipClient() throws {
        let sim = try IECSimulator(.tcp, ["--address", "12345678"] + Self.fast)
        let expected = try sim.expected()
        let r = try Binaries.shell("set -o pipefail; ami-read iec \(sim.client.joined(separator: " ")) --address 12345678 --timeout 3 | ami-decode")
        #expect(r.status == 0, "\(r.stderr)\n\(sim.log)")
        let readings = try Self.records(r.stdout)
        Self.expectReadings(readings, match: try #require(expected["data_sets"] as? [[String: Any]]), "tcp")
        #expect(sim.log.contains("sign-on address='12345678'"))

        let peer = try Binaries.shell("\(IECSimulator.python.path) peers/iec62056_21_read.py \(sim.client.joined(separator: " ")) --address 12345678 --timeout 3")
        #expect(peer.status == 0, "\(peer.stdout)\(peer.stderr)")
        let theirs = try #require(try Self.records(peer.stdout).first)
        #expect(theirs["manufacturer"] as? String == "SIM")
        Self.expectReadings(readings, match: try #require(theirs["data_sets"] as? [[String: Any]]), "pip client")
    }

    /// Programming mode over the pty pair: the password, R1 of 1.8.0, the clock set with W1 of
    /// 0.9.1 and 0.9.2 (the meter's time in UTC when they were sent) and read back with R1.
    @Test(.enabled(if: IECSimulator.ptyAvailable, "needs socat")) func programmingModeReadsAndSetsTheClock() throws {
        let sim = try IECSimulator(.pty, ["--soft-parity", "--password", "31415926"] + Self.fast)
        let keys = try sim.file("meter.keys", "password = 31415926\n")
        let frames = sim.directory.appendingPathComponent("frames.jsonl").path
        let r = try Binaries.shell("set -o pipefail; ami-read iec \(sim.client.joined(separator: " ")) --timeout 3 --key-file \(keys) "
                                   + "--read 1.8.0 --set-clock | tee \(frames) | ami-decode")
        #expect(r.status == 0, "\(r.stderr)\n\(sim.log)")
        let readings = try Self.records(r.stdout)
        #expect(readings.map { $0["obis"] as? String } == ["1.8.0", "0.9.1", "0.9.2"])
        #expect((readings.first?["value"] as? NSNumber)?.intValue == 12_345_678 && readings.first?["unit"] as? String == "Wh")
        // What W1 wrote, from the tx frames; the time and date of the frame's own (UTC) time.
        let writes = try Self.records(try String(contentsOfFile: frames, encoding: .utf8)).compactMap { f -> (String, String)? in
            guard f["dir"] as? String == "tx", let hex = f["hex"] as? String, hex.hasPrefix("015731"),
                  let time = f["time"] as? String else { return nil }
            let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16) ?? 0 }
            return (String(decoding: bytes.dropFirst(4).dropLast(2), as: UTF8.self), time)
        }
        #expect(writes.map { String($0.0.prefix(6)) } == ["0.9.1(", "0.9.2("])
        for (data, _) in writes {
            #expect(sim.log.contains("command W1 '\(data)'"), "\(sim.log)")
        }
        if writes.count == 2 {
            let value = { (s: String) in String(s.dropFirst(6).dropLast()) }
            let t = writes[0].1, d = writes[1].1   // 2026-12-02T04:19:09.797Z
            let seconds = { (s: String) in Int(s.dropFirst(11).prefix(2))! * 3600 + Int(s.dropFirst(14).prefix(2))! * 60 + Int(s.dropFirst(17).prefix(2))! }
            let written = value(writes[0].0)
            let writtenSeconds = Int(written.prefix(2))! * 3600 + Int(written.dropFirst(2).prefix(2))! * 60 + Int(written.suffix(2))!
            #expect(abs(seconds(t) - writtenSeconds) <= 3 || abs(seconds(t) - writtenSeconds) >= 86_397, "time \(written) sent at \(t)")
            #expect(value(writes[1].0) == String(d.dropFirst(2).prefix(2)) + String(d.dropFirst(5).prefix(2)) + String(d.dropFirst(8).prefix(2)))
            // Read back: the values the meter now holds.
            #expect((readings[1]["value"] as? NSNumber)?.intValue == Int(written))
            #expect((readings[2]["value"] as? NSNumber)?.intValue == Int(value(writes[1].0)))
        }
        #expect(sim.logged("command B0") && sim.log.contains("command P1 '(31415926)'"), "\(sim.log)")
    }

    /// A wrong password: exit 77, nothing read, the session ended with B0.
    @Test func aWrongPasswordIsRefused() throws {
        let sim = try IECSimulator(.tcp, Self.fast)
        let keys = try sim.file("meter.keys", "password = 11111111\n")
        let r = try Binaries.shell("ami-read iec \(sim.client.joined(separator: " ")) --timeout 3 --key-file \(keys) --read 1.8.0")
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("password refused"), "\(r.stderr)")
        #expect(!r.stderr.contains("11111111"))
        #expect(sim.logged("command B0") && !sim.log.contains("command R1"), "\(sim.log)")
    }

    /// A sign-on for another address gets no answer: exit 69 after retries + 1 timeouts.
    @Test func aWrongAddressGetsNoAnswer() throws {
        let sim = try IECSimulator(.tcp, ["--address", "12345678"] + Self.fast)
        let r = try Binaries.shell("set -o pipefail; ami-read iec \(sim.client.joined(separator: " ")) --address 99999999 --timeout 1 --retries 1 | ami-decode")
        #expect(r.status == 69, "\(r.stderr)")
        #expect(r.stderr.contains("no identification message within 1 s"), "\(r.stderr)")
        #expect(sim.log.components(separatedBy: "sign-on for address '99999999' ignored").count == 3, "\(sim.log)")
        #expect(r.stdout.isEmpty)
    }

    /// Mode A: no option select; a mode C meter sends its readout at the initial speed (§6.4.3).
    @Test func modeAReadsWithoutOptionSelect() throws {
        let sim = try IECSimulator(.tcp, ["--ack-timeout", "0.3"] + Self.fast)
        let r = try Binaries.shell("set -o pipefail; ami-read iec \(sim.client.joined(separator: " ")) --mode a --timeout 3 | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.records(r.stdout).count == 18)
        #expect(sim.log.contains("no ACK/option select"), "\(sim.log)")
    }
}

/// ami-read iec's options and key file, without a meter.
struct IECOptionTests {
    @Test func usageAndKeyFileErrors() throws {
        var r = try Binaries.run("ami-read", ["iec", "--tcp", "127.0.0.1:1", "--mode", "b", "--read", "1.8.0"])
        #expect(r.status == 64, "\(r.stderr)")
        r = try Binaries.run("ami-read", ["iec", "--serial", "/dev/null", "--soft-parity", "--serial-format", "7E1"])
        #expect(r.status == 64, "\(r.stderr)")
        r = try Binaries.run("ami-read", ["iec", "--tcp", "127.0.0.1:1", "--address", "12!"])
        #expect(r.status == 64, "\(r.stderr)")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-iec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let keys = dir.appendingPathComponent("meter.keys").path
        try "password = 00000000\n".write(toFile: keys, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keys)
        r = try Binaries.run("ami-read", ["iec", "--tcp", "127.0.0.1:1", "--key-file", keys, "--read", "1.8.0"])
        #expect(r.status == 78, "\(r.stderr)")
        #expect(!r.stderr.contains("00000000"))
    }

    /// The session messages of a frame record named iec62056-21 decode to nothing; a programming
    /// command with a wrong BCC is reported; a lone ACK in a binary capture is still no frame.
    @Test func sessionMessagesInFrameRecords() throws {
        func frame(_ hex: String, _ dir: String = "rx") -> String {
            #"{"type":"frame","v":1,"hex":"\#(hex)","protocol":"iec62056-21","dir":"\#(dir)"}"#
        }
        let quiet = [frame("06"), frame("15"), frame("01503002283132333435363738290368"),
                     frame("2f53494d354d6574657253696d2d310d0a"), frame("0142300371", "tx")].joined(separator: "\n") + "\n"
        var r = try Binaries.run("ami-decode", [], stdin: Array(quiet.utf8))
        #expect(r.status == 0 && r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stderr)")
        r = try Binaries.run("ami-decode", [], stdin: Array((frame("01503002283132333435363738290369") + "\n").utf8))
        #expect(r.status == 65 && r.stderr.contains("BCC"), "\(r.stderr)")
        r = try Binaries.run("ami-decode", [], stdin: [0x06])
        #expect(r.status == 65, "\(r.stderr)")
    }
}
