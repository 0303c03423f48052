import AMICore
import ArgumentParser

/// A file of records in one of the registry formats (CSV with a header, or JSON lines), read whole:
/// the inputs of `ami-store registry import` and `ami-bill account import`.
public struct RegistryFile: Sendable {
    /// The name in diagnostics (`stdin` for standard input).
    public let name: String
    public let text: String
    public let format: RegistryFormat

    /// Reads `files` ('-' or none: stdin). The format is `format` (csv or jsonl, else a usage error),
    /// else CSV for a name ending in `.csv` and JSON lines for the rest. A file that cannot be read is
    /// reported and left out, and `status` becomes at least 66.
    public static func read(_ files: [String], format: String?, diagnostics: Diagnostics,
                            status: inout ExitStatus) throws -> [RegistryFile] {
        if let f = format, RegistryFormat(rawValue: f) == nil { throw ValidationError("--format is csv or jsonl") }
        var out: [RegistryFile] = []
        for file in files.isEmpty ? ["-"] : files {
            let input = InputFile(file)
            var bytes: [UInt8] = []
            do {
                try input.read { bytes.append(contentsOf: $0); return true }
            } catch {
                diagnostics.report(input.displayName, "\(error)")
                status = max(status, .noInput)
                continue
            }
            out.append(RegistryFile(name: input.displayName, text: String(decoding: bytes, as: UTF8.self),
                                    format: format.flatMap(RegistryFormat.init(rawValue:)) ?? (file.hasSuffix(".csv") ? .csv : .jsonl)))
        }
        return out
    }
}
