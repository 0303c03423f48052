#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AMICore

/// A meter description file: a JSON object whose keys are the long options of `ami-read` without
/// their dashes, e.g. `{"tcp": "10.0.0.7:4059", "auth": "hls-gmac", "key-file": "m7.keys",
/// "get": ["1-0:1.8.0*255", "1-0:2.8.0*255"], "clock": true}`. A string or number gives one option,
/// an array repeats it, `true` sets a flag (`false` leaves it unset).
public enum MeterDescription {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The command-line arguments the file stands for.
    public static func arguments(path: String) throws -> [String] {
        var text: [UInt8] = []
        do {
            try InputFile(path).read { chunk in
                text += chunk
                return text.count < 1 << 20
            }
        } catch {
            throw Failure(description: "\(error)")
        }
        guard text.count < 1 << 20 else { throw Failure(description: "larger than 1 MiB") }
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw Failure(description: "byte \(error.offset): \(error.message)")
        }
        guard case .object(let members) = value else { throw Failure(description: "not a JSON object") }
        return try arguments(members, folder: folder(of: path))
    }

    /// The folder part of `path`, with its slash ("" for a bare name): where the files a
    /// description names are found.
    static func folder(of path: String) -> String {
        path.contains("/") ? String(path[...path.lastIndex(of: "/")!]) : ""
    }

    /// The command-line arguments an object of long option names stands for (keys sorted), with
    /// relative paths of files it names taken from `folder`.
    public static func arguments(_ members: [String: JSONValue], folder: String) throws -> [String] {
        var out: [String] = []
        for key in members.keys.sorted() {
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), key != "description" else {
                throw Failure(description: "\"\(key)\" is not an option name")
            }
            var v = members[key]!
            // Files named in the description are found beside it.
            if pathOptions.contains(key), case .string(let p) = v, !p.hasPrefix("/") { v = .string(folder + p) }
            try append("--" + key, v, to: &out)
        }
        return out
    }

    static let pathOptions: Set<String> = ["key-file", "state-dir", "serial"]

    private static func append(_ option: String, _ v: JSONValue, to out: inout [String]) throws {
        switch v {
        case .bool(true): out.append(option)
        case .bool(false), .null: break
        case .string(let s): out += [option, s]
        case .number: out += [option, v.numberText ?? ""]
        case .array(let items):
            for item in items {
                guard case .array = item else {
                    try append(option, item, to: &out)
                    continue
                }
                throw Failure(description: "\(option): nested arrays are not options")
            }
        case .object: throw Failure(description: "\(option): an object is not an option value")
        }
    }
}
