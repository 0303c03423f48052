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
