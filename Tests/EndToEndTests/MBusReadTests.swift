import Foundation
import Glibc
import Testing

/// `peers/mbus_slave.py` serving one M-Bus line of slaves: on one end of a socat pty pair (the
/// other end is the master's serial device) or on a loopback TCP port (a gateway).
final class MBusLine {
    static let script = Binaries.packageRoot.appendingPathComponent("peers/mbus_slave.py")
    static let socat = "/usr/bin/socat"
    static let hasSocat = FileManager.default.isExecutableFile(atPath: socat)
    static let hasPython = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    /// pyMeterBus and pyserial, in the venv `scripts/python-env` makes.
    static let venvPython = Binaries.packageRoot.appendingPathComponent(".venv/bin/python")
    static let hasPyMeterBus = FileManager.default.isExecutableFile(atPath: venvPython.path)

    enum Kind: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case serial, tcp
        var testDescription: String { rawValue }
        var available: Bool { self == .tcp || MBusLine.hasSocat }
    }

    let slaves: [String]
    let dir: URL
    var processes: [Process] = []
    /// `--serial PATH` or `--tcp 127.0.0.1:PORT`, for the master.
    private(set) var connection: [String] = []

    init(_ kind: Kind, _ slaves: [String], echo: Bool = false) throws {
        self.slaves = slaves
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-mbus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ready = dir.appendingPathComponent("ready")
        var line: [String]
        switch kind {
        case .serial:
            let master = dir.appendingPathComponent("master").path, bus = dir.appendingPathComponent("bus").path
            try start(MBusLine.socat, ["pty,raw,echo=0,link=\(master)", "pty,raw,echo=0,link=\(bus)"])
            try wait { FileManager.default.fileExists(atPath: master) && FileManager.default.fileExists(atPath: bus) }
            line = ["--serial", bus]
            // Pseudo-terminals here refuse parity (PARENB: EINVAL), so the pair runs 8N1.
            connection = ["--serial", master, "--serial-format", "8N1"]
        case .tcp:
            line = ["--tcp-port", "0"]
        }
        try start("/usr/bin/python3", [MBusLine.script.path, "--ready-file", ready.path, "--max-seconds", "300"]
                  + line + (echo ? ["--echo"] : []) + slaves.flatMap { ["--slave", $0] })
        try wait { FileManager.default.fileExists(atPath: ready.path) }
        if kind == .tcp {
            connection = ["--tcp", "127.0.0.1:" + (try String(contentsOf: ready, encoding: .utf8))]
        }
    }

    private func start(_ executable: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        processes.append(p)
    }

    private func wait(_ condition: () -> Bool) throws {
        let end = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < end, processes.allSatisfy(\.isRunning) else {
                throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "the M-Bus line did not start"])
            }
            usleep(20_000)
        }
    }

    deinit {
        for p in processes.reversed() where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dir)
    }

    /// What the harness says a master must read from each slave (`--print-expected`).
    func expected() throws -> [[String: Any]] {
        let r = try Binaries.shell("python3 peers/mbus_slave.py --print-expected "
                                   + slaves.map { "--slave '\($0)'" }.joined(separator: " "))
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try #require(json?["slaves"] as? [[String: Any]])
    }

    /// `ami-read mbus` on this line with `arguments`, piped into ami-decode when `decode`.
    func read(_ arguments: String, decode: Bool = false) throws -> Binaries.Result {
        let command = "ami-read mbus \(connection.joined(separator: " ")) \(arguments)"
        return try Binaries.shell(decode ? "set -o pipefail; \(command) | ami-decode" : command)
    }
}

/// `ami-read mbus` against peers/mbus_slave.py on a socat pty pair and over TCP: primary and
/// secondary reads (wildcards), multi-telegram answers, primary and secondary scans that meet
/// collisions, echoing converters, a silent slave, the clock; the harness itself checked with
/// pyMeterBus as the master.
@Suite(.enabled(if: MBusLine.hasPython, "needs python3"), .serialized)
struct MBusReadTests {
    static let slaves = ["primary=5,id=12345678,telegrams=3", "primary=7,id=87654321,man=ACW,medium=0x16,delay=3",
                         "primary=1,id=12345679,man=KAM,version=0x1A,medium=4,delay=5"]

    static func records(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    /// (storage, value) of every volume reading of `meter`.
    static func volumes(_ records: [[String: Any]], _ meter: String) -> [String] {
        records.filter { $0["quantity"] as? String == "volume" && $0["meter"] as? String == meter }
            .map { "\($0["storage"] as? Int ?? -1):\(($0["value"] as? NSNumber)?.stringValue ?? "?")" }
    }

    static func expectedVolumes(_ slave: [String: Any]) -> [String] {
        (slave["volumes"] as? [[String: Any]] ?? []).map { "\($0["storage"] as? Int ?? -1):\($0["value"] as? String ?? "?")" }
    }

    @Test(arguments: MBusLine.Kind.allCases)
    func aPrimaryReadFollowsAMultiTelegramAnswer(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        let line = try MBusLine(kind, Self.slaves)
        let expected = try line.expected()[0]
        let r = try line.read("--address 5 --timeout 2", decode: true)
        #expect(r.status == 0, "\(r.stderr)")
        let meter = try #require(expected["meter"] as? String)
        #expect(Self.volumes(try Self.records(r.stdout), meter) == Self.expectedVolumes(expected))
        // The frames: SND_NKE, then REQ_UD2 with the FCB 1, 0, 1, each answered by the next telegram.
        let frames = try Self.records(try line.read("--address 5 --timeout 2").stdout)
        #expect(frames.map { $0["hex"] as? String ?? "" } == ["1040054516", "e5", "107b058016",
                                                               (expected["telegrams"] as? [String])?[0] ?? "",
                                                               "105b056016", (expected["telegrams"] as? [String])?[1] ?? "",
                                                               "107b058016", (expected["telegrams"] as? [String])?[2] ?? ""])
        #expect(frames.allSatisfy { $0["protocol"] as? String == "mbus" && $0["source"] as? String == line.source })
        #expect(frames.filter { $0["dir"] as? String == "rx" && ($0["hex"] as? String)?.count ?? 0 > 2 }
                    .allSatisfy { $0["meter"] as? String == meter })
    }

    @Test(arguments: MBusLine.Kind.allCases)
    func aSecondaryReadSelectsByWildcards(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        let line = try MBusLine(kind, Self.slaves)
        let expected = try line.expected()
        for (mask, slave) in [("8765432F", 1), ("ACW-87654321-*-16", 1), ("9FFFFFFF", -1),
                              ("1234567FFFFF1AFF", 2), ("KAM-12345679-1A-04", 2), ("*-1234567F-01-FF", 0)] {
            let r = try line.read("--secondary \(mask) --timeout 2", decode: true)
            guard slave >= 0 else {
                #expect(r.status == 69, "\(mask): \(r.stderr)")
                #expect(r.stderr.contains("no meter answers"), "\(r.stderr)")
                continue
            }
            #expect(r.status == 0, "\(mask): \(r.stderr)")
            let meter = try #require(expected[slave]["meter"] as? String)
            #expect(Self.volumes(try Self.records(r.stdout), meter) == Self.expectedVolumes(expected[slave]), "\(mask)")
        }
        // Two meters match: a collision, not a reading.
        let both = try line.read("--secondary 1234567F --timeout 1 --retries 1")
        #expect(both.status == 76, "\(both.stderr)")
        #expect(both.stderr.contains("several meters"), "\(both.stderr)")
    }

    @Test(arguments: MBusLine.Kind.allCases)
    func scansFindEveryMeterThroughCollisions(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        // 12345678 and 12345679 collide down to the last digit; 12345000 a level before.
        let slaves = Self.slaves + ["primary=9,id=12345000,delay=7", "id=90000001,delay=2"]
        let line = try MBusLine(kind, slaves)
        let meters = try line.expected().compactMap { $0["meter"] as? String }
        let secondary = try line.read("--scan secondary --timeout 0.3", decode: true)
        #expect(secondary.status == 0, "\(secondary.stderr)")
        let found = secondary.stderrLines.filter { $0.contains(": found ") }
        #expect(found.count == meters.count, "\(secondary.stderr)")
        for m in meters {
            #expect(found.contains { $0.contains("found \(m) at primary address") }, "\(m) in \(secondary.stderr)")
            #expect(try Self.records(secondary.stdout).contains { $0["meter"] as? String == m && $0["quantity"] as? String == "volume" })
        }
        let primary = try line.read("--scan primary --addresses 0-12 --timeout 0.3", decode: true)
        #expect(primary.status == 0, "\(primary.stderr)")
        #expect(primary.stderrLines.map { $0.components(separatedBy: ": found ").last ?? "" }
                == ["KAM-12345679-1A-04 at primary address 1", "AMI-12345678-01-07 at primary address 5",
                    "ACW-87654321-01-16 at primary address 7", "AMI-12345000-01-07 at primary address 9"],
                "\(primary.stderr)")
    }

    @Test func twoMetersAtOnePrimaryAddressAreACollision() throws {
        let line = try MBusLine(.tcp, ["primary=4,id=11111111", "primary=4,id=22222222,delay=4"])
        let r = try line.read("--scan primary --addresses 3-5 --timeout 0.5")
        #expect(r.status == 76, "\(r.stderr)")
        #expect(r.stderrLines.map { $0.replacingOccurrences(of: "ami-read: \(line.source): ", with: "") }
                == ["primary address 4: several meters answer (collision)"])
    }

    @Test(arguments: MBusLine.Kind.allCases)
    func anEchoingConverterIsReadWithEcho(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        let line = try MBusLine(kind, Self.slaves, echo: true)
        let expected = try line.expected()
        let r = try line.read("--address 5 --echo --timeout 2", decode: true)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.volumes(try Self.records(r.stdout), expected[0]["meter"] as? String ?? "") == Self.expectedVolumes(expected[0]))
        let s = try line.read("--secondary 8765FFFF --echo --timeout 2", decode: true)
        #expect(s.status == 0, "\(s.stderr)")
        #expect(Self.volumes(try Self.records(s.stdout), expected[1]["meter"] as? String ?? "") == Self.expectedVolumes(expected[1]))
        // A scan within a mask that two meters match.
        let scan = try line.read("--scan secondary --secondary 1234567F --echo --timeout 0.5")
        #expect(scan.stderrLines.filter { $0.contains(": found ") }.count == 2, "\(scan.stderr)")
        // The echo is not in the output: every frame once.
        #expect(try Self.records(line.read("--address 7 --echo --timeout 2").stdout).map { $0["dir"] as? String ?? "" }
                == ["tx", "rx", "tx", "rx"])
        let unexpected = try line.read("--address 5 --timeout 1 --retries 0")
        #expect(unexpected.status == 76)
        #expect(unexpected.stderrLines == ["ami-read: \(line.source): SND_NKE to 5: the frame sent came back: the line echoes (--echo)"])
    }

    @Test(arguments: MBusLine.Kind.allCases)
    func aSilentMeterFailsWithinItsTimeout(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        let line = try MBusLine(kind, ["primary=3,id=33333333,silent", "primary=4,id=44444444"])
        let start = ContinuousClock.now
        let r = try line.read("--address 3 --timeout 0.5 --retries 1")
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(r.status == 69)
        #expect(r.stderrLines == ["ami-read: \(line.source): SND_NKE to 3: no answer within 500 ms (2 tries)"])
        #expect(try Self.records(r.stdout).map { $0["hex"] as? String ?? "" } == ["1040034316", "1040034316"])
        let nobody = try line.read("--scan primary --addresses 0-3 --timeout 0.3")
        #expect(nobody.status == 69)
        #expect(nobody.stderrLines == ["ami-read: \(line.source): primary scan 0-3: no meter found"])
    }

    @Test func theClockIsSetThenReadBack() throws {
        let line = try MBusLine(.tcp, Self.slaves)
        let r = try line.read("--address 7 --set-clock --timeout 2", decode: true)
        #expect(r.status == 0, "\(r.stderr)")
        let clock = try #require(try Self.records(r.stdout).first { $0["quantity"] as? String == "time_point" }?["time"] as? String)
        let read = try #require(ISO8601DateFormatter().date(from: clock))
        #expect(abs(read.timeIntervalSinceNow) < 180, "meter clock \(clock) after setting it")
        // SND_NKE, the SND_UD with CI 0x51 and a type F record (DIF 0x04 VIF 0x6D), then REQ_UD2.
        let tx = try Self.records(try line.read("--address 7 --set-clock --timeout 2").stdout)
            .filter { $0["dir"] as? String == "tx" }.compactMap { $0["hex"] as? String }
        #expect(tx.count == 3 && tx[1].hasPrefix("68090968730751046d"), "\(tx)")
    }

    /// A meter description (what a registry entry becomes) stands for the options, as for dlms.
    @Test func aMeterDescriptionStandsForTheOptions() throws {
        let line = try MBusLine(.tcp, Self.slaves)
        let description = line.dir.appendingPathComponent("meter.json")
        try #"{"tcp": "\#(line.connection[1])", "secondary": "ACW-8765432F-*-*", "timeout": 2, "retries": 1, "meter": "flat-12"}"#
            .write(to: description, atomically: false, encoding: .utf8)
        let r = try Binaries.shell("set -o pipefail; ami-read mbus --description \(description.path) | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.volumes(try Self.records(r.stdout), "ACW-87654321-01-16") == Self.expectedVolumes(try line.expected()[1]))
        let frames = try Self.records(try Binaries.shell("ami-read mbus --description \(description.path)").stdout)
        #expect(!frames.isEmpty && frames.allSatisfy { $0["meter"] as? String == "flat-12" })
        try #"{"tcp": "\#(line.connection[1])", "address": 251}"#.write(to: description, atomically: false, encoding: .utf8)
        let refused = try Binaries.shell("ami-read mbus --description \(description.path)")
        #expect(refused.status == 64, "\(refused.stderr)")
    }

    @Test func aRealMetersFrameDecodesAsFromTheFile() throws {
        // The first frame of the shipped libmbus samples (BSD, samples/mbus/LICENSE.libmbus).
        let sample = Binaries.packageRoot.appendingPathComponent("samples/mbus/libmbus-test-frames.hex")
        let hex = try #require(try String(contentsOf: sample, encoding: .utf8).split(separator: "\n")
            .first { !$0.hasPrefix("#") }).replacingOccurrences(of: " ", with: "")
        let line = try MBusLine(.tcp, ["primary=8,frame=\(hex)"])
        let r = try line.read("--address 8 --timeout 2", decode: true)
        #expect(r.status == 0, "\(r.stderr)")
        let file = try Binaries.shell("echo \(hex) | ami-decode --protocol mbus")
        func strip(_ s: String) throws -> [[String: String]] {
            try Self.records(s).map { r in
                r.filter { !["source", "frame", "time"].contains($0.key) }.mapValues { "\($0)" }
            }
        }
        #expect(try strip(r.stdout).filter { $0["quantity"] != "manufacturer_specific" }.count > 3)
        // The answer's A field is the primary address it was read at; everything else as captured.
        #expect(try strip(r.stdout) == (try strip(file.stdout)))
    }

    /// pyMeterBus as the master reads the harness: what it parses is what the harness says it
    /// sends, over a pty and over TCP, by primary and secondary address, with echo.
    @Test(.enabled(if: MBusLine.hasPyMeterBus, "needs .venv (scripts/python-env)"), arguments: MBusLine.Kind.allCases)
    func pyMeterBusReadsTheHarness(_ kind: MBusLine.Kind) throws {
        guard kind.available else { print("skipped: needs socat"); return }
        for echo in [false, true] {
            let line = try MBusLine(kind, Self.slaves, echo: echo)
            let expected = try line.expected()
            let connection = line.connection.prefix(2).joined(separator: " ")
            let python = MBusLine.venvPython.path
            let e = (echo ? " --echo" : "") + (kind == .serial ? " --parity N" : "")
            let primary = try Binaries.shell("\(python) peers/mbus_pymeterbus_master.py \(connection)\(e) --address 5 --telegrams 3")
            #expect(primary.status == 0, "\(primary.stdout) \(primary.stderr)")
            let telegrams = try Self.records(primary.stdout)
            #expect(telegrams.map { $0["hex"] as? String ?? "" } == expected[0]["telegrams"] as? [String])
            #expect(telegrams.allSatisfy { $0["id"] as? String == "12345678" && $0["manufacturer"] as? String == "AMI" })
            let volumes = telegrams.flatMap { t in
                (t["records"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "VIFUnit.VOLUME" }
                    .map { "\($0["storage"] as? Int ?? -1):\($0["value_shortest"] as? String ?? "?")" }
            }
            #expect(volumes == Self.expectedVolumes(expected[0]))
            let secondary = try Binaries.shell("\(python) peers/mbus_pymeterbus_master.py \(connection)\(e) --secondary 8765432177040116")
            #expect(secondary.status == 0, "\(secondary.stdout) \(secondary.stderr)")
            let t = try #require(try Self.records(secondary.stdout).first)
            #expect(t["id"] as? String == "87654321" && t["manufacturer"] as? String == "ACW")
            #expect(t["hex"] as? String == (expected[1]["telegrams"] as? [String])?.first)
        }
    }
}

extension MBusLine {
    /// The `source` of ami-read's frame records on this line.
    var source: String {
        connection[0] == "--serial" ? "serial:" + connection[1] : "tcp://" + connection[1]
    }
}
