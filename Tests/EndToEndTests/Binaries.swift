import Foundation
import Testing

/// Runs the package's built executables as a user would, through pipes.
enum Binaries {
    /// The folder holding the built products (beside the test bundle).
    static let folder: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    /// The package root (for shipped samples and man pages).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpus` beside the package, when present.
    static let corpus: URL? = {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Runs `name args…` with `stdin` bytes and returns its status and output.
    static func run(_ name: String, _ args: [String], stdin: [UInt8] = []) throws -> Result {
        try launch(folder.appendingPathComponent(name), args, stdin: stdin)
    }

    /// Runs `executable arguments…` and parses its standard output as one JSON object (a peer's
    /// or simulator's `--print-expected`).
    static func jsonObject(_ executable: URL, _ arguments: [String]) throws -> [String: Any] {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Runs a bash script (a pipeline) in the package root with the built products first on PATH.
    static func shell(_ script: String) throws -> Result {
        try launch(URL(fileURLWithPath: "/bin/bash"), ["-c", script], stdin: [])
    }

    private static func launch(_ executable: URL, _ args: [String], stdin: [UInt8]) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-e2e-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in"), outURL = dir.appendingPathComponent("out"),
            errURL = dir.appendingPathComponent("err")
        try Data(stdin).write(to: inURL)
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let p = Process()
        p.executableURL = executable
        p.arguments = args
        p.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = folder.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        p.standardInput = try FileHandle(forReadingFrom: inURL)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
