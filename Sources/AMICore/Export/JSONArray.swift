/// Writes a stream's records as one JSON document (RFC 8259): an array of the record objects,
/// one per line, each exactly as it came.
public final class JSONArrayWriter {
    private let out: BlockWriter
    private var count = 0

    public init(sink: ByteSink) { out = BlockWriter(sink: sink) }

    public func record(_ line: UnsafeBufferPointer<UInt8>) throws {
        out.append(count == 0 ? "[\n" : ",\n")
        out.buffer.append(UnsafeRawBufferPointer(line))
        count += 1
        try out.flushIfFull()
    }

    public func finish() throws {
        out.append(count == 0 ? "[]\n" : "\n]\n")
        try out.flush()
    }
}
