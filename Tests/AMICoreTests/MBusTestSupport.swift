import Foundation
@testable import AMICore

enum MBusTest {
    /// The package root, from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpus/mbus/libmbus` beside the package.
    static let corpus = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/mbus/libmbus")

    static let corpusExists = FileManager.default.fileExists(atPath: corpus.appendingPathComponent("test-frames").path)

    /// Bytes from hex text with any whitespace.
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.unicodeScalars.filter { !$0.properties.isWhitespace }
        var out: [UInt8] = []
        var high: UInt8? = nil
        for s in digits {
            guard let v = s.value < 128 ? Hex.nibble(UInt8(s.value)) : nil else { continue }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    /// A long frame `68 L L 68 C A CI data CS 16` with a correct checksum.
    static func longFrame(ci: UInt8, _ data: [UInt8], c: UInt8 = 0x08, a: UInt8 = 0x01) -> [UInt8] {
        MBusFraming.longFrame(control: c, address: a, ci: ci, data: data)
    }

    /// The 12-byte variable data header of id 12345678, ACW, version 0x0E, water, access 0x2A,
    /// status `status`, signature 0.
    static func header(status: UInt8 = 0, medium: UInt8 = 0x07) -> [UInt8] {
        [0x78, 0x56, 0x34, 0x12, 0x77, 0x04, 0x0E, medium, 0x2A, status, 0x00, 0x00]
    }

    /// A CI 0x72 frame of the standard header and `records` (hex).
    static func variableFrame(_ records: String, status: UInt8 = 0) -> [UInt8] {
        longFrame(ci: 0x72, header(status: status) + bytes(records))
    }

    /// Decodes one frame directly.
    static func decode(_ frame: [UInt8], options: DecodeOptions = DecodeOptions(), receiveTime: UTCTime? = nil,
                       meterHint: String? = nil) throws(DecodeError) -> DecodeOutput {
        var out = DecodeOutput()
        let context = FrameContext(source: "test", frameIndex: 0, receiveTime: receiveTime, meterHint: meterHint,
                                   options: options)
        try MBusDecoder.decode(frame, context: context, into: &out)
        return out
    }

    /// The readings of one frame.
    static func readings(_ frame: [UInt8], options: DecodeOptions = DecodeOptions()) throws(DecodeError) -> [Reading] {
        try decode(frame, options: options).records.compactMap {
            if case .reading(let r) = $0 { return r } else { return nil }
        }
    }

    /// Runs `input` through a whole decode session (M-Bus only).
    static func session(_ input: [UInt8], format: InputFormat, options: DecodeOptions = DecodeOptions())
        -> CollectingSink {
        var o = options
        o.protocols = [.mbus]
        let sink = CollectingSink()
        let s = DecodeSession(inputName: "test", sourceName: "test", format: format, options: o, sink: sink)
        s.feed(input)
        s.finish()
        return sink
    }
}
