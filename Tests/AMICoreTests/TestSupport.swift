import Foundation
@testable import AMICore

/// Collects what a decode session produces, for assertions.
final class CollectingSink: DecodeSink {
    var records: [Record] = []
    var diagnostics: [Diagnostic] = []

    func record(_ record: Record) { records.append(record) }
    func passThrough(_ line: ArraySlice<UInt8>) {}
    func diagnostic(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    var readings: [Reading] { records.compactMap { if case .reading(let r) = $0 { r } else { nil } } }
    var events: [Event] { records.compactMap { if case .event(let e) = $0 { e } else { nil } } }
    /// Diagnostics for pieces that were skipped.
    var skips: [Diagnostic] { diagnostics.filter(\.skipped) }
    /// Diagnostics that skipped nothing.
    var warnings: [Diagnostic] { diagnostics.filter { !$0.skipped } }
}

/// SplitMix64: a deterministic random source for the hostile-input tests, so a failure can be
/// replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A fresh empty folder under the system's temporary folder, for tests that write files.
func makeTemporaryDirectory(_ prefix: String = "ami-test") -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
