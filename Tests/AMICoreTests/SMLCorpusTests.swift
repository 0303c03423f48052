import Foundation
import Testing
@testable import AMICore

/// `../shared/corpus/sml`: 68 frames and 26 raw dumps of German meters with what smllib 1.7 (and
/// pysml 0.1.9) decode from them. Skipped when the corpus is absent.
@Suite(.enabled(if: TextTelegramTesting.corpus("sml") != nil, "../shared/corpus/sml is absent"))
struct SMLCorpusTests {
    static let folder = TextTelegramTesting.corpus("sml")
    static let cases = TextTelegramTesting.expected(folder)
    static let frameIDs = cases.filter { $0["kind"]?.stringValue == "frame" }.compactMap { $0["id"]?.stringValue }
    static let streamIDs = cases.filter { $0["kind"]?.stringValue == "stream" }.compactMap { $0["id"]?.stringValue }

    /// The frame where the two peers disagree and the corpus README names pysml right: a DZG DVS74
    /// sending +356.24 W as a negative number (smllib: −299.12).
    static let dvs74Power = ExactDecimal(35624, exponent: -2)

    static func entry(_ id: String) throws -> JSONValue {
        try #require(cases.first { $0["id"]?.stringValue == id })
    }

    @Test func holdsTheCases() {
        #expect(Self.frameIDs.count == 68)
        #expect(Self.streamIDs.count == 26)
    }

    /// Every value smllib reads from a frame is among ours: the same OBIS code, the value × 10^scaler
    /// exactly in the unit's base unit, text as text (hex when not printable), and the status word.
    @Test(arguments: frameIDs)
    func framesMatchSmllib(id: String) throws {
        let e = try Self.entry(id)
        let bytes = try TextTelegramTesting.bytes(Self.folder, try #require(e["file"]?.stringValue))
        let sink = TextTelegramTesting.decode(bytes, protocols: [.sml])
        if let error = e["error"]?.stringValue {
            if error == "CrcError" {
                // smllib rejects it; so do we, skipping the frame with a reason.
                #expect(sink.readings.isEmpty)
                #expect(sink.skips.count == 1, "\(sink.diagnostics)")
            } else {
                // "value is required!": smllib fails, pysml reads 5 values; we read them as pysml does.
                try matchesPysml(e, sink)
            }
            return
        }
        #expect(sink.skips.isEmpty, "\(sink.skips)")
        if e["crc"]?.stringValue == "kermit" {
            #expect(sink.warnings.contains { $0.error.kind == .checksum && $0.error.message.contains("KERMIT") })
        }
        var values: [JSONValue] = []
        if case .array(let a)? = e["values"] { values = a }
        if e["get_obis_error"]?.stringValue == nil { #expect(!values.isEmpty) }
        for v in values {
            let obis = try #require(v["obis"]?.stringValue)
            let ours = sink.readings.filter { $0.obis == obis }
            #expect(!ours.isEmpty, "\(id): no reading for \(obis)")
            guard !ours.isEmpty else { continue }
            if let status = v["status"]?.numberText, let s = UInt64(status) {
                #expect(ours.contains { $0.note?.contains("status 0x" + String(s, radix: 16, uppercase: true)) == true },
                        "\(id) \(obis): status")
            }
            let expected: ReadingValue
            switch v["value"] {
            case .string(let text)?:
                expected = .text(text)
            case .number(let raw)?:
                let exact = ExactDecimal(try #require(Int64(raw)), exponent: Int(v["scaler"]?.numberText ?? "0") ?? 0)
                let code = UInt8(v["unit"]?.numberText ?? "0") ?? 0
                let converted = code == 0 || code == 255 ? exact : (DLMSUnit(rawValue: code).convert(exact)?.value ?? exact)
                expected = id == "frame_dzg_dvs_7412_2_jmberg_1" && obis == "1-0:16.7.0*255"
                    ? .number(Self.dvs74Power) : .number(converted)
            default:
                Issue.record("\(id) \(obis): unexpected value \(String(describing: v["value"]))")
                continue
            }
            #expect(ours.contains { same($0.value, expected) }, "\(id) \(obis): \(ours.map(\.value)) vs \(expected)")
        }
        #expect(sink.readings.allSatisfy { $0.provenance.protocolID == .sml })
    }

    /// A frame smllib cannot read but pysml can: its values, by name.
    func matchesPysml(_ e: JSONValue, _ sink: CollectingSink) throws {
        guard case .array(let values)? = e["pysml"]?["values"] else {
            Issue.record("no pysml values")
            return
        }
        #expect(!values.isEmpty)
        for v in values {
            let obis = try #require(v["objName"]?.stringValue)
            let ours = sink.readings.filter { $0.obis == obis }
            #expect(!ours.isEmpty, "no reading for \(obis)")
            if let number = v["value"]?.numberText, let d = ExactDecimal(number) {
                #expect(ours.contains { same($0.value, .number(d)) }, "\(obis): \(ours.map(\.value)) vs \(number)")
            }
        }
    }

    /// Raw dumps: the frames smllib's stream reader finds whole are the frames we decode, with the same
    /// values (smllib rounds to a float; ours are exact), and its CRC failures are our skipped frames.
    @Test(arguments: streamIDs)
    func streamsMatchSmllib(id: String) throws {
        let e = try Self.entry(id)
        let bytes = try TextTelegramTesting.bytes(Self.folder, try #require(e["file"]?.stringValue))
        // Fed in pieces of 61 bytes, as a serial port would.
        let sink = TextTelegramTesting.decode(bytes, protocols: [.sml], cuts: Array(stride(from: 61, to: bytes.count, by: 61)))
        guard case .array(let frames)? = e["frames"] else { throw Failure("no frames") }
        // smllib's CRC failures; its other failures ("value is required!") are frames pysml and we read.
        let good = frames.filter { $0["error"]?.stringValue?.hasPrefix("CrcError") != true }
        let byFrame = Dictionary(grouping: sink.readings, by: \.provenance.frame)
        let decoded = byFrame.keys.sorted()
        #expect(decoded.count == good.count, "\(id): \(decoded.count) frames decoded, smllib \(good.count)")
        // Where smllib finds a bad CRC we find the CRC wrong or the end sequence off its 4-byte block
        // (a byte lost on the line: the better reason).
        let crcErrors = frames.count - good.count
        let lost = sink.skips.filter { $0.error.kind == .checksum || $0.error.message.contains("off the 4-byte blocks") }
        #expect(lost.count == crcErrors, "\(sink.skips)")
        for (frame, expected) in zip(decoded, good) {
            guard case .object(let values)? = expected["values"] else { continue }
            for (obis, value) in values {
                let ours = (byFrame[frame] ?? []).filter { $0.obis == obis }
                #expect(!ours.isEmpty, "\(id) frame \(frame): no \(obis)")
                switch value {
                case .number(let text):
                    let want = Double(text) ?? .nan
                    #expect(ours.contains {
                        guard case .number(let d) = $0.value, let got = Double(d.description) else { return false }
                        if id == "stream_dzg_dvs_7412_2_jmberg" && obis == "1-0:16.7.0*255" { return d == Self.dvs74Power }
                        return abs(got - want) <= 1e-9 * max(1, abs(want))
                    }, "\(id) frame \(frame) \(obis): \(ours.map(\.value)) vs \(text)")
                case .string(let text):
                    #expect(ours.contains { same($0.value, .text(text)) }, "\(id) \(obis)")
                default:
                    break
                }
            }
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    func same(_ a: ReadingValue, _ b: ReadingValue) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)): x == y
        // smllib writes some printable octet strings (firmware versions) in hex.
        case (.text(let x), .text(let y)): x.lowercased() == y.lowercased() || Hex.string(Array(x.utf8)) == y.lowercased()
        default: false
        }
    }
}
