import Foundation
import Testing
@testable import AMICore

/// Decoding helpers shared by the DSMR and IEC 62056-21 tests.
enum TextTelegramTesting {
    /// `../shared/corpus/<name>` beside the package, when present.
    static func corpus(_ name: String) -> URL? {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/corpus/\(name)")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("expected.jsonl").path) ? url : nil
    }

    /// The lines of `expected.jsonl` in a corpus folder, parsed.
    static func expected(_ folder: URL?) -> [JSONValue] {
        guard let folder, let text = try? String(contentsOf: folder.appendingPathComponent("expected.jsonl"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)) }
    }

    static func bytes(_ folder: URL?, _ file: String) throws -> [UInt8] {
        let url = try #require(folder).appendingPathComponent(file)
        return Array(try Data(contentsOf: url))
    }

    /// Runs `bytes` through a binary-input `DecodeSession`, cut into chunks at `cuts`.
    static func decode(_ bytes: [UInt8], protocols: Set<ProtocolID> = Set(ProtocolID.decodable),
                       ignoreChecksums: Bool = false, cuts: [Int] = [],
                       configure: (inout DecodeOptions) -> Void = { _ in }) -> CollectingSink {
        var options = DecodeOptions()
        options.protocols = protocols
        options.ignoreChecksums = ignoreChecksums
        configure(&options)
        let sink = CollectingSink()
        let session = DecodeSession(inputName: "test", sourceName: "test", format: .binary, options: options, sink: sink)
        var from = 0
        for cut in cuts.sorted() where cut >= from && cut <= bytes.count {
            session.feed(bytes[from..<cut])
            from = cut
        }
        session.feed(bytes[from...])
        session.finish()
        return sink
    }

    /// A DSMR telegram with CRLF line ends around `lines`, and its correct CRC unless `crc` is given
    /// (nil: no CRC at all, as DSMR 2.2/3).
    static func telegram(_ lines: [String], header: String = "/ISK5\\2M550T-1012", crc: String?? = .none) -> [UInt8] {
        var text = Array((header + "\r\n\r\n" + lines.map { $0 + "\r\n" }.joined() + "!").utf8)
        switch crc {
        case .none: text += Array(hex4(DSMRCRC.checksum(text)).utf8)
        case .some(.some(let given)): text += Array(given.utf8)
        case .some(.none): break
        }
        return text + [0x0D, 0x0A]
    }

    static func hex4(_ v: UInt16) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(v >> 12)], digits[Int(v >> 8 & 0xF)], digits[Int(v >> 4 & 0xF)], digits[Int(v & 0xF)]])
    }
}
