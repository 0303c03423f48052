import Foundation
import Testing
@testable import AMICore

private typealias T = TextTelegramTesting

/// Random bytes and mutated telegrams through `DecodeSession` with the text protocols: nothing traps,
/// the result does not depend on how the input is cut into chunks, every diagnostic points into the
/// input, and a mutated telegram never vanishes without a record or a diagnostic.
@Suite struct DSMRHostileInputTests {
    static let protocolSets: [Set<ProtocolID>] = [Set(ProtocolID.decodable), [.dsmr], [.iec62056_21]]

    /// Telegrams to mutate: the corpora when present, else telegrams written here.
    static let seeds: [[UInt8]] = {
        var seeds: [[UInt8]] = []
        for name in ["dsmr", "iec62056-21"] {
            guard let folder = T.corpus(name) else { continue }
            for entry in T.expected(folder) {
                if let file = entry["file"]?.stringValue, let b = try? Data(contentsOf: folder.appendingPathComponent(file)) {
                    seeds.append(Array(b))
                }
            }
        }
        if seeds.isEmpty {
            seeds.append(T.telegram(["1-3:0.2.8(50)", "0-0:1.0.0(200426223325S)", "1-0:1.8.1(002130.115*kWh)",
                                     "1-0:99.97.0(1)(0-0:96.7.19)(190326095015W)(0000002014*s)",
                                     "0-1:24.2.1(200426223001S)(00246.138*m3)"]))
            seeds.append(T.telegram(["0-1:24.3.0(211122210000)(00)(60)(1)(0-1:24.2.1)(m3)\r\n(13368.864)",
                                     "0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)"],
                                    crc: .some(nil)))
            let body = Array("0.0.0(42)\r\n1.8.0(0001234.5*kWh)\r\n!\r\n\u{03}".utf8)
            seeds.append(Array("/?!\r\n/SIm5\\2MeterSim-2\r\n\u{02}".utf8) + body + [body.reduce(0, ^)])
        }
        return seeds
    }()

    /// Decodes `bytes` whole and cut in two, and checks the invariants.
    static func check(_ bytes: [UInt8], protocols: Set<ProtocolID>, cut: Int) -> CollectingSink {
        let whole = T.decode(bytes, protocols: protocols)
        let split = T.decode(bytes, protocols: protocols, cuts: [cut])
        #expect(split.records == whole.records, "cut \(cut) of \(bytes.count): \(bytes)")
        #expect(split.diagnostics == whole.diagnostics, "cut \(cut) of \(bytes.count): \(bytes)")
        #expect(whole.diagnostics.allSatisfy { $0.error.offset >= 0 && $0.error.offset <= bytes.count })
        FuzzTargets.all["dsmr"]?(bytes)
        FuzzTargets.all["iec62056-21"]?(bytes)
        return whole
    }

    @Test func randomBytes() {
        var rng = SplitMix64(state: 0x5EED_0001)
        let alphabet = Array("/!()*:-.0123456789ABCDEFSWkWhm3 \r\n\r\n?\\".utf8) + [0x02, 0x03, 0x00, 0x7F, 0xFF]
        for n in 0..<400 {
            let length = Int(rng.next() % 300)
            let bytes = (0..<length).map { _ in
                rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            _ = Self.check(bytes, protocols: Self.protocolSets[n % 3], cut: length == 0 ? 0 : Int(rng.next() % UInt64(length)))
        }
    }

    @Test func mutatedTelegrams() {
        var rng = SplitMix64(state: 0x5EED_0002)
        for (s, seed) in Self.seeds.enumerated() where !seed.isEmpty {
            for n in 0..<40 {
                var bytes = seed
                let at = Int(rng.next() % UInt64(bytes.count))
                switch n % 5 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                case 3: bytes = Array(bytes[..<at])
                default:
                    let to = min(bytes.count, at + Int(rng.next() % 40))
                    bytes.insert(contentsOf: bytes[at..<to], at: to)
                }
                let protocols = Self.protocolSets[(s + n) % 3]
                let sink = Self.check(bytes, protocols: protocols, cut: bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count)))
                // Only idle bytes, or a lone sign-on request, may give nothing at all.
                let text = bytes.filter { !TextByte.isLineEnd($0) }
                let loneRequest = text.starts(with: Array("/?".utf8)) && text.last == TextByte.bang
                    && text.filter { $0 == TextByte.bang }.count == 1
                if !text.isEmpty && !loneRequest {
                    #expect(!sink.records.isEmpty || !sink.diagnostics.isEmpty, "mutation \(n) of seed \(s) vanished")
                }
            }
        }
    }
}
