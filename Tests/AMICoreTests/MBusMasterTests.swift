import Foundation
import Testing
@testable import AMICore

/// A scripted M-Bus line for the master: every frame written goes to `answer`, whose chunks the
/// following reads return (after the frame itself when the line echoes). A read with nothing left
/// times out at once: the tests never wait.
final class ScriptedLine: Transport {
    let endpoint = "test"
    var written: [[UInt8]] = []
    var pending: [[UInt8]] = []
    let echo: Bool
    let answer: ([UInt8]) -> [[UInt8]]

    init(echo: Bool = false, answer: @escaping ([UInt8]) -> [[UInt8]]) {
        self.echo = echo
        self.answer = answer
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
        written.append(bytes)
        pending += (echo ? [bytes] : []) + answer(bytes)
    }

    func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
        guard !pending.isEmpty else { throw .timedOut(.read, after: deadline.budget) }
        let chunk = pending.removeFirst()
        if chunk.count > maxCount {
            pending.insert(Array(chunk[maxCount...]), at: 0)
            return Array(chunk[..<maxCount])
        }
        return chunk
    }

    func close() {}

    /// The C fields of the frames written (short and long frames).
    var controls: [UInt8] { written.map { $0[0] == 0x10 ? $0[1] : $0[4] } }
}

/// A slave for the scripted line: its secondary address, primary address and telegrams, and the
/// link layer of EN 13757-2 (FCB: a toggled bit moves to the next telegram, the same bit repeats).
final class ScriptedSlave {
    let address: [UInt8]
    let primary: UInt8
    let telegrams: [[UInt8]]
    var selected = false
    var lastFCB: UInt8 = 0
    var current: Int? = nil

    /// A slave with identification `id` (8 digits), manufacturer ACW (or `manufacturer`), and
    /// `count` telegrams, each but the last ending with DIF 0x1F.
    init(id: String, primary: UInt8 = 0, count: Int = 1, manufacturer: [UInt8] = [0x77, 0x04]) {
        let digits = MBusTest.bytes(id)
        address = digits.reversed() + manufacturer + [0x01, 0x07]
        self.primary = primary
        telegrams = (0..<count).map { k in
            let records: [UInt8] = [0x04, 0x13, UInt8(k), 0, 0, 0] + (k < count - 1 ? [0x1F] : [])
            return MBusFraming.longFrame(control: 0x08, address: primary, ci: 0x72,
                                         data: digits.reversed() + manufacturer + [0x01, 0x07, UInt8(k), 0, 0, 0] + records)
        }
    }

    func hear(_ f: [UInt8]) -> [UInt8]? {
        if f[0] == 0x10 {
            let addressed = f[2] == primary || (f[2] == 0xFD && selected)
            if f[1] == 0x40 && (addressed || f[2] == 0xFF) {
                lastFCB = 0
                current = nil
                return f[2] == 0xFF ? nil : [0xE5]
            }
            guard f[1] & 0x4F == 0x4B, addressed else { return nil }
            let fcb = (f[1] >> 5) & 1
            if let c = current {
                if fcb != lastFCB { current = (c + 1) % telegrams.count }
            } else {
                current = 0
            }
            lastFCB = fcb
            return telegrams[current!]
        }
        if f[5] == 0xFD && f[6] == 0x52 {
            let mask = MBusSecondaryAddress(response: [0x68, 0, 0, 0x68, 0, 0, 0x72] + Array(f[7..<15]) + [UInt8](repeating: 0, count: 8))!
            selected = mask.matches(MBusSecondaryAddress(response: telegrams[0])!)
            return selected ? [0xE5] : nil
        }
        return (f[5] == primary || (f[5] == 0xFD && selected)) ? [0xE5] : nil
    }

    /// What a line with these slaves answers to `frame`: equal answers that start together are
    /// one; different ones combine bit by bit (a 0, space, of any slave wins), and where they first
    /// differ the receiver sees a parity or framing error, which Linux delivers as 0x00.
    static func bus(_ slaves: [ScriptedSlave]) -> ([UInt8]) -> [[UInt8]] {
        { frame in
            let answers = slaves.compactMap { $0.hear(frame) }
            guard let longest = answers.map(\.count).max() else { return [] }
            var combined = (0..<longest).map { i in answers.reduce(UInt8(0xFF)) { i < $1.count ? $0 & $1[i] : $0 } }
            if let i = (0..<longest).first(where: { i in Set(answers.map { i < $0.count ? $0[i] : 0xFF }).count > 1 }) {
                combined[i] = 0x00
            }
            return [combined]
        }
    }
}

@Suite struct MBusMasterTests {
    static let quick = MBusLinkSettings(timeout: .milliseconds(1), retries: 2)

    @Test func aPrimaryReadTogglesTheFCBThroughAMultiTelegramAnswer() throws {
        let slave = ScriptedSlave(id: "12345678", primary: 5, count: 3)
        let line = ScriptedLine(answer: ScriptedSlave.bus([slave]))
        let master = MBusMaster(transport: line, settings: Self.quick)
        try master.reset(5)
        let telegrams = try master.readTelegrams(5, maxTelegrams: 16)
        #expect(telegrams == slave.telegrams)
        // SND_NKE, then REQ_UD2 with FCB 1, 0, 1 (the slave's FCB is clear after SND_NKE).
        #expect(line.controls == [0x40, 0x7B, 0x5B, 0x7B])
        #expect(line.written.first == [0x10, 0x40, 0x05, 0x45, 0x16])
    }

    @Test func maxTelegramsStopsAMultiTelegramRead() throws {
        let line = ScriptedLine(answer: ScriptedSlave.bus([ScriptedSlave(id: "12345678", primary: 5, count: 3)]))
        let master = MBusMaster(transport: line, settings: Self.quick)
        try master.reset(5)
        let telegrams = try master.readTelegrams(5, maxTelegrams: 2)
        #expect(telegrams.count == 2)
        #expect(MBusDecoder.moreRecordsFollow(telegrams[1]))
    }

    struct Failure: CustomTestStringConvertible, Sendable {
        var name: String
        /// Answers to the 1st, 2nd, 3rd… REQ_UD2 (nil: nothing).
        var answers: [[UInt8]?]
        var error: MBusError?
        /// The C fields of the REQ_UD2 frames sent.
        var controls: [UInt8]
        var testDescription: String { name }
    }

    static let good = ScriptedSlave(id: "12345678", primary: 5).telegrams[0]
    static var badChecksum: [UInt8] {
        var f = good
        f[f.count - 2] &+= 1
        return f
    }

    static let failures: [Failure] = [
        Failure(name: "answer at once", answers: [good], error: nil, controls: [0x7B]),
        Failure(name: "no answer, then the answer: sent again with the same FCB",
                answers: [nil, good], error: nil, controls: [0x7B, 0x7B]),
        Failure(name: "bad checksum twice, then the answer", answers: [badChecksum, badChecksum, good], error: nil,
                controls: [0x7B, 0x7B, 0x7B]),
        Failure(name: "never an answer", answers: [nil, nil, nil],
                error: .noAnswer("REQ_UD2 to 5: no answer within 1 ms (3 tries)"), controls: [0x7B, 0x7B, 0x7B]),
        Failure(name: "bad checksum every time", answers: [badChecksum, badChecksum, badChecksum],
                error: .garbled("REQ_UD2 to 5: bad checksum in \(Hex.string(badChecksum))"), controls: [0x7B, 0x7B, 0x7B]),
        Failure(name: "not a frame", answers: [[0x55, 0xAA], nil, nil],
                error: .noAnswer("REQ_UD2 to 5: no answer within 1 ms (3 tries)"), controls: [0x7B, 0x7B, 0x7B]),
        Failure(name: "an acknowledgement instead of data", answers: [[0xE5]],
                error: .unexpected("REQ_UD2 to 5: answer e5 is no RSP_UD long frame"), controls: [0x7B]),
        Failure(name: "answer from another address", answers: [ScriptedSlave(id: "12345678", primary: 6).telegrams[0]],
                error: .unexpected("REQ_UD2 to 5: answer from primary address 6"), controls: [0x7B]),
    ]

    @Test(arguments: failures)
    func requestsAreRetriedWithTheSameFCB(_ f: Failure) throws {
        var n = 0
        let line = ScriptedLine { frame in
            guard frame[1] != 0x40 else { return [[0xE5]] }
            defer { n += 1 }
            return n < f.answers.count ? f.answers[n].map { [$0] } ?? [] : []
        }
        let master = MBusMaster(transport: line, settings: Self.quick)
        try master.reset(5)
        do {
            _ = try master.requestUserData(5)
            #expect(f.error == nil)
            #expect(master.fcb == false, "toggled after the answer")
        } catch {
            #expect(error == f.error)
            #expect(master.fcb == true, "not toggled without an answer")
        }
        #expect(Array(line.controls.dropFirst()) == f.controls)
    }

    @Test func sndNkeWantsTheAcknowledgement() throws {
        let silent = MBusMaster(transport: ScriptedLine { _ in [] }, settings: Self.quick)
        #expect(throws: MBusError.noAnswer("SND_NKE to 7: no answer within 1 ms (3 tries)")) { try silent.reset(7) }
        let wrong = MBusMaster(transport: ScriptedLine { _ in [[0x10, 0x00, 0x07, 0x07, 0x16]] }, settings: Self.quick)
        #expect(throws: MBusError.unexpected("SND_NKE to 7: answer 1000070716 is not the acknowledgement e5")) {
            try wrong.reset(7)
        }
        // An answer in pieces is put together.
        let split = ScriptedSlave(id: "12345678", primary: 7).telegrams[0]
        let line = ScriptedLine { f in f[1] == 0x40 ? [[0xE5]] : [Array(split[..<3]), Array(split[3..<20]), Array(split[20...])] }
        let master = MBusMaster(transport: line, settings: Self.quick)
        try master.reset(7)
        #expect(try master.requestUserData(7) == split)
    }

    struct EchoCase: CustomTestStringConvertible, Sendable {
        var name: String
        var lineEchoes: Bool
        var masterStrips: Bool
        var error: MBusError?
        var testDescription: String { name }
    }

    static let echoCases: [EchoCase] = [
        EchoCase(name: "no echo", lineEchoes: false, masterStrips: false, error: nil),
        EchoCase(name: "echo stripped", lineEchoes: true, masterStrips: true, error: nil),
        EchoCase(name: "echo not expected", lineEchoes: true, masterStrips: false,
                 error: .garbled("SND_NKE to 5: the frame sent came back: the line echoes (--echo)")),
        // The acknowledgement is taken for the start of the echo.
        EchoCase(name: "echo expected, none comes", lineEchoes: false, masterStrips: true,
                 error: .echo("echo cut short: 1 of 5 bytes came back (does the converter echo?)")),
    ]

    @Test(arguments: echoCases)
    func echoesAreStrippedWhenTheConverterEchoes(_ c: EchoCase) throws {
        let slave = ScriptedSlave(id: "12345678", primary: 5, count: 2)
        let line = ScriptedLine(echo: c.lineEchoes, answer: ScriptedSlave.bus([slave]))
        var settings = Self.quick
        settings.echo = c.masterStrips
        let master = MBusMaster(transport: line, settings: settings)
        var seen: [LinkFrameEvent] = []
        master.observer = { seen.append($0) }
        do {
            try master.reset(5)
            #expect(try master.readTelegrams(5, maxTelegrams: 16) == slave.telegrams)
            #expect(c.error == nil)
            // Each frame once, the echo not among them.
            #expect(seen.map(\.direction) == [.tx, .rx, .tx, .rx, .tx, .rx])
        } catch {
            #expect(error == c.error)
        }
    }

    @Test func anEchoThatDiffersIsAnError() {
        let line = ScriptedLine { _ in [[0x10, 0x40, 0x05, 0x45, 0x17], [0xE5]] }
        var settings = Self.quick
        settings.echo = true
        let master = MBusMaster(transport: line, settings: settings)
        #expect(throws: MBusError.echo("echo 1040054517 is not the frame sent 1040054516")) { try master.reset(5) }
    }

    struct Wildcard: CustomTestStringConvertible, Sendable {
        var text: String
        /// The 8 selection bytes, or nil when the text is refused.
        var bytes: String?
        var selects: [String: Bool]
        var testDescription: String { text }
    }

    /// Meters by identity: ACW-12345678-01-07 etc.
    static func meter(_ identity: String) -> MBusSecondaryAddress { MBusSecondaryAddress(identity)! }

    static let wildcards: [Wildcard] = [
        Wildcard(text: "12345678", bytes: "78563412ffffffff",
                 selects: ["ACW-12345678-01-07": true, "KAM-12345678-1A-04": true, "ACW-12345679-01-07": false]),
        Wildcard(text: "1234567F", bytes: "7f563412ffffffff",
                 selects: ["ACW-12345678-01-07": true, "ACW-12345679-01-07": true, "ACW-12345688-01-07": false]),
        Wildcard(text: "F2345678", bytes: "785634f2ffffffff",
                 selects: ["ACW-92345678-01-07": true, "ACW-12345678-01-07": true, "ACW-13345678-01-07": false]),
        Wildcard(text: "FFFFFFFF", bytes: "ffffffffffffffff", selects: ["ACW-00000000-00-00": true]),
        Wildcard(text: "ACW-1234567F-*-*", bytes: "7f5634127704ffff",
                 selects: ["ACW-12345670-01-07": true, "KAM-12345670-01-07": false]),
        Wildcard(text: "*-12345678-0e-FF", bytes: "78563412ffff0eff",
                 selects: ["ACW-12345678-0E-07": true, "ACW-12345678-0F-07": false]),
        Wildcard(text: "KAM-*2*4*6*8-1A-04", bytes: "f8f6f4f22d2c1a04",
                 selects: ["KAM-12345678-1A-04": true, "KAM-02040608-1A-04": true, "KAM-12345678-1A-07": false]),
        // libmbus's 16 hex digits: the manufacturer bytes in frame order.
        Wildcard(text: "1234567877040E16", bytes: "7856341277040e16",
                 selects: ["ACW-12345678-0E-16": true, "ACW-12345678-0E-07": false]),
        Wildcard(text: "123456789", bytes: nil, selects: [:]),
        Wildcard(text: "1234567A", bytes: nil, selects: [:]),
        Wildcard(text: "AC-12345678-01-07", bytes: nil, selects: [:]),
        Wildcard(text: "ACW-12345678-1-07", bytes: nil, selects: [:]),
    ]

    @Test(arguments: wildcards)
    func secondaryAddressesAndWildcards(_ w: Wildcard) throws {
        let address = MBusSecondaryAddress(w.text)
        #expect(address.map { Hex.string($0.bytes) } == w.bytes)
        for (identity, selected) in w.selects {
            #expect(address?.matches(Self.meter(identity)) == selected, "\(w.text) selects \(identity)")
        }
    }

    @Test func theSecondaryAddressOfAResponseAndItsIdentity() throws {
        let frame = ScriptedSlave(id: "11490378", primary: 3).telegrams[0]
        let address = try #require(MBusSecondaryAddress(response: frame))
        #expect(address.description == "ACW-11490378-01-07")
        #expect(MBusSecondaryAddress("1149FFFF")?.description == "*-1149FFFF-FF-FF")
        #expect(MBusSecondaryAddress(response: [0xE5]) == nil)
    }

    @Test func aSecondaryReadSelectsThenReadsTheSelectedSlave() throws {
        let slaves = [ScriptedSlave(id: "12345678", count: 2), ScriptedSlave(id: "87654321")]
        let line = ScriptedLine(answer: ScriptedSlave.bus(slaves))
        let master = MBusMaster(transport: line, settings: Self.quick)
        try master.resetAll()
        #expect(try master.select(MBusSecondaryAddress("1234FFFF")!, tries: 1) == .single)
        #expect(try master.readTelegrams(MBusMaster.selectedAddress, maxTelegrams: 16) == slaves[0].telegrams)
        // Broadcast SND_NKE, SND_UD select (FCB 1), REQ_UD2 (FCB 0, then 1).
        #expect(line.controls == [0x40, 0x73, 0x5B, 0x7B])
        #expect(line.written[1] == MBusTest.bytes("68 0b 0b 68 73 fd 52 ff ff 34 12 ff ff ff ff 02 16"))
        // Several match: their acknowledgements merge, their data collide.
        #expect(try master.select(MBusSecondaryAddress("FFFFFFFF")!, tries: 1) == .single)
        #expect(throws: MBusError.self) { try master.requestUserData(MBusMaster.selectedAddress) }
        #expect(try master.select(MBusSecondaryAddress("5FFFFFFF")!, tries: 2) == .nothing)
    }

    struct Scan: CustomTestStringConvertible, Sendable {
        var name: String
        var ids: [String]
        var mask = "FFFFFFFF"
        /// Identities found, in order; masks left unresolved.
        var found: [String]
        var unresolved: [String] = []
        var testDescription: String { name }
    }

    static let scans: [Scan] = [
        Scan(name: "one meter", ids: ["12345678"], found: ["ACW-12345678-01-07"]),
        Scan(name: "first digits differ", ids: ["87654321", "12345678", "50000000"],
             found: ["ACW-12345678-01-07", "ACW-50000000-01-07", "ACW-87654321-01-07"]),
        Scan(name: "collision down to the last digit", ids: ["12345678", "12345679", "12345600"],
             found: ["ACW-12345600-01-07", "ACW-12345678-01-07", "ACW-12345679-01-07"]),
        Scan(name: "the same ID twice cannot be told apart by its digits", ids: ["12345678", "KAM-12345678", "40000000"],
             found: ["ACW-40000000-01-07"], unresolved: ["*-12345678-FF-FF"]),
        Scan(name: "within a mask", ids: ["12345678", "12345679", "22345678"], mask: "1FFFFFFF",
             found: ["ACW-12345678-01-07", "ACW-12345679-01-07"]),
        Scan(name: "nobody", ids: [], found: []),
    ]

    @Test(arguments: scans)
    func theSecondaryScanFindsEveryMeter(_ s: Scan) throws {
        // "KAM-" gives another manufacturer, so that equal IDs still answer with different frames.
        let slaves = s.ids.map { id in
            id.hasPrefix("KAM-") ? ScriptedSlave(id: String(id.dropFirst(4)), manufacturer: [0x2D, 0x2C]) : ScriptedSlave(id: id)
        }
        let master = MBusMaster(transport: ScriptedLine(answer: ScriptedSlave.bus(slaves)), settings: Self.quick)
        var found: [String] = [], unresolved: [String] = []
        try master.scanSecondary(MBusSecondaryAddress(s.mask)!, found: { address, frame in
            found.append(address.description)
            #expect(MBusSecondaryAddress(response: frame) == address)
        }, unresolved: { unresolved.append($0.description) })
        #expect(found == s.found)
        #expect(unresolved == s.unresolved)
    }

    @Test func thePrimaryScanTellsMeterCollisionAndNothingApart() throws {
        let slaves = [ScriptedSlave(id: "12345678", primary: 1), ScriptedSlave(id: "22222222", primary: 3),
                      ScriptedSlave(id: "33333333", primary: 3)]
        let master = MBusMaster(transport: ScriptedLine(answer: ScriptedSlave.bus(slaves)), settings: Self.quick)
        #expect(try master.probePrimary(0) == .nothing)
        #expect(try master.probePrimary(1) == .found(slaves[0].telegrams[0]))
        #expect(try master.probePrimary(2) == .nothing)
        #expect(try master.probePrimary(3) == .collision)
    }

    @Test func theClockIsSetWithATypeFRecord() throws {
        let line = ScriptedLine { _ in [[0xE5]] }
        let master = MBusMaster(transport: line, settings: Self.quick)
        let time = try #require(UTCTime(iso8601: "2026-07-15T10:42:31Z"))
        try master.setClock(5, to: time, zone: try #require(LocalTimeZone("Europe/Berlin")))
        let frame = try #require(line.written.first)
        // SND_UD, CI 0x51, DIF 0x04 VIF 0x6D, 12:42 local (summer time, hundred-year bits 01), 15.07.26.
        #expect(Array(frame[4...6]) == [0x73, 0x05, 0x51])
        #expect(Array(frame[7..<13]) == [0x04, 0x6D, 42, 12 | 0x20 | 0x80, 15 | (26 & 7) << 5, 7 | (26 >> 3) << 4])
        let decoded = MBusDateTime.decode(frame, 9..<13, bigEndian: false)
        #expect(decoded.text == "2026-07-15T12:42")
        #expect(decoded.utc(in: try #require(LocalTimeZone("Europe/Berlin"))) == UTCTime(iso8601: "2026-07-15T10:42:00Z"))
    }

    @Test func lineTimesFollowTheBaudRate() {
        // EN 13757-2: an answer starts within 330 bit times + 50 ms; 11 bits a character in 8E1.
        #expect(MBusLinkSettings.answerTime(baudRate: 2400) == .microseconds(187_500))
        #expect(MBusLinkSettings.answerTime(baudRate: 300) == .microseconds(1_150_000))
        #expect(MBusLinkSettings(timeout: .seconds(1), baudRate: 2400).transmissionTime(261) == .microseconds(1_196_250))
        #expect(MBusLinkSettings(timeout: .seconds(1), baudRate: 9600, bitsPerCharacter: 10).transmissionTime(1)
                == .microseconds(1041))
        #expect(MBusLinkSettings(timeout: .seconds(1)).transmissionTime(261) == .zero)
    }

    /// The fleet runner reads many lines at once, one master per thread: nothing is shared.
    @Test func mastersOnManyLinesAtOnce() {
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            let slave = ScriptedSlave(id: String(format: "%08d", 10_000_000 + i), primary: UInt8(i), count: 1 + i % 3)
            let master = MBusMaster(transport: ScriptedLine(answer: ScriptedSlave.bus([slave])), settings: Self.quick)
            let ok = (try? master.reset(UInt8(i))) != nil
                && (try? master.readTelegrams(UInt8(i), maxTelegrams: 16)) == slave.telegrams
            results.add(ok)
        }
        #expect(results.all == [Bool](repeating: true, count: 32))
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Bool] = []
        func add(_ v: Bool) { lock.lock(); values.append(v); lock.unlock() }
        var all: [Bool] { lock.lock(); defer { lock.unlock() }; return values }
    }

    @Test func moreRecordsFollowIsFoundAtARecordBoundaryOnly() {
        let header = MBusTest.header()
        #expect(MBusDecoder.moreRecordsFollow(MBusTest.longFrame(ci: 0x72, header + [0x04, 0x13, 1, 2, 3, 4, 0x1F])))
        #expect(!MBusDecoder.moreRecordsFollow(MBusTest.longFrame(ci: 0x72, header + [0x04, 0x13, 1, 2, 3, 4])))
        // 0x1F as data, not as a DIF.
        #expect(!MBusDecoder.moreRecordsFollow(MBusTest.longFrame(ci: 0x72, header + [0x04, 0x13, 0x1F, 0x1F, 0x1F, 0x1F])))
        #expect(!MBusDecoder.moreRecordsFollow(MBusTest.longFrame(ci: 0x72, header + [0x0F, 0x1F])))
        #expect(MBusDecoder.moreRecordsFollow(MBusTest.longFrame(ci: 0x7A, [0x01, 0x00, 0x00, 0x00, 0x02, 0x5A, 0x10, 0x00, 0x1F])))
        #expect(!MBusDecoder.moreRecordsFollow([0xE5]))
    }
}
