import Foundation
import Testing

/// Meters that fail as real ones do (peers/faulty_meters.py): one that never answers (or a
/// half-open connection), one whose connection vanishes in the middle of an answer.
final class FaultyMeters {
    let process = Process()
    let ports: [UInt16]

    init(_ modes: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Binaries.packageRoot.appendingPathComponent("peers/faulty_meters.py").path] + modes
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let d = pipe.fileHandleForReading.availableData
            guard !d.isEmpty else { break }
            line += d
        }
        ports = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).dropFirst().compactMap { UInt16($0) }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite(.enabled(if: DLMSSimulator.available, "needs ../shared/peers/dlms and .venv-dlms (scripts/test makes it)"))
struct FleetReadTests {
    /// A registry of four simulated DLMS meters and three that fail: each meter is read once,
    /// each failure is reported for its meter within its timeout, and the run goes on; the frames
    /// decode into every live meter's readings.
    @Test func aFleetRunReadsEveryMeterAndGoesOnPastFailures() throws {
        let sim = try DLMSSimulator(["--count", "4"])
        let faults = try FaultyMeters(["silent", "vanish"])
        try #require(faults.ports.count == 2)
        let refused = try DLMSSimulator.freePort()
        let (_, state) = try DLMSMeterTests.workspace()
        let folder = URL(fileURLWithPath: state).deletingLastPathComponent()
        var lines: [String] = []
        for i in 0..<4 {
            lines.append(#"{"type":"meter","v":1,"meter":"SIM\#(i)","protocol":"dlms","address":"tcp://127.0.0.1:\#(Int(sim.port) + i)","group":"\#(i % 2 == 0 ? "even" : "odd")","read":{"get":["1-0:1.8.0*255"],"clock":true,"timeout":3}}"#)
        }
        lines.append(#"{"type":"meter","v":1,"meter":"SILENT","protocol":"dlms","address":"tcp://127.0.0.1:\#(faults.ports[0])"}"#)
        lines.append(#"{"type":"meter","v":1,"meter":"VANISH","protocol":"dlms","address":"tcp://127.0.0.1:\#(faults.ports[1])","read":{"timeout":1}}"#)
        lines.append(#"{"type":"meter","v":1,"meter":"GONE","protocol":"dlms","address":"tcp://127.0.0.1:\#(refused)","read":{"timeout":1}}"#)
        lines.append(#"{"type":"meter","v":1,"meter":"OLD","protocol":"dlms","address":"tcp://127.0.0.1:\#(refused)","status":"removed"}"#)
        let registry = folder.appendingPathComponent("meters.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: registry, atomically: false, encoding: .utf8)

        let r = try Binaries.shell("AMI_STATE_DIR=\(state) ami-read fleet --concurrency 8 --timeout 1 \(registry.path) | ami-decode; echo \"status ${PIPESTATUS[0]}\" >&2")
        #expect(r.stderrLines.last == "status 69", "\(r.stderr)")
        let records = try DLMSMeterTests.readings(r.stdout)
        let sessions = records.filter { $0["type"] as? String == "session" }
        #expect(Set(sessions.compactMap { $0["meter"] as? String }) == ["SIM0", "SIM1", "SIM2", "SIM3", "SILENT", "VANISH", "GONE"])
        #expect(sessions.count == 7)
        for s in sessions {
            let failed = ["SILENT", "VANISH", "GONE"].contains(s["meter"] as? String)
            #expect(s["result"] as? String == (failed ? "failed" : "ok"), "\(s)")
            if failed {
                #expect(s["exit"] as? Int == 69, "\(s)")
                #expect((s["reason"] as? String)?.isEmpty == false)
                // Within the meter's timeout (1 s per attempt, the fleet's --timeout for SILENT; 3
                // attempts) and a margin.
                #expect((s["duration_ms"] as? Int ?? .max) < 6_000, "\(s)")
            }
        }
        for i in 0..<4 {
            let meter = records.filter { $0["type"] as? String == "reading" && $0["source"] as? String == "tcp://127.0.0.1:\(Int(sim.port) + i)" }
            #expect(meter.contains { $0["obis"] as? String == "1-0:1.8.0*255" }, "SIM\(i)")
            #expect(meter.contains { $0["quantity"] as? String == "clock" }, "SIM\(i)")
        }
        for name in ["SILENT", "VANISH", "GONE"] {
            #expect(r.stderrLines.contains { $0.hasPrefix("ami-read: \(name): ") }, "\(r.stderr)")
        }
        #expect(r.stderrLines.contains { $0.hasPrefix("ami-read: fleet: 7 sessions: 4 ok, 3 failed (exit 69 ×3) in ") })

        // A group, and shards that split the fleet between hosts without overlap.
        let odd = try Binaries.shell("AMI_STATE_DIR=\(state) ami-read fleet --group odd \(registry.path)")
        #expect(odd.status == 0, "\(odd.stderr)")
        #expect(!odd.stdout.contains("\n\n") && odd.stdout.last == "\n")
        #expect(try DLMSMeterTests.readings(odd.stdout).filter { $0["type"] as? String == "session" }.count == 2)
        var sharded: [String] = []
        for k in 1...3 {
            let s = try Binaries.shell("AMI_STATE_DIR=\(state) ami-read fleet --shard \(k)/3 --group even --group odd \(registry.path)")
            sharded += try DLMSMeterTests.readings(s.stdout).filter { $0["type"] as? String == "session" }.compactMap { $0["meter"] as? String }
        }
        #expect(sharded.sorted() == ["SIM0", "SIM1", "SIM2", "SIM3"])
    }

    /// One registry of every protocol ami-read speaks, each meter on its real peer: a DLMS meter,
    /// an SDM630 over Modbus TCP, an IEC 62056-21 meter behind a TCP gateway and two M-Bus meters
    /// behind one M-Bus gateway (read one after the other). Then `exec` sets the M-Bus meters'
    /// clocks and refuses a disconnect M-Bus cannot do.
    @Test(.enabled(if: ModbusSimulator.available && IECSimulator.available && MBusLine.hasPython, "needs the Modbus and IEC simulators (../shared, .venv)"))
    func aFleetOfEveryProtocolIsReadInOneRun() throws {
        let dlms = try DLMSSimulator([])
        let modbus = try ModbusSimulator()
        let iec = try IECSimulator(.tcp, ["--address", "12345678", "--ack-delay", "0.2"])
        let mbus = try MBusLine(.tcp, MBusReadTests.slaves)
        let (_, state) = try DLMSMeterTests.workspace()
        let folder = URL(fileURLWithPath: state).deletingLastPathComponent()
        let registry = folder.appendingPathComponent("meters.jsonl")
        let gateway = "tcp://" + mbus.connection[1]
        try """
            {"type":"meter","v":1,"meter":"E1","protocol":"dlms","address":"tcp://127.0.0.1:\(dlms.port)","read":{"get":["1-0:1.8.0*255"]}}
            {"type":"meter","v":1,"meter":"SDM","protocol":"modbus","address":"tcp://127.0.0.1:\(modbus.port)","read":{"profile":"sdm630"}}
            {"type":"meter","v":1,"meter":"IEC","protocol":"iec62056-21","address":"tcp://\(iec.client[1])","read":{"address":"12345678"}}
            {"type":"meter","v":1,"meter":"W5","protocol":"mbus","address":"\(gateway)","read":{"address":5}}
            {"type":"meter","v":1,"meter":"W7","protocol":"mbus","address":"\(gateway)","read":{"address":7}}

            """.write(to: registry, atomically: false, encoding: .utf8)
        let r = try Binaries.shell("set -o pipefail; AMI_STATE_DIR=\(state) ami-read fleet --timeout 3 \(registry.path) | ami-decode")
        #expect(r.status == 0, "\(r.stderr)")
        let records = try DLMSMeterTests.readings(r.stdout)
        let sessions = records.filter { $0["type"] as? String == "session" }
        #expect(Set(sessions.compactMap { $0["meter"] as? String }) == ["E1", "SDM", "IEC", "W5", "W7"])
        #expect(sessions.allSatisfy { $0["result"] as? String == "ok" }, "\(sessions)")
        for p in ["dlms", "modbus", "iec62056-21", "mbus"] {
            #expect(records.contains { $0["type"] as? String == "reading" && $0["protocol"] as? String == p }, "\(p)")
        }
        #expect(records.contains { $0["quantity"] as? String == "energy" && $0["protocol"] as? String == "modbus" && ($0["value"] as? NSNumber)?.stringValue == "12345678" })
        #expect(records.filter { $0["type"] as? String == "reading" && $0["source"] as? String == gateway && $0["quantity"] as? String == "volume" }.count >= 2)
        #expect(r.stderrLines.last?.hasPrefix("ami-read: fleet: 5 sessions: 5 ok, 0 failed in ") == true, "\(r.stderr)")

        let commands = folder.appendingPathComponent("commands.jsonl")
        try """
            {"type":"command","v":1,"command":"set_clock","meter":"W5"}
            {"type":"command","v":1,"command":"disconnect","meter":"W7"}

            """.write(to: commands, atomically: false, encoding: .utf8)
        let e = try Binaries.shell("ami-read exec --registry \(registry.path) --timeout 3 \(commands.path); echo \"status $?\" >&2")
        let outcomes = try DLMSMeterTests.readings(e.stdout).filter { $0["type"] as? String == "session" }
        #expect(outcomes.map { "\($0["meter"]!) \($0["command"]!) \($0["result"]!) \($0["exit"]!)" }.sorted()
                == ["W5 set_clock ok 0", "W7 disconnect failed 78"], "\(e.stderr)")
        #expect(e.stderrLines.last == "status 78")
    }

    /// The registry kept in the store: imported with each meter's groups and read options, exported
    /// again and read as it is.
    @Test func theRegistryCanComeFromTheStore() throws {
        let sim = try DLMSSimulator(["--count", "2"])
        let (_, state) = try DLMSMeterTests.workspace()
        let folder = URL(fileURLWithPath: state).deletingLastPathComponent()
        let db = folder.appendingPathComponent("ami.db").path
        let registry = (0..<2).map { i in
            #"{"type":"meter","v":1,"meter":"SIM\#(i)","protocol":"dlms","address":"tcp://127.0.0.1:\#(Int(sim.port) + i)","group":"g\#(i)","read":{"get":["1-0:1.8.0*255"],"timeout":3}}"#
        }.joined(separator: "\n") + "\n"
        try registry.write(to: folder.appendingPathComponent("meters.jsonl"), atomically: false, encoding: .utf8)
        let r = try Binaries.shell("""
            set -o pipefail
            ami-store registry import --db \(db) \(folder.path)/meters.jsonl &&
            ami-store registry export --db \(db) --format jsonl |
              AMI_STATE_DIR=\(state) ami-read fleet --group g1 | ami-decode | ami-store ingest --db \(db) &&
            ami-store query --db \(db)
            """)
        #expect(r.status == 0, "\(r.stderr)")
        // Group g1 is the second meter only; its readings are stored under its logical device name.
        let readings = try DLMSMeterTests.readings(r.stdout)
        #expect(readings.contains { $0["obis"] as? String == "1-0:1.8.0*255" && $0["source"] as? String == "tcp://127.0.0.1:\(Int(sim.port) + 1)" },
                "\(r.stdout)")
        #expect(!readings.contains { $0["source"] as? String == "tcp://127.0.0.1:\(sim.port)" })
        #expect(r.stderr.contains("ami-read: fleet: 1 sessions: 1 ok, 0 failed in "), "\(r.stderr)")
    }

    /// An overlapping cron run of the same fleet finds the lock held, says so and exits 75
    /// without reading; the lock goes with the process that held it.
    @Test func anOverlappingRunStopsAtTheLock() throws {
        let (_, state) = try DLMSMeterTests.workspace()
        let folder = URL(fileURLWithPath: state).deletingLastPathComponent()
        let registry = folder.appendingPathComponent("meters.jsonl")
        try #"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://127.0.0.1:1"}"#.write(to: registry, atomically: false, encoding: .utf8)
        let lock = folder.appendingPathComponent("fleet.lock").path
        let r = try Binaries.shell("exec 9>\(lock); flock -n 9 && ami-read fleet --lock \(lock) \(registry.path); echo \"status $?\" >&2")
        #expect(r.stdout == "")
        #expect(r.stderrLines == ["ami-read: \(lock): held by another run", "status 75"])
        let after = try Binaries.shell("ami-read fleet --lock \(lock) \(registry.path) >/dev/null; echo \"status $?\" >&2")
        #expect(after.stderrLines.last == "status 69", "\(after.stderr)")
    }
}
