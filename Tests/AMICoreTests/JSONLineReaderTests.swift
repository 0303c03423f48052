import Foundation
import Testing
@testable import AMICore

@Suite struct JSONLineReaderTests {
    func parse(_ text: String) throws(DecodeError) -> JSONLineReader.Line {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { p throws(DecodeError) in
            try JSONLineReader.parse(UnsafeBufferPointer(p), source: "stdin")
        }
    }

    /// Every record the decoders make from the shipped samples reads back equal from its line, and
    /// writes back to the same bytes.
    @Test func decodedSamplesRoundTrip() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var total = 0
        for name in ["samples/mbus/libmbus-test-frames.hex", "samples/dsmr/p1-dsmr5-fluvius.txt", "samples/dsmr/p1-capture-am550.txt",
                     "samples/iec62056-21/meter-sim-1phase.bin", "samples/dlms/sim-wrapper-none.jsonl",
                     "samples/dlms/sim-hdlc-hls-gmac-auth-enc.jsonl"] {
            let sink = CollectingSink()
            let session = DecodeSession(inputName: name, sourceName: "file:" + name, sink: sink)
            session.feed(Array(try Data(contentsOf: root.appendingPathComponent(name))))
            session.finish()
            for record in sink.records {
                let writer = JSONLineWriter()
                writer.write(record)
                var line = writer.buffer
                line.removeLast()
                let read = try parse(String(decoding: line, as: UTF8.self))
                #expect(read == .record(record))
                guard case .record(let back) = read else { continue }
                let again = JSONLineWriter()
                again.write(back)
                #expect(again.buffer == writer.buffer)
                total += 1
            }
        }
        #expect(total > 900)
    }

    @Test func intervalAndQualityAreReadAndWritten() throws {
        let line = #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":12.50,"unit":"Wh","time":"2026-03-29T00:15:00Z","interval":900,"quality":["3.8.0","1.4.2"],"protocol":"mbus","source":"stdin","frame":3}"#
        guard case .record(.reading(let r)) = try parse(line) else { Issue.record("not a reading"); return }
        #expect(r.interval == 900)
        #expect(r.quality == [ReadingQuality(3, 8, 0), ReadingQuality(1, 4, 2)])
        #expect(r.value == .number(ExactDecimal(1250, exponent: -2)))
        let w = JSONLineWriter()
        w.write(r)
        #expect(String(decoding: w.buffer, as: UTF8.self) == line + "\n")
    }

    /// Numbers and times read by one reader line after line (plain integers and the times of a
    /// day it has seen take short cuts) equal what the general parsers make of their text, and
    /// what they refuse is refused.
    @Test func numbersAndTimesEqualTheGeneralParsersLineAfterLine() throws {
        let reader = JSONLineReader()
        let values = ["0", "7", "12", "900", "12345678901234567", "123456789012345678", "-5", "1.50", "2e3",
                      "0.0", "99999999999999999"]
        let times = ["2026-03-29T00:15:00Z", "2026-03-29T23:59:59Z", "2026-03-29T12:00:00z", "2026-03-29 06:30:00Z",
                     "2026-03-29T00:15:00.250Z", "2026-03-29T02:15:00+02:00", "2016-12-31T23:59:60Z",
                     "2026-03-30T00:00:00Z", "2026-03-29T00:15:00Z", "2026-02-28T10:00:00Z", "2024-02-29T10:00:00Z"]
        for (k, time) in (times + times.reversed()).enumerated() {
            let value = values[k % values.count]
            let line = #"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":\#(value),"time":"\#(time)","interval":900,"frame":\#(value.contains(".") || value.contains("e") || value.hasPrefix("-") ? "1" : value),"protocol":"mbus"}"#
            var bytes = Array(line.utf8)
            let read = try bytes.withUnsafeMutableBufferPointer { try reader.parse(UnsafeBufferPointer($0), source: "t") }
            guard case .record(.reading(let r)) = read else { Issue.record("not a reading: \(line)"); continue }
            #expect(r.value == .number(try #require(ExactDecimal(value))), "\(value)")
            #expect(r.time == UTCTime(iso8601: time), "\(time)")
        }
        for bad in ["2026-03-29T24:00:00Z", "2026-03-29T23:60:00Z", "2026-03-29T23:00:61Z", "2026-03-29T2x:00:00Z",
                    "2026-03-29T10:00:00X", "2026-02-30T10:00:00Z"] {
            var bytes = Array(#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"time":"\#(bad)","protocol":"mbus"}"#.utf8)
            #expect(throws: DecodeError.self, "\(bad)") {
                try bytes.withUnsafeMutableBufferPointer { try reader.parse(UnsafeBufferPointer($0), source: "t") }
            }
        }
    }

    @Test func unknownMembersOfAnyShapeAreSkipped() throws {
        let line = #"{"x":{"a":[1,{"b":null}],"c":"\"}"},"type":"event","v":1,"event":"power_low","y":[true,false,-1.5e3],"protocol":"mbus","frame":0}"#
        guard case .record(.event(let e)) = try parse(line) else { Issue.record("not an event"); return }
        #expect(e.event == "power_low")
        #expect(e.provenance.source == "stdin")
    }

    @Test func escapedStringsAreUnescaped() throws {
        guard case .record(.reading(let r)) = try parse(#"{"type":"reading","v":1,"meter":"A\"B\u00e9","quantity":"customer","text":"l1\nl2","protocol":"dsmr"}"#) else {
            Issue.record("not a reading"); return
        }
        #expect(r.meter == "A\"Bé")
        #expect(r.value == .text("l1\nl2"))
    }

    @Test func otherTypesAndBlankLinesAreTold() throws {
        #expect(try parse(#"{"type":"note","v":1,"text":"x"}"#) == .other("note"))
        #expect(try parse("   ") == .blank)
    }

    @Test(arguments: [
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":"12","protocol":"mbus"}"#, "\"value\" must be a number"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"time":"yesterday","protocol":"mbus"}"#, "\"time\" is not an ISO 8601 time: \"yesterday\""),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"storage":1.5,"protocol":"mbus"}"#, "\"storage\" must be a whole number"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","protocol":"mbus"}"#, "reading without \"value\" or \"text\""),
        (#"{"type":"reading","v":1,"quantity":"energy","value":1,"protocol":"mbus"}"#, "reading without \"meter\""),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"protocol":"zigbee"}"#, "unknown protocol \"zigbee\""),
        (#"{"type":"reading","v":2,"meter":"M"}"#, "schema version 2 is not 1"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":01,"protocol":"mbus"}"#, "leading zero in number"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1234567890123456789,"protocol":"mbus"}"#, "\"value\" has more than 18 significant digits"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"interval":0,"protocol":"mbus"}"#, "\"interval\" must be a positive number of seconds, at most a year"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"interval":99999999999,"protocol":"mbus"}"#, "\"interval\" must be a positive number of seconds, at most a year"),
        (#"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1,"quality":["3.8"],"protocol":"mbus"}"#, "\"3.8\" is not a quality code S.C.I"),
        (#"{"type":"reading","v":1,"meter":"M""#, "expected ',' or '}'"),
        (#"{"type":"reading"} x"#, "unexpected bytes after the record"),
        (#"{"v":1}"#, "not a record: no \"type\""),
    ])
    func badLinesSayWhatIsWrong(line: String, message: String) {
        do {
            _ = try parse(line)
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.message == message)
        }
    }

    /// Lines with bytes flipped, dropped, cut or repeated are read or refused, never trapped on, and
    /// what is read writes back as a line that reads the same.
    @Test func mangledLinesNeverTrap() throws {
        let lines = [
            #"{"type":"reading","v":1,"meter":"ACW-11490378-0E-16","medium":"cold_water","quantity":"volume","value":54.321,"unit":"m3","time":"2014-03-13T11:11:00Z","storage":0,"tariff":0,"subunit":0,"function":"instantaneous","record":1,"interval":900,"quality":["3.8.0"],"protocol":"mbus","source":"file:x","frame":0}"#,
            #"{"type":"event","v":1,"meter":"E1","event":"power_failure","code":"0x70","text":"a\u00e9\n","time":"2000-01-04T17:03:20.5Z","duration":237126,"protocol":"dsmr","source":"stdin","frame":0}"#,
            #"{"type":"frame","v":1,"hex":"e5","time":"2026-01-05T10:00:00+01:00","protocol":"mbus","source":"serial:/dev/ttyUSB0","dir":"rx","x":[{"y":[1,2,{"z":null}]}]}"#,
        ]
        var rng = SplitMix64(state: 0xA357_04E)
        let alphabet = Array(#"{}[]":,.-+eE0123456789\u"tnfr "#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xFF]
        var read = 0
        for _ in 0..<20_000 {
            var b = Array(lines[Int(rng.next() % UInt64(lines.count))].utf8)
            for _ in 0..<(1 + rng.next() % 4) {
                let i = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 4 {
                case 0: b[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: b.remove(at: i)
                case 2: b.removeSubrange(i...)
                default: b.insert(contentsOf: b[i..<min(b.count, i + 8)], at: i)
                }
                if b.isEmpty { break }
            }
            let reader = JSONLineReader()
            guard let line = try? b.withUnsafeBufferPointer({ p throws(DecodeError) in try reader.parse(p, source: "x") }),
                  case .record(let record) = line else { continue }
            read += 1
            let w = JSONLineWriter()
            w.write(record)
            var out = w.buffer
            out.removeLast()
            #expect(try out.withUnsafeBufferPointer { p throws(DecodeError) in try JSONLineReader().parse(p, source: "x") } == line)
        }
        #expect(read > 100)
    }

    @Test func errorOffsetsPointAtTheProblem() {
        do {
            _ = try parse(#"{"type":"reading","v":1,"meter":"M","value":x}"#)
        } catch {
            #expect(error.offset == 44)
        }
    }
}
