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
}
