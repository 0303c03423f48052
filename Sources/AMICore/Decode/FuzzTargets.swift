/// The fuzz targets, one per decoder: each takes arbitrary bytes and must return without trapping,
/// whatever they are. Used by `ami-fuzz` (libFuzzer) and by the tests that replay corpora.
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "mbus": { decodeAll($0, protocols: [.mbus], format: .binary) },
        "dsmr": { decodeAll($0, protocols: [.dsmr], format: .binary) },
        "iec62056-21": { decodeAll($0, protocols: [.iec62056_21], format: .binary) },
        "hex": { decodeAll($0, protocols: Set(ProtocolID.allCases), format: .hex) },
        "jsonl": { decodeAll($0, protocols: Set(ProtocolID.allCases), format: .jsonl) },
    ]

    private final class Discard: DecodeSink {
        let jsonWriter = JSONLineWriter()
        var writer: JSONLineWriter? { jsonWriter }
        func record(_ record: Record) {
            jsonWriter.write(record)
            jsonWriter.removeAll()
        }
        func wroteRecords() { jsonWriter.removeAll() }
        func passThrough(_ line: ArraySlice<UInt8>) {}
        func diagnostic(_ diagnostic: Diagnostic) { _ = diagnostic.description }
    }

    /// Runs the whole decode path (framing, decoding, JSON writing) over `bytes`, fed in two chunks so
    /// that resumption across chunk boundaries is exercised too.
    static func decodeAll(_ bytes: [UInt8], protocols: Set<ProtocolID>, format: InputFormat) {
        var options = DecodeOptions()
        options.protocols = protocols
        let sink = Discard()
        let session = DecodeSession(inputName: "fuzz", sourceName: "fuzz", format: format, options: options, sink: sink)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        session.feed(bytes[0..<cut])
        session.feed(bytes[cut...])
        session.finish()
    }
}
