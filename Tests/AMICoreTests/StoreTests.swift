import Foundation
import Testing
@testable import AMICore

/// Storage: schema and migrations, idempotent and out-of-order ingest, corrections with history,
/// bad input, the registry, meter replacement, events and the frame archive.
@Suite struct StoreTests {
    static let t0 = "2026-01-05T00:15:00Z"

    @Test func aNewDatabaseIsMigratedToTheNewestSchemaOnce() throws {
        let f = try StoreFixture()
        #expect(f.store.db.userVersion == StoreSchema.version)
        #expect(try f.count("SELECT count(*) FROM quality_code") == Int64(QualityFlag.builtIn.count))
        let again = try MeterStore(path: f.path, who: "test")
        #expect(again.db.userVersion == StoreSchema.version)
        #expect(try again.db.scalar("SELECT count(*) FROM quality_code") == Int64(QualityFlag.builtIn.count))
    }

    @Test func aDatabaseOfANewerSchemaIsRefused() throws {
        let f = try StoreFixture()
        try f.store.db.setUserVersion(StoreSchema.version + 1)
        #expect(throws: StoreError.self) { try MeterStore(path: f.path, who: "test") }
    }

    @Test func theSameInputTwiceChangesNothing() throws {
        let f = try StoreFixture()
        let lines = intervalLines(start: Self.t0, values: [10, 20, nil, 40, 50]) + [
            readingLine("M2", quantity: "volume", value: "54.321", unit: "m3", time: Self.t0),
            #"{"type":"event","v":1,"meter":"M2","event":"power_low","time":"2026-01-05T00:00:00Z","protocol":"mbus","source":"test","frame":0}"#,
        ]
        let (first, _) = try f.ingest(lines)
        #expect(first.stored == 5)
        #expect(first.eventsStored == 1)
        let tables = ["meter", "channel", "reading", "reading_history", "event", "source"]
        let before = try tables.map { try f.dump($0) }
        let (second, vee) = try f.ingest(lines)
        #expect(second.stored == 0)
        #expect(second.unchanged == 5)
        #expect(second.eventsStored == 0)
        #expect(vee.channels == 0)
        #expect(try tables.map { try f.dump($0) } == before)
    }

    @Test func outOfOrderInputStoresTheSame() throws {
        let lines = intervalLines(start: Self.t0, values: [1, 2, 3, 4, 5, 6, 7, 8])
        let a = try StoreFixture(), b = try StoreFixture()
        try a.ingest(lines)
        try b.ingest(Array(lines.reversed().prefix(4)))
        try b.ingest(Array(lines.reversed().suffix(4)))
        #expect(try a.series() == b.series())
        #expect(try a.series().count == 8)
    }

    @Test func readingsOfManyMetersIntervalByIntervalStoreAsMeterByMeter() throws {
        let meters = ["M1", "M2", "M3"]
        let byMeter = meters.map { intervalLines($0, start: Self.t0, values: Array(1...8)) }
        let byInterval = (0..<8).flatMap { i in byMeter.map { $0[i] } }
        let a = try StoreFixture(), b = try StoreFixture()
        try a.ingest(byMeter.flatMap { $0 })
        try b.ingest(byInterval)
        for m in meters { #expect(try b.series(meter: m) == a.series(meter: m)) }
        #expect(try b.count("SELECT count(*) FROM channel") == 3)
        #expect(try b.count("SELECT count(*) FROM reading") == 24)

        // The preparer gives every reading of a channel the same channel object, however far apart.
        let reader = JSONLineReader()
        var preparer = IngestPreparer(options: IngestOptions())
        let channels = try byInterval.map { line -> ObjectIdentifier in
            var bytes = Array(line.utf8)
            let parsed = try bytes.withUnsafeMutableBufferPointer { try reader.parse(UnsafeBufferPointer($0), source: "t") }
            guard case .record(.reading(let r)) = parsed else { throw StoreError("not a reading: \(line)") }
            return ObjectIdentifier(preparer.prepare(r).channel)
        }
        #expect(Set(channels).count == 3)
        #expect(channels[0] == channels[3] && channels[3] == channels[21])
    }

    @Test func anActualReadingReplacesAnEstimateWhichStaysInHistory() throws {
        let f = try StoreFixture()
        let (_, vee) = try f.ingest(intervalLines(start: Self.t0, values: [100, 200, nil, 400]))
        #expect(vee.estimated == 1)
        #expect(try f.series()[2] == "2026-01-05T00:45:00Z 300 3.8.0")
        let (s, _) = try f.ingest([readingLine(value: "310", time: "2026-01-05T00:45:00Z", interval: 900)])
        #expect(s.replacedEstimates == 1)
        #expect(try f.series()[2] == "2026-01-05T00:45:00Z 310")
        #expect(try f.dump("reading_history").count == 1)
        #expect(try f.count("SELECT value FROM reading_history") == 300)
        #expect(try f.count("SELECT count(*) FROM audit WHERE action = 'replace-estimate' AND old LIKE 'value 300%' AND new = 'value 310'") == 1)
    }

    @Test func aCorrectionReplacesAndAReplayOfTheOldValueDoesNot() throws {
        let f = try StoreFixture()
        let old = readingLine(value: "1000", time: Self.t0)
        let fixed = readingLine(value: "1001", time: Self.t0)
        try f.ingest([old])
        #expect(try f.ingest([fixed]).0.corrected == 1)
        #expect(try f.ingest([old]).0.superseded == 1)
        #expect(try f.ingest([fixed]).0.unchanged == 1)
        #expect(try f.series() == ["\(Self.t0) 1001"])
        #expect(try f.count("SELECT count(*) FROM reading_history") == 1)
        #expect(try f.count("SELECT count(*) FROM audit WHERE action = 'correct' AND entity = 'reading'") == 1)
    }

    @Test func readingsAnotherProcessStoredMeanwhileAreNotStoredTwice() throws {
        // Run A knows the channel up to 00:15; run B (another connection) stores 00:30 and 00:45;
        // A's in-order rows then collide, and are compared instead.
        let f = try StoreFixture()
        try f.ingest(intervalLines(start: Self.t0, values: [1]))
        let a = Ingest(store: f.store, options: IngestOptions(), run: try f.store.beginRun(command: "a"))
        func feed(_ ingest: Ingest, _ lines: [String]) throws {
            for l in lines {
                var bytes = Array(l.utf8)
                try bytes.withUnsafeMutableBufferPointer { try ingest.ingest(line: UnsafeBufferPointer($0), source: "stdin") }
            }
            try ingest.commit()
        }
        try feed(a, intervalLines(start: Self.t0, values: [1]))
        let other = try MeterStore(path: f.path, who: "b")
        try feed(Ingest(store: other, options: IngestOptions(), run: try other.beginRun(command: "b")),
                 intervalLines(start: "2026-01-05T00:30:00Z", values: [2, 3]))
        try feed(a, intervalLines(start: "2026-01-05T00:30:00Z", values: [2, 3, 4]))
        #expect(a.summary.stored == 1)
        #expect(a.summary.unchanged == 3)
        #expect(try f.series().count == 4)
    }

    @Test func anIngestLeavesTheLogToItsCheckpointThreadAndFinishesWithSQLitesOwnAgain() throws {
        let f = try StoreFixture()
        let before = f.store.db.autocheckpoint
        #expect(before > 0)
        let ingest = Ingest(store: f.store, options: IngestOptions(), run: try f.store.beginRun(command: "a"))
        #expect(f.store.db.autocheckpoint == 0)
        for l in intervalLines(start: Self.t0, values: Array(1...200)) {
            var bytes = Array(l.utf8)
            try bytes.withUnsafeMutableBufferPointer { try ingest.ingest(line: UnsafeBufferPointer($0), source: "stdin") }
            try ingest.commit()
        }
        try ingest.finish()
        #expect(f.store.db.autocheckpoint == before)
        #expect(ingest.summary.stored == 200)
        #expect(try f.series().count == 200)
        #expect(try f.store.db.integrityCheck() == ["ok"])
    }

    @Test func theAuditLogNamesTheUserAndTheDatabaseTheEnvironmentSays() {
        #expect(MeterStore.user(environment: ["AMI_USER": "ops", "USER": "me"]) == "ops")
        #expect(MeterStore.user(environment: ["USER": "me"]) == "me")
        #expect(!MeterStore.user(environment: [:]).isEmpty)
        #expect(MeterStore.path(option: "a.db", environment: ["AMI_DB": "b.db"]) == "a.db")
        #expect(MeterStore.path(option: nil, environment: ["AMI_DB": "b.db"]) == "b.db")
        #expect(MeterStore.path(option: nil, environment: [:]) == nil)
    }

    @Test func theSameKeyTwiceInOneBatchIsAComparisonNotACollision() throws {
        let f = try StoreFixture()
        let lines = [readingLine(value: "1", time: Self.t0), readingLine(value: "1", time: Self.t0),
                     readingLine(value: "2", time: Self.t0)]
        let (s, _) = try f.ingest(lines, chunkSize: 100)
        #expect(s.stored == 1)
        #expect(s.unchanged == 1)
        #expect(s.corrected == 1)
        #expect(try f.series() == ["\(Self.t0) 2"])
        // And again: the replay of 1 is old data, 2 is there.
        let (again, _) = try f.ingest(lines, chunkSize: 100)
        #expect(again.superseded == 2)
        #expect(again.unchanged == 1)
    }

    @Test func sameNumberWithOtherDigitsIsUnchanged() throws {
        let f = try StoreFixture()
        try f.ingest([readingLine(value: "2.30", unit: "m3", time: Self.t0)])
        #expect(try f.ingest([readingLine(value: "2.3", unit: "m3", time: Self.t0)]).0.unchanged == 1)
    }

    @Test func valuesAreStoredAsIntegersWithTheChannelsExponent() throws {
        let f = try StoreFixture()
        try f.ingest([readingLine(quantity: "volume", value: "54.321", unit: "m3", time: Self.t0),
                      readingLine(quantity: "volume", value: "55", unit: "m3", time: at(Self.t0, plusMinutes: 15)),
                      readingLine(quantity: "volume", value: "55.0001", unit: "m3", time: at(Self.t0, plusMinutes: 30))])
        #expect(try f.dump("reading").map { $0.split(separator: "|").prefix(4).joined(separator: "|") } == [
            "1|1767572100000|54321|-3", "1|1767573000000|55000|-3", "1|1767573900000|550001|-4",
        ])
        #expect(try f.count("SELECT count(*) FROM reading WHERE typeof(value) NOT IN ('integer', 'null')") == 0)
        #expect(try f.series("volume") == ["\(Self.t0) 54.321", "2026-01-05T00:30:00Z 55.000", "2026-01-05T00:45:00Z 55.0001"])
    }

    @Test func unknownMetersAreRegisteredOrRejected() throws {
        let f = try StoreFixture()
        try f.ingest([readingLine("KNOWN", value: "1", time: Self.t0)])
        let (s, _) = try f.ingest([readingLine("KNOWN", value: "2", time: at(Self.t0, plusMinutes: 15)),
                                   readingLine("STRANGER", value: "1", time: Self.t0)], unknownMeters: .reject)
        #expect(s.rejected == 1)
        #expect(f.rejected == [#"2: unknown meter "STRANGER" (not in the registry; --unknown-meters register adds it)"#])
        #expect(try f.count("SELECT count(*) FROM meter") == 1)
        #expect(try f.series().count == 2)
        #expect(try f.count("SELECT count(*) FROM audit WHERE action = 'register' AND key = 'KNOWN'") == 1)
    }

    @Test func aTimeFarInTheFutureIsRefusedAndTheRestKept() throws {
        let f = try StoreFixture()
        let (s, _) = try f.ingest([readingLine(value: "1", time: "2026-12-01T23:00:00Z"),
                                   readingLine(value: "2", time: "2026-12-03T00:00:00Z")])
        #expect(s.stored == 1)
        #expect(f.rejected == ["2: time 2026-12-03T00:00:00Z is more than 86400 s in the future"])
    }

    @Test func undatedRecordsAreCountedNotStoredUnlessGivenAReadTime() throws {
        let f = try StoreFixture()
        let undated = #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":5,"unit":"Wh","protocol":"iec62056-21","source":"test","frame":0}"#
        #expect(try f.ingest([undated]).0.undated == 1)
        #expect(try f.series().isEmpty)
        try f.ingest([undated], readTime: UTCTime(iso8601: Self.t0))
        #expect(try f.series() == ["\(Self.t0) 5"])
    }

    @Test func aMalformedLineIsRefusedWithItsOffsetAndNothingElseLost() throws {
        let f = try StoreFixture()
        let (s, _) = try f.ingest([readingLine(value: "1", time: Self.t0), #"{"type":"reading","v":1,"meter":7}"#,
                                   readingLine(value: "2", time: at(Self.t0, plusMinutes: 15))])
        #expect(f.rejected == [#"2: byte 32: json: "meter" must be a string"#])
        #expect(s.stored == 2)
    }

    @Test func eventsAndFramesAreStoredOnceAndQueriedBack() throws {
        let f = try StoreFixture()
        let event = #"{"type":"event","v":1,"meter":"E1","event":"power_failure","time":"2026-01-04T17:03:20Z","duration":237,"protocol":"dsmr","source":"test","frame":2}"#
        let frame = #"{"type":"frame","v":1,"hex":"e5","time":"2026-01-05T10:00:00Z","protocol":"mbus","source":"serial:/dev/ttyUSB0","dir":"rx"}"#
        try f.ingest([event, frame, event, frame])
        #expect(try f.count("SELECT count(*) FROM event") == 1)
        #expect(try f.count("SELECT count(*) FROM frame") == 1)
        let writer = JSONLineWriter()
        for r in try f.query(kinds: [.event, .frame]) { writer.write(r) }
        #expect(String(decoding: writer.buffer, as: UTF8.self) == event + "\n" + frame + "\n")
    }

    @Test func framesOlderThanTheRetentionArePruned() throws {
        let f = try StoreFixture()
        try f.ingest([#"{"type":"frame","v":1,"hex":"e5","dir":"rx"}"#], now: UTCTime(iso8601: "2026-01-01T00:00:00Z")!)
        try f.ingest([#"{"type":"frame","v":1,"hex":"e6","dir":"rx"}"#], now: UTCTime(iso8601: "2026-03-20T00:00:00Z")!)
        try f.store.setSetting("frame_retention_days", "30")
        #expect(try f.store.pruneFrames(now: UTCTime(iso8601: "2026-04-01T00:00:00Z")!) == 1)
        #expect(try f.count("SELECT count(*) FROM frame") == 1)
        #expect(try f.count("SELECT count(*) FROM audit WHERE entity = 'setting' AND old = '90' AND new = '30'") == 1)
    }

    @Test func aReplacementMeterContinuesTheChannelHistory() throws {
        let f = try StoreFixture()
        try f.ingest(intervalLines("OLD", start: Self.t0, values: [5, 6, 7]))
        try f.store.replaceMeter(old: "OLD", new: "NEW", at: UTCTime(iso8601: "2026-01-05T00:45:00Z")!, run: nil)
        try f.ingest(intervalLines("NEW", start: "2026-01-05T01:00:00Z", values: [8, 9]))
        #expect(try f.series(meter: "NEW") == [
            "2026-01-05T00:15:00Z 5", "2026-01-05T00:30:00Z 6", "2026-01-05T00:45:00Z 7", "2026-01-05T01:00:00Z 8",
            "2026-01-05T01:15:00Z 9",
        ])
        #expect(try f.count("SELECT count(*) FROM channel n JOIN channel o ON o.id = n.continues") == 1)
        let old = try f.store.meters(identity: "OLD").first
        #expect(old?.status == "removed")
        #expect(try f.store.meters(identity: "NEW").first?.replaces == "OLD")
        // The old meter's readings after its removal are usage on an inactive meter.
        let (_, vee) = try f.ingest(intervalLines("OLD", start: "2026-01-05T01:00:00Z", values: [3]))
        #expect(vee.flagged["inactive-meter"] == 1)
    }

    @Test func theRegistryRoundTripsThroughCSVAndJSONLines() throws {
        let f = try StoreFixture()
        let nodes = "path,level\nACME,company\nACME/North,region\n\"ACME/North/Utrecht, centre\",district\n"
        let meters = """
            meter,protocol,address,medium,multiplier,installed,removed,status,node,replaces,group,read
            M1,mbus,5,water,1,2020-01-01T00:00:00Z,,active,ACME/North,,north;bus 7,"{""address"":5,""timeout"":3}"
            M2,dsmr,,electricity,40,2021-06-01T00:00:00Z,,inactive,"ACME/North/Utrecht, centre",M1,,

            """
        var problems: [String] = []
        #expect(try f.store.importRegistry(nodes, format: .csv, run: nil) { problems.append("\($0): \($1)") } == 3)
        #expect(try f.store.importRegistry(meters, format: .csv, run: nil) { problems.append("\($0): \($1)") } == 2)
        #expect(problems.isEmpty)
        #expect(try f.store.exportRegistry(format: .csv, nodes: true, meters: false) == nodes)
        #expect(try f.store.exportRegistry(format: .csv, nodes: false, meters: true) == meters)
        let jsonl = try f.store.exportRegistry(format: .jsonl, nodes: true, meters: true)
        let g = try StoreFixture()
        _ = try g.store.importRegistry(jsonl, format: .jsonl, run: nil) { problems.append("\($0): \($1)") }
        #expect(problems.isEmpty)
        #expect(try g.store.exportRegistry(format: .jsonl, nodes: true, meters: true) == jsonl)
        // What ami-read fleet reads: the groups and the options of the meter's protocol.
        #expect(jsonl.contains(#""group":["north","bus 7"],"read":{"address":5,"timeout":3}}"#), "\(jsonl)")
        // Importing the same again changes nothing; a change is audited field by field.
        #expect(try f.store.importRegistry(meters, format: .csv, run: nil) { _, _ in } == 0)
        _ = try f.store.importRegistry(meters.replacingOccurrences(of: "M1,mbus,5", with: "M1,mbus,6"), format: .csv, run: nil) { _, _ in }
        #expect(try f.count("SELECT count(*) FROM audit WHERE action = 'update' AND key = 'M1' AND old = 'address=5' AND new = 'address=6'") == 1)
    }

    @Test func badRegistryRecordsAreReportedWithTheirLine() throws {
        let f = try StoreFixture()
        var problems: [String] = []
        let text = """
            {"type":"node","v":1,"path":"A/B","level":"region"}
            {"type":"meter","v":1,"meter":"M1","status":"gone"}
            {"type":"meter","v":1,"meter":"M2","installed":"soon"}
            {"type":"meter","v":1,"meter":"M3"}
            """
        #expect(try f.store.importRegistry(text, format: .jsonl, run: nil) { problems.append("\($0): \($1)") } == 1)
        #expect(problems == [#"1: node "A/B": its parent "A" is not in the hierarchy"#,
                             #"2: status "gone" is not active, inactive or removed"#,
                             #"3: installed "soon" is not an ISO 8601 time"#])
    }

    @Test func queryFiltersByNodeQuantityAndTime() throws {
        let f = try StoreFixture()
        _ = try f.store.importRegistry("path,level\nA,company\nA/B,region\nC,company\n", format: .csv, run: nil) { _, _ in }
        _ = try f.store.importRegistry("meter,node\nM1,A/B\nM2,C\n", format: .csv, run: nil) { _, _ in }
        try f.ingest(intervalLines("M1", start: Self.t0, values: [1, 2, 3]) + intervalLines("M2", start: Self.t0, values: [4])
                     + [readingLine("M1", quantity: "volume", value: "1", unit: "m3", time: Self.t0)])
        var q = QueryFilter()
        q.node = "A"
        q.quantities = ["energy"]
        q.from = UTCTime(iso8601: "2026-01-05T00:30:00Z")
        q.to = UTCTime(iso8601: "2026-01-05T00:45:00Z")
        var got: [Record] = []
        try f.store.query(q) { got.append($0) }
        #expect(got.count == 1)
        if case .reading(let r) = got.first { #expect(r.value == .number(ExactDecimal(2))) }
    }
}
