import Foundation
import Testing
@testable import AMICore

/// Replays every input the fuzzers ever crashed on (`fuzz/crashes/TARGET/`), and the shipped samples,
/// through every fuzz target: none may trap.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func files(under folder: String) -> [URL] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true && $0.lastPathComponent != ".gitkeep"
        }
    }

    @Test func crashFixturesNoLongerCrash() throws {
        for file in Self.files(under: "fuzz/crashes") {
            let target = file.deletingLastPathComponent().lastPathComponent
            let run = try #require(FuzzTargets.all[target], "fuzz/crashes/\(target) names no fuzz target")
            run([UInt8](try Data(contentsOf: file)))
        }
    }

    @Test(arguments: FuzzTargets.all.keys.sorted())
    func samplesPassEveryTarget(target: String) throws {
        for file in Self.files(under: "samples") {
            FuzzTargets.all[target]!([UInt8](try Data(contentsOf: file)))
        }
    }

    /// The seed corpora `fuzz/run` starts from (built by `fuzz/make_seeds.py` from ../shared/corpus
    /// when present, the samples and fuzz/crashes), each replayed through its target: the brief
    /// fuzzing that every `scripts/test` run does (the long runs are `fuzz/run`).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"), "needs python3"),
          arguments: FuzzTargets.all.keys.sorted())
    func seedCorpusPassesItsTarget(target: String) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ami-seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [Self.root.appendingPathComponent("fuzz/make_seeds.py").path, out.path, target]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let seeds = try FileManager.default.contentsOfDirectory(at: out.appendingPathComponent(target), includingPropertiesForKeys: nil)
        #expect(!seeds.isEmpty)
        for seed in seeds { FuzzTargets.all[target]!([UInt8](try Data(contentsOf: seed))) }
    }

    /// fuzz/run and fuzz/make_seeds.py know every target, and no other.
    @Test func theScriptsListEveryTarget() throws {
        let run = try String(contentsOf: Self.root.appendingPathComponent("fuzz/run"), encoding: .utf8)
        let seeds = try String(contentsOf: Self.root.appendingPathComponent("fuzz/make_seeds.py"), encoding: .utf8)
        func names(_ text: String, from start: String, to end: String) -> Set<String> {
            guard let a = text.range(of: start), let b = text[a.upperBound...].range(of: end) else { return [] }
            return Set(text[a.upperBound..<b.lowerBound].split(whereSeparator: { " \n\",".contains($0) }).map(String.init))
        }
        let want = Set(FuzzTargets.all.keys)
        #expect(names(run, from: "ALL_TARGETS=(", to: ")") == want)
        #expect(names(seeds, from: "TARGETS = [", to: "]") == want)
    }
}
