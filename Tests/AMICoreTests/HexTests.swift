import Testing
@testable import AMICore

/// Hex text to bytes: pairs of digits with separators between pairs, and the offset and reason
/// of the first thing wrong; contiguous text (read the quick way) and any other collection agree.
@Suite struct HexTests {
    @Test(arguments: [
        ("68 0A 0a 68", [0x68, 0x0A, 0x0A, 0x68]),
        ("680a:0B-ff\t01\r", [0x68, 0x0A, 0x0B, 0xFF, 0x01]),
        ("", []),
        ("  ", []),
    ] as [(String, [UInt8])])
    func wellFormedTextGivesItsBytes(text: String, bytes: [UInt8]) throws {
        #expect(try Hex.decode(Array(text.utf8)) == bytes)
        #expect(try Hex.decode(Array(text.utf8)[...]) == bytes)
        #expect(try Hex.decode(NonContiguous(Array(text.utf8))) == bytes)
    }

    @Test(arguments: [
        ("68 0", 3, "odd number of hex digits"),
        ("6 80", 0, "lone hex digit"),
        ("68 0x", 4, "not a hex digit: 'x'"),
        ("68 x0", 3, "not a hex digit: 'x'"),
        ("6g", 1, "not a hex digit: 'g'"),
    ])
    func malformedTextSaysWhereAndWhy(text: String, offset: Int, message: String) {
        do {
            _ = try Hex.decode(Array(text.utf8), base: 10)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.offset == 10 + offset, "\(text)")
            #expect(error.message == message, "\(text)")
        }
        do {
            _ = try Hex.decode(NonContiguous(Array(text.utf8)), base: 10)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.offset == 10 + offset, "\(text)")
            #expect(error.message == message, "\(text)")
        }
    }
}

/// A collection of bytes without contiguous storage.
private struct NonContiguous: RandomAccessCollection {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var startIndex: Int { 0 }
    var endIndex: Int { bytes.count }
    subscript(i: Int) -> UInt8 { bytes[i] }
}
