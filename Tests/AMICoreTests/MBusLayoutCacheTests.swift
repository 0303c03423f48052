import Foundation
import Testing
@testable import AMICore

/// The record layouts a stream keeps (`MBusLayoutCache`) and the JSON emitter's template path
/// (`ReadingTemplate`) must give exactly what decoding each frame afresh and writing its records
/// field by field gives.
@Suite struct MBusLayoutCacheTests {
    /// The frames of the shipped libmbus sample, and one of records that take the paths beside the
    /// template: a secret with invalid BCD, one DIB/VIB with and without invalid BCD, a date sent as
    /// BCD, a plain-text unit, and a DIB/VIB of 8 bytes (too long to be kept).
    static func frames() throws -> [[UInt8]] {
        let text = try String(contentsOf: MBusTest.packageRoot.appendingPathComponent(
            "samples/mbus/libmbus-test-frames.hex"), encoding: .utf8)
        var frames = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { MBusTest.bytes(String($0)) }
        frames.append(MBusTest.variableFrame(
            "0C FD 16 12 EF CD AB  0C 13 78 56 34 12  0C 13 FA 56 34 12  0C 13 21 43 65 07  0C 6D 12 34 56 78"
            + "  01 7C 03 41 42 43 05  84 80 80 80 80 80 40 13 01 00 00 00"))
        return frames
    }

    static func context(_ i: Int) -> FrameContext {
        FrameContext(source: "file:cache-test", frameIndex: i, receiveTime: UTCTime(seconds: 1_700_000_000))
    }

    @Test func templatesWriteWhatTheWriterWrites() throws {
        let frames = try Self.frames()
        #expect(frames.count == 48)
        // What each frame gives decoded alone, written record by record.
        var expected: [[UInt8]?] = []
        for (i, f) in frames.enumerated() {
            var out = DecodeOutput()
            do {
                try MBusDecoder.decode(f, context: Self.context(i), into: &out)
            } catch {
                expected.append(nil)
                continue
            }
            let w = JSONLineWriter()
            for r in out.records { w.write(r) }
            expected.append(w.buffer)
        }
        #expect(expected.compactMap { $0 }.count >= 40)
        // Twice through one stream: the first pass fills the cache, the second reads from it.
        var state = StreamState(options: DecodeOptions())
        let writer = JSONLineWriter()
        var emitter = JSONLineWriter.FrameEmitter(writer: writer)
        for pass in 0..<2 {
            for (i, f) in frames.enumerated() {
                writer.removeAll()
                emitter.begin()
                do {
                    try Codecs.decode(f, as: .mbus, context: Self.context(i), state: &state, into: &emitter)
                } catch {
                    #expect(expected[i] == nil, "frame \(i) pass \(pass): \(error.message)")
                    continue
                }
                let got = writer.buffer
                #expect(got == expected[i], "frame \(i) pass \(pass):\n\(String(decoding: got, as: UTF8.self))")
            }
        }
        #expect(state.mbusLayouts.count > 50)
    }

    @Test func theDataNotesComeInTheirOrder() throws {
        let frame = try Self.frames().last!
        let notes = try MBusTest.readings(frame).map { $0.note }
        #expect(notes == ["invalid BCD; secret not printed", nil, "invalid BCD", nil,
                          "unexpected data coding for a date", "CBA", nil])
    }

    @Test func keysHoldTheBytesAndTheirLength() {
        let key = { (hex: String, bigEndian: Bool) in
            let b = MBusTest.bytes(hex)
            return MBusLayoutCache.key(b, at: 0, end: b.count, bigEndian: bigEndian)
        }
        #expect(key("0C 13 78 56 34 12", false) == 0x0200_0000_0000_130C)
        #expect(key("8C 10 FD 93 80 01 00", false) == 0x0600_0180_93FD_108C)   // DIFE, FD table, two VIFEs
        #expect(key("0C", false) == 0)                                          // no VIF
        #expect(key("0C 93", false) == 0)                                       // VIFE missing: runs past the end
        // A plain-text unit: its length and text (then the VIFEs of VIF 0xFC); bit 63 when the text is
        // sent in order (mode 2).
        #expect(key("01 7C 03 41 42 43 05", false) == 0x0600_4342_4103_7C01)
        #expect(key("01 7C 03 41 42 43 05", true) == 0x8600_4342_4103_7C01)
        #expect(key("01 FC 03 41 42 43 05", false) == 0x0705_4342_4103_FC01)
        #expect(key("01 7C 06 41 42 43 44 45 46", false) == 0)                 // 9 bytes
        #expect(key("01 7C 03 41 42", false) == 0)                             // text cut short
        #expect(key("0C 13", true) == 0x0200_0000_0000_130C)                    // without text the byte order does not count
        #expect(key("84 80 80 80 80 80 40 13 01 00 00 00", false) == 0)        // 8 bytes
        #expect(key("84 80 80 80 80 40 13 01 00 00 00", false) == 0x0713_4080_8080_8084)    // 7 bytes
    }

    @Test func theCacheKeepsAtMostItsCapacity() throws {
        var c = ByteCursor([0x0C, 0x13], start: 1, layer: .mbusApplication)
        var stage: StaticString = "DIF"
        let layout = try MBusDataRecord.parseLayout(&c, dif: 0x0C, difOffset: 0, index: 0, stage: &stage,
                                                    frame: .init(bigEndian: false, zone: DecodeOptions().meterTimeZone))
        #expect(layout.shape.length == 2)
        let cache = MBusLayoutCache()
        let keys = (0..<(MBusLayoutCache.capacity + 10)).map { UInt64($0) << 16 | 0x130C | 2 << 56 }
        for k in keys { cache.insert(layout, key: k) }
        #expect(cache.count == MBusLayoutCache.capacity)
        #expect(cache[keys[0]]?.takeUnretainedValue() === layout)
        #expect(cache[keys[MBusLayoutCache.capacity - 1]]?.takeUnretainedValue() === layout)
        #expect(cache[keys.last!] == nil)
        #expect(cache[0] == nil)
        let fresh = MBusLayoutCache()
        fresh.insert(layout, key: 0x0300_0000_0000_130C)                   // length 3 is not the layout's
        #expect(fresh.count == 0)
        fresh.insert(layout, key: 0x0200_0000_0000_130C)
        #expect(fresh.count == 1)
    }
}
