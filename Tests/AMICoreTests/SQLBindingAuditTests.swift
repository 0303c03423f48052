import Foundation
import Testing

/// Every value reaches SQLite as a bound parameter: no SQL text in the sources is built by
/// interpolating a value. The scan reads each string literal of `Sources/` that holds SQL and
/// lists its interpolations; only those below, which insert SQL text the code itself chooses
/// (column names, placeholder lists, keywords) or a PRAGMA's integer (PRAGMAs take no
/// parameters), are allowed. A new interpolation fails the test until it is bound instead.
@Suite struct SQLBindingAuditTests {
    static let allowed: Set<String> = [
        #"Store/Query.swift: \(column)"#,                       // a column name from the code
        #"Store/Ingest.swift: \(values)"#,                      // "(?, ?, …)" placeholder rows
        #"Store/Ingest.swift: \(appending ? "" : "ON CONFLICT(channel, time) DO NOTHING RETURNING channel, time")"#,
        #"Store/SQLite.swift: \(v)"#,                           // PRAGMA user_version = Int
        #"Store/SQLite.swift: \(kind.rawValue)"#,               // BEGIN DEFERRED | IMMEDIATE
    ]

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

    static let sqlWords = try! NSRegularExpression(
        pattern: #"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|PRAGMA|WHERE|VALUES|BEGIN|ORDER BY)\b"#)

    /// (file relative to Sources/AMICore or Sources, interpolation) for every interpolation in an SQL literal.
    static func interpolations() throws -> [String] {
        var found: [String] = []
        let files = FileManager.default.enumerator(atPath: sources.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let name = file.hasPrefix("AMICore/") ? String(file.dropFirst("AMICore/".count)) : file
            for literal in literals(text) where sqlWords.firstMatch(in: literal, range: NSRange(literal.startIndex..., in: literal)) != nil {
                for i in interpolationsIn(literal) { found.append("\(name): \(i)") }
            }
        }
        return found
    }

    /// The string literals of Swift source: multi-line `"""` ones and one-line ones.
    static func literals(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "\"\"\"") {
            out += oneLine(rest[..<open.lowerBound])
            guard let close = rest[open.upperBound...].range(of: "\"\"\"") else { break }
            out.append(String(rest[open.upperBound..<close.lowerBound]))
            rest = rest[close.upperBound...]
        }
        return out + oneLine(rest)
    }

    static func oneLine(_ text: Substring) -> [String] {
        var out: [String] = []
        for line in text.split(separator: "\n") {
            var current: String?, escaped = false, depth = 0
            for c in line {
                if var s = current {
                    if escaped { escaped = false; s.append(c); current = s; if c == "(" { depth += 1 }; continue }
                    if c == "\\" { escaped = true; s.append(c); current = s; continue }
                    if depth > 0 { if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }; s.append(c); current = s; continue }
                    if c == "\"" { out.append(s); current = nil; continue }
                    s.append(c)
                    current = s
                } else if c == "\"" {
                    current = ""
                }
            }
        }
        return out
    }

    /// The `\(…)` parts of a literal, with balanced parentheses.
    static func interpolationsIn(_ literal: String) -> [String] {
        var out: [String] = []
        var i = literal.startIndex
        while let r = literal[i...].range(of: "\\(") {
            var depth = 1, j = r.upperBound
            while j < literal.endIndex, depth > 0 {
                if literal[j] == "(" { depth += 1 } else if literal[j] == ")" { depth -= 1 }
                j = literal.index(after: j)
            }
            out.append(String(literal[r.lowerBound..<j]))
            i = j
        }
        return out
    }

    @Test func everySQLValueIsABoundParameter() throws {
        let found = try Self.interpolations()
        #expect(!found.isEmpty, "the scan found the allowed interpolations")
        let unexpected = found.filter { !Self.allowed.contains($0) }
        #expect(unexpected.isEmpty, "SQL built by interpolation; bind these values instead: \(unexpected)")
    }

    @Test func theScanSeesAnInterpolatedValue() {
        let source = #"let s = try db.statement("SELECT id FROM meter WHERE identity = '\(name)'")"#
        let found = Self.literals(source).flatMap(Self.interpolationsIn)
        #expect(found == [#"\(name)"#])
    }
}
