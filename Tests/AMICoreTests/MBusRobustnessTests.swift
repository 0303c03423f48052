import Foundation
import Testing
@testable import AMICore

/// Hostile input: random bytes, and corpus frames truncated and mutated, through the whole binary
/// decode path. Nothing may trap, and nothing may be skipped without a diagnostic.
@Suite struct MBusRobustnessTests {
    /// Frames to start from: the corpus when present, else a few made here.
    static func seeds() -> [[UInt8]] {
        var out: [[UInt8]] = [
            MBusTest.variableFrame("04 13 31 D4 00 00 42 6C 9F 1C 04 6D 0B 0B CD 13 0D FD 0B 02 41 42 02 FC 03 48 52 25 74 22 15 0F 01 02"),
            MBusTest.bytes("68 13 13 68 08 05 73 78 56 34 12 0A 00 E9 7E 01 00 00 00 35 01 00 00 3C 16"),
            MBusTest.bytes("68 04 04 68 08 01 70 08 81 16"),
        ]
        if MBusTest.corpusExists {
            for folder in ["test-frames", "error-frames", "unsupported-frames"] {
                let url = MBusTest.corpus.appendingPathComponent(folder)
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
                for name in names where name.hasSuffix(".hex") {
                    if let d = FileManager.default.contents(atPath: url.appendingPathComponent(name).path) {
                        out.append(MBusTest.bytes(String(decoding: d, as: UTF8.self)))
                    }
                }
            }
        }
        return out
    }

    /// Sets a long frame's checksum right, so mutations reach the application layer.
    static func fixChecksum(_ f: inout [UInt8]) {
        guard f.count >= 9, f[0] == 0x68, Int(f[1]) + 6 == f.count else { return }
        var sum: UInt8 = 0
        for i in 4..<(f.count - 2) { sum &+= f[i] }
        f[f.count - 2] = sum
    }

    /// Decodes `input` as a binary capture and checks the diagnostics.
    static func check(_ input: [UInt8], _ label: String) {
        let sink = CollectingSink()
        var o = DecodeOptions()
        o.protocols = [.mbus]
        let s = DecodeSession(inputName: "fuzz", sourceName: "fuzz", format: .binary, options: o, sink: sink)
        s.feed(input)
        s.finish()
        for d in sink.diagnostics {
            #expect(d.error.offset >= 0 && d.error.offset <= input.count, "\(label): \(d)")
            #expect(!d.error.message.isEmpty, "\(label)")
        }
        #expect(sink.diagnostics.filter(\.skipped).count == s.skipped, "\(label)")
        // Bytes that formed no frame at all were reported.
        #expect(input.isEmpty || s.frames > 0 || !sink.diagnostics.isEmpty, "\(label): silently dropped")
        // Readings are complete.
        for r in sink.readings {
            #expect(r.storage != nil && r.tariff != nil && r.subunit != nil && r.function != nil && r.record != nil)
        }
        let w = JSONLineWriter()
        for r in sink.records { w.write(r) }
    }

    @Test func randomBytes() {
        var g = SplitMix64(state: 0x5EED)
        for i in 0..<3000 {
            let n = Int.random(in: 0...300, using: &g)
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            // Make many of them look like frames, so the decoder and not only the scanner is hit.
            if n >= 9 && i % 2 == 0 {
                bytes[0] = 0x68
                let l = UInt8(truncatingIfNeeded: min(n - 6, 255))
                bytes[1] = l; bytes[2] = l; bytes[3] = 0x68
                bytes[6] = [0x72, 0x76, 0x7A, 0x78, 0x73, 0x70][i % 6]
                let total = Int(l) + 6
                bytes = Array(bytes[0..<total])
                bytes[total - 1] = 0x16
                Self.fixChecksum(&bytes)
            }
            Self.check(bytes, "random \(i)")
        }
    }

    @Test func truncatedFrames() {
        for (k, seed) in Self.seeds().enumerated() {
            for cut in 0..<seed.count {
                Self.check(Array(seed[0..<cut]), "seed \(k) cut \(cut)")
                // Cut inside the data but with the frame closed properly around it.
                if seed.count > 9 && seed[0] == 0x68 && cut >= 7 && cut < seed.count - 2 {
                    var f = Array(seed[0..<cut]) + [0, 0x16]
                    let l = UInt8(truncatingIfNeeded: f.count - 6)
                    f[1] = l; f[2] = l
                    Self.fixChecksum(&f)
                    Self.check(f, "seed \(k) closed at \(cut)")
                }
            }
        }
    }

    @Test func mutatedFrames() {
        var g = SplitMix64(state: 0xC0FFEE)
        for (k, seed) in Self.seeds().enumerated() where seed.count > 9 {
            for m in 0..<150 {
                var f = seed
                for _ in 0..<Int.random(in: 1...4, using: &g) {
                    let at = Int.random(in: 4..<(f.count - 2), using: &g)
                    f[at] = UInt8.random(in: 0...255, using: &g)
                }
                if m % 3 != 0 { Self.fixChecksum(&f) }
                Self.check(f, "seed \(k) mutation \(m)")
                // And two frames back to back with the mutation in the first.
                Self.check(f + seed, "seed \(k) mutation \(m) + seed")
            }
        }
    }

    @Test func theFuzzTargetReplaysTheSeeds() {
        guard let target = FuzzTargets.all["mbus"] else { Issue.record("no mbus fuzz target"); return }
        for seed in Self.seeds() { target(seed) }
    }
}
