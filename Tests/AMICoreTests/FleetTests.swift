import AMICLI
import AMICore
import Foundation
import Synchronization
import Testing

@Suite struct FleetRegistryTests {
    static func parse(_ line: String) throws -> FleetMeter? {
        try Array(line.utf8).withUnsafeBufferPointer {
            try FleetRegistry.meter(line: $0, origin: "reg.jsonl:1", folder: "/etc/ami/")
        }
    }

    @Test func aMeterRecordGivesTheArgumentsOfItsProtocol() throws {
        let m = try #require(try Self.parse(#"{"type":"meter","v":1,"meter":"M7","protocol":"dlms","address":"tcp://10.0.0.7:4059","group":["north","hls"],"node":"ACME/North","read":{"auth":"hls-gmac","key-file":"m7.keys","get":["1-0:1.8.0*255","1-0:2.8.0*255"],"clock":true}}"#))
        #expect(m.groups == ["north", "hls"])
        #expect(m.arguments(["--disconnect"]) == ["--tcp", "10.0.0.7:4059", "--meter", "M7", "--auth", "hls-gmac", "--clock",
                                                  "--get", "1-0:1.8.0*255", "--get", "1-0:2.8.0*255",
                                                  "--key-file", "/etc/ami/m7.keys", "--disconnect"])
        let serial = try #require(try Self.parse(#"{"type":"meter","v":1,"meter":"W1","protocol":"mbus","address":"serial:/dev/ttyUSB0"}"#))
        #expect(serial.arguments() == ["--serial", "/dev/ttyUSB0", "--meter", "W1"])
    }

    @Test(arguments: [
        (#"{"type":"node","v":1,"path":"ACME","level":"company"}"#, nil),
        (#"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://h:1","status":"removed"}"#, nil),
        (#"{"type":"meter","v":1,"meter":"M1","address":"tcp://h:1"}"#, "M1: no \"protocol\""),
        (#"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"h:1"}"#, "M1: \"address\" is tcp://HOST:PORT or serial:DEVICE"),
        (#"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://h:1","read":{"tcp":"x:1"}}"#,
         "M1: \"read\" cannot set tcp (it comes from \"address\" and \"meter\")"),
        (#"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://h:1","read":{"get":[["x"]]}}"#,
         "M1: read: --get: nested arrays are not options"),
        (#"{"type":"meter","v":1,"meter":"M1","protocol":"dlms","address":"tcp://h:1","group":7}"#, "M1: \"group\" is a string or strings"),
        (#"{"type":"meter","v":1,"protocol":"dlms","address":"tcp://h:1"}"#, "a meter without \"meter\""),
        (#"["meter"]"#, "not a JSON object"),
    ] as [(String, String?)])
    func recordsThatAreNotReadOrAreRefused(line: String, message: String?) throws {
        do {
            let m = try Self.parse(line)
            #expect(message == nil && m == nil, "read \(String(describing: m))")
        } catch {
            #expect("\(error)" == message ?? "no error", "\(line)")
        }
    }

    /// Every meter is in exactly one shard, whatever N, and shards are about even.
    @Test func shardsPartitionTheFleet() {
        let ids = (0..<3000).map { "MTR-\($0)" }
        for n in 1...7 {
            var sizes = [Int](repeating: 0, count: n)
            for id in ids {
                var selection = FleetSelection()
                let m = FleetMeter(id: id, protocolName: "dlms", address: "tcp://h:1", groups: [], node: nil, options: [], origin: "")
                let hits = (1...n).filter { k in
                    selection.shard = (k, n)
                    return selection.includes(m)
                }
                #expect(hits.count == 1)
                sizes[hits[0] - 1] += 1
            }
            #expect(sizes.allSatisfy { abs($0 - ids.count / n) < ids.count / n / 5 }, "\(sizes)")
        }
        #expect(FleetSelection.parseShard("2/3")! == (2, 3))
        #expect(FleetSelection.parseShard("0/3") == nil && FleetSelection.parseShard("4/3") == nil && FleetSelection.parseShard("1") == nil)
    }

    @Test func groupsMatchTheGroupOrTheNodeAndBelow() {
        var s = FleetSelection()
        s.groups = ["ACME/North", "hls"]
        func meter(_ groups: [String], _ node: String?) -> FleetMeter {
            FleetMeter(id: "M", protocolName: "dlms", address: "tcp://h:1", groups: groups, node: node, options: [], origin: "")
        }
        #expect(s.includes(meter([], "ACME/North")))
        #expect(s.includes(meter([], "ACME/North/Feeder 7")))
        #expect(!s.includes(meter([], "ACME/Northeast")))
        #expect(s.includes(meter(["hls"], nil)))
        #expect(!s.includes(meter(["south"], "ACME/South")))
    }
}

@Suite struct FleetRunTests {
    /// Sessions run at most `concurrency` at once, the meters behind one address one at a time,
    /// and every job ends in one outcome, failed ones with their last diagnostic.
    @Test func concurrencyIsBoundedAndAnAddressIsReadOneAtATime() throws {
        struct Counts { var active = 0, peak = 0, perAddress: [String: Int] = [:], addressPeak = 0 }
        let counts = Mutex(Counts())
        let jobs = (0..<40).map { i in
            FleetJob(meter: FleetMeter(id: "M\(i)", protocolName: i == 7 ? "nothing" : "fake", address: "tcp://gw\(i % 10):1",
                                       groups: [], node: nil, options: [], origin: "reg:\(i + 1)"))
        }
        let null = open("/dev/null", O_WRONLY)
        defer { close(null) }
        let outcomes = ReadFleet.run(jobs, concurrency: 4, diagnostics: Diagnostics(program: "test"), outputFD: null) { name, args in
            guard name == "fake" else { throw SessionError(description: "no such protocol") }
            let address = args[1]
            return { output in
                counts.withLock { c in
                    c.active += 1
                    c.peak = max(c.peak, c.active)
                    c.perAddress[address, default: 0] += 1
                    c.addressPeak = max(c.addressPeak, c.perAddress[address]!)
                }
                usleep(5_000)
                counts.withLock { c in
                    c.active -= 1
                    c.perAddress[address]! -= 1
                }
                if args[3] == "M13" {
                    output.diagnostics.report("M13", "timed out")
                    return .unavailable
                }
                return ExitStatus.ok
            }
        }
        let c = counts.withLock { $0 }
        #expect(c.peak == 4)
        #expect(c.addressPeak == 1)
        #expect(outcomes.count == 40)
        let failed = outcomes.filter { $0.status != .ok }.sorted { $0.job.meter.id < $1.job.meter.id }
        #expect(failed.map { "\($0.job.meter.id) \($0.status.rawValue) \($0.reason ?? "")" }
                == ["M13 69 timed out", "M7 78 no such protocol"])
        #expect(ReadFleet.summary(outcomes, seconds: 1.26, concurrency: 4)
                == "40 sessions: 38 ok, 2 failed (exit 69 ×1, exit 78 ×1) in 1.3 s, concurrency 4")
    }

    struct SessionError: Error, CustomStringConvertible {
        var description: String
    }

    @Test func aSecondRunOfTheSameFleetFindsTheLockHeld() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-\(UUID().uuidString).lock").path
        defer { unlink(path) }
        let first = try FileLock(path: path)
        do {
            _ = try FileLock(path: path)
            Issue.record("took a held lock")
        } catch {
            #expect(error.description == "\(path): held by another run (pid \(getpid()))")
        }
        first.release()
        _ = try FileLock(path: path)
    }
}
