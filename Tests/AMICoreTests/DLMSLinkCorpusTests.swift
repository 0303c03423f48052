import Foundation
import Testing
@testable import AMICore

private typealias T = DLMSLinkTest

/// The captured DLMS sessions of `../shared/corpus/dlms/frames.jsonl` (see its README.md): every
/// frame scans to exactly its length, decodes to the builder's `link` fields, encodes back to the
/// same bytes, and the reassembled information fields equal the APDU (`pdu_hex`). Skipped when the
/// corpus is not beside the package.
@Suite(.enabled(if: T.corpusExists, "DLMS corpus not found beside the package"))
struct DLMSLinkCorpusTests {
    static var hdlcFrames: [DLMSLinkTest.CorpusFrame] { T.frames.filter { $0.framing == "hdlc" } }
    static var wrapperFrames: [DLMSLinkTest.CorpusFrame] { T.frames.filter { $0.framing == "wrapper" } }

    @Test func counts() {
        #expect(Self.hdlcFrames.count == 532)
        #expect(Self.wrapperFrames.count == 524)
    }

    @Test func hdlcFrames() throws {
        for f in Self.hdlcFrames {
            let name = "\(f.session) #\(f.seq)"
            let b = f.bytes
            #expect(HDLCFrame.scan(b, at: 0, end: b.count, atEnd: true) == .frame(length: b.count), "\(name)")
            for cut in [1, b.count / 2, b.count - 1] {
                #expect(HDLCFrame.scan(b, at: 0, end: cut, atEnd: false) == .needMore, "\(name) cut at \(cut)")
            }
            let frame = try HDLCFrame(decoding: b)
            let link = f.link
            #expect(link["format"]?.stringValue == Hex.string(b[1...2]).uppercased(), "\(name)")
            #expect(link["segmented"] == .bool(frame.segmented), "\(name)")
            #expect(link["length"]?.numberText == String(b.count - 2), "\(name)")
            #expect(link["destination_address"]?.numberText == String(frame.destination.value), "\(name)")
            #expect(link["destination_address_hex"]?.stringValue == Hex.string(frame.destination.bytes).uppercased(), "\(name)")
            #expect(link["source_address"]?.numberText == String(frame.source.value), "\(name)")
            #expect(link["source_address_hex"]?.stringValue == Hex.string(frame.source.bytes).uppercased(), "\(name)")
            #expect(link["control"]?.stringValue == Hex.string([frame.control.byte]).uppercased(), "\(name)")
            #expect(link["frame_type"]?.stringValue == frame.control.name, "\(name)")
            #expect(link["poll_final"] == .bool(frame.control.pollFinal), "\(name)")
            #expect(link["ns"]?.numberText == frame.control.ns.map { String($0) }, "\(name)")
            #expect(link["nr"]?.numberText == frame.control.nr.map { String($0) }, "\(name)")
            #expect(try frame.encoded() == b, "\(name)")
        }
    }

    /// The information fields of each direction's I frames, joined while the S bit is set, with the
    /// LLC header of the first segment removed, are the APDU of the final segment.
    @Test func hdlcReassembly() throws {
        var pending: [String: [UInt8]] = [:]
        var apdus = 0
        for f in Self.hdlcFrames {
            let name = "\(f.session) #\(f.seq)"
            let frame = try HDLCFrame(decoding: f.bytes)
            guard case .i = frame.control else {
                #expect(f.pdu == nil, "\(name)")
                continue
            }
            let key = f.session + f.direction
            var information = frame.information[...]
            if pending[key] == nil {
                let llc = f.direction == "request" ? HDLCFrame.llcCommand : HDLCFrame.llcResponse
                #expect(information.starts(with: llc), "\(name)")
                information = information.dropFirst(3)
            }
            pending[key, default: []] += information
            if frame.segmented {
                #expect(f.pdu == nil, "\(name)")
            } else {
                #expect(pending[key] == f.pdu, "\(name)")
                pending[key] = nil
                apdus += 1
            }
        }
        #expect(pending.isEmpty)
        #expect(apdus == 318)
    }

    /// SNRM and UA information fields: the simulator offers 128 bytes (64 in s12) and window 1.
    @Test func hdlcParameters() throws {
        var seen = 0
        for f in Self.hdlcFrames {
            let frame = try HDLCFrame(decoding: f.bytes)
            guard frame.control == .ua(pf: true) || frame.control == .snrm(pf: true) else { continue }
            let p = try HDLCParameters(decoding: frame.information)
            let size = f.session.hasPrefix("s12-") && !frame.information.isEmpty ? 64 : 128
            #expect(p == HDLCParameters(maxInfoTransmit: size, maxInfoReceive: size), "\(f.session) #\(f.seq)")
            seen += 1
        }
        #expect(seen == 12)
    }

    @Test func wrapperFrames() throws {
        for f in Self.wrapperFrames {
            let name = "\(f.session) #\(f.seq)"
            let b = f.bytes
            #expect(WrapperFrame.scan(b, at: 0, end: b.count, atEnd: true) == .frame(length: b.count), "\(name)")
            #expect(WrapperFrame.scan(b, at: 0, end: b.count - 1, atEnd: false) == .needMore, "\(name)")
            let frame = try WrapperFrame(decoding: b)
            #expect(f.link["version"]?.numberText == "1", "\(name)")
            #expect(f.link["source_wport"]?.numberText == String(frame.source), "\(name)")
            #expect(f.link["destination_wport"]?.numberText == String(frame.destination), "\(name)")
            #expect(f.link["length"]?.numberText == String(frame.payload.count), "\(name)")
            #expect(frame.payload == f.pdu, "\(name)")
            #expect(try frame.encoded() == b, "\(name)")
        }
    }

    /// Each session's frames back to back in one stream (both framings), scanned as a reader
    /// would: frame after frame, each exactly its captured length.
    @Test func streams() {
        for framing in ["hdlc", "wrapper"] {
            let frames = T.frames.filter { $0.framing == framing }
            let stream = frames.flatMap(\.bytes)
            var at = 0
            for f in frames {
                let scan = framing == "hdlc" ? HDLCFrame.scan(stream, at: at, end: stream.count, atEnd: true)
                                             : WrapperFrame.scan(stream, at: at, end: stream.count, atEnd: true)
                #expect(scan == .frame(length: f.bytes.count), "\(f.session) #\(f.seq)")
                at += f.bytes.count
            }
        }
    }
}
