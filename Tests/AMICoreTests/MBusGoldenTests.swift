import Foundation
import Testing
@testable import AMICore

/// The JSON lines of a few of the shipped sample frames (samples/mbus/libmbus-test-frames.hex),
/// byte for byte: quantity names, notes, units, times and field order. Regenerate the fixture with
/// `AMI_UPDATE_GOLDEN=1 swift test --filter MBusGoldenTests` after a deliberate change, and review
/// the diff.
@Suite struct MBusGoldenTests {
    static let samples = MBusTest.packageRoot.appendingPathComponent("samples/mbus/libmbus-test-frames.hex")
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/mbus/libmbus-samples-golden.jsonl")
    /// ACW (basics), ELV (plain-text units, VIFE scaling), LGB (type I date, text fabrication number),
    /// REL (invalid date, future value, manufacturer data), manual_frame2 (fixed data structure),
    /// sen_pollutherm (reserved VIF).
    static let frames: Set<Int> = [0, 3, 5, 6, 30, 41]

    @Test(.enabled(if: FileManager.default.fileExists(atPath: samples.path)))
    func sampleFramesDecodeToTheGoldenLines() throws {
        let input = [UInt8](try Data(contentsOf: Self.samples))
        let sink = CollectingSink()
        var o = DecodeOptions()
        o.protocols = [.mbus]
        let session = DecodeSession(inputName: "samples/mbus/libmbus-test-frames.hex",
                                    sourceName: "file:samples/mbus/libmbus-test-frames.hex", format: .hex,
                                    options: o, sink: sink)
        session.feed(input)
        session.finish()
        #expect(sink.diagnostics.isEmpty, "\(sink.diagnostics)")
        #expect(session.frames == 47)
        let w = JSONLineWriter()
        for r in sink.records {
            let frame: Int
            switch r {
            case .reading(let x): frame = x.provenance.frame
            case .event(let e): frame = e.provenance.frame
            case .frame: continue
            }
            if Self.frames.contains(frame) { w.write(r) }
        }
        if ProcessInfo.processInfo.environment["AMI_UPDATE_GOLDEN"] == "1" {
            try Data(w.buffer).write(to: Self.golden)
        }
        let expected = String(decoding: try Data(contentsOf: Self.golden), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        let got = String(decoding: w.buffer, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(got.count == expected.count)
        for (i, (g, e)) in zip(got, expected).enumerated() where g != e {
            Issue.record("line \(i + 1) differs:\n  got      \(g)\n  expected \(e)")
        }
    }
}
