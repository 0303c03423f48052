import Foundation
import Testing
@testable import AMICore

/// A meter played from a script: each message the client writes must be the next one expected,
/// and its answer becomes readable; a read with nothing to read times out at once. It records the
/// messages written and every speed change.
private final class ScriptedMeter: Transport, LineSpeedSwitching {
    struct Step {
        var expect: [UInt8]
        var reply: [UInt8]
    }

    let endpoint = "serial:/dev/scripted"
    private(set) var baudRate: Int
    var steps: [Step]
    private(set) var written: [[UInt8]] = []
    private(set) var speeds: [Int] = []
    private(set) var unexpected: [[UInt8]] = []
    private var inbox: [UInt8] = []
    /// Applied to what the meter sends (soft parity, noise).
    var transform: ([UInt8]) -> [UInt8] = { $0 }

    init(baudRate: Int = 300, _ steps: [Step]) {
        self.baudRate = baudRate
        self.steps = steps
    }

    func write(_ bytes: [UInt8], deadline: Deadline) throws(TransportError) {
        written.append(bytes)
        guard let step = steps.first, step.expect == bytes.map({ $0 & 0x7F }) else {
            unexpected.append(bytes)
            return
        }
        steps.removeFirst()
        inbox += transform(step.reply)
    }

    func read(maxCount: Int, deadline: Deadline) throws(TransportError) -> [UInt8] {
        guard !inbox.isEmpty else { throw .timedOut(.read, after: deadline.budget) }
        let n = min(maxCount, inbox.count)
        defer { inbox.removeFirst(n) }
        return Array(inbox.prefix(n))
    }

    func close() {}

    func switchBaudRate(to baud: Int, deadline: Deadline) throws(TransportError) {
        baudRate = baud
        speeds.append(baud)
    }
}

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }
private let crlf = b("\r\n")
private let ack: [UInt8] = [0x06], nak: [UInt8] = [0x15]

/// `STX text ETX BCC`, or with `bcc` a given (wrong) one.
private func dataMessage(_ text: String, bcc: UInt8? = nil) -> [UInt8] {
    let body = b(text) + [0x03]
    return [0x02] + body + [bcc ?? body.reduce(0, ^)]
}

private let readoutText = "0.0.0(12345678)\r\n1.8.0(012345.678*kWh)\r\n!\r\n"
private let password = Secret(b("00000000"))

private func step(_ expect: [UInt8], _ reply: [UInt8]) -> ScriptedMeter.Step { .init(expect: expect, reply: reply) }
private func command(_ c: String, _ data: String?) -> [UInt8] { IECMessage.command(c, data) }

/// The sign-on and programming-mode entry of a mode C meter at 9600 baud with a 20 ms reaction time.
private let programmingEntry = [
    step(b("/?!") + crlf, b("/SIm5MeterSim-1") + crlf),
    // P0 exactly as the simulator sends it.
    step([0x06] + b("051") + crlf, try! Hex.decode(Array("01503002283132333435363738290368".utf8))),
]

private func settings(_ change: (inout IECClientSettings) -> Void = { _ in }) -> IECClientSettings {
    var s = IECClientSettings()
    s.timeout = .milliseconds(50)
    s.retries = 1
    change(&s)
    return s
}

@Suite struct IEC62056ClientTests {
    struct IdentificationCase: CustomTestStringConvertible, Sendable {
        var line: String
        var manufacturer: String?
        var mode: IECProtocolMode = .c
        var baud: Int? = nil
        var modeE = false
        var reaction = 200
        var identification = ""
        var testDescription: String { line }
    }

    static let identifications: [IdentificationCase] = [
        .init(line: "/SIM5MeterSim-1", manufacturer: "SIM", baud: 9600, identification: "MeterSim-1"),
        .init(line: "/ISk5MT174-0001", manufacturer: "ISk", baud: 9600, reaction: 20, identification: "MT174-0001"),
        .init(line: "/LGZ5\\2ZMD120AP", manufacturer: "LGZ", baud: 9600, modeE: true, identification: "ZMD120AP"),
        .init(line: "/ABC0x", manufacturer: "ABC", baud: 300, identification: "x"),
        .init(line: "/ABC6x", manufacturer: "ABC", baud: 19200, identification: "x"),
        .init(line: "/ABC7x", manufacturer: "ABC", baud: nil, identification: "x"),
        .init(line: "/ABCAx", manufacturer: "ABC", mode: .b, baud: 600, identification: "x"),
        .init(line: "/ABCEx", manufacturer: "ABC", mode: .b, baud: 9600, identification: "x"),
        .init(line: "/ABCFx", manufacturer: "ABC", mode: .b, baud: 19200, identification: "x"),
        .init(line: "/ABCGx", manufacturer: "ABC", mode: .b, baud: nil, identification: "x"),
        .init(line: "/ABC:EMH meter", manufacturer: "ABC", mode: .a, baud: nil, identification: "EMH meter"),
        .init(line: "/?12!", manufacturer: nil),
        .init(line: "/AB5", manufacturer: nil),
        .init(line: "/1BC5x", manufacturer: nil),
        .init(line: "SIM5x", manufacturer: nil),
        .init(line: "/SIM5a!b", manufacturer: nil),
    ]

    /// The identification message (§6.3.2): manufacturer, baud-rate character and the mode and
    /// speed it stands for (§6.3.14), the `\2` mode E marker, the reaction time.
    @Test(arguments: identifications)
    func identification(_ c: IdentificationCase) {
        let ident = IECIdentification(line: b(c.line))
        #expect(ident?.manufacturer == c.manufacturer)
        guard let ident else { return }
        #expect(ident.mode == c.mode)
        #expect(ident.baudRate(in: c.mode) == c.baud)
        #expect(ident.offersModeE == c.modeE)
        #expect(ident.reactionTime == .milliseconds(c.reaction))
        #expect(ident.identification == c.identification)
    }

    @Test func messagesAsTheStandardWritesThem() {
        #expect(IECMessage.request(address: "") == b("/?!\r\n"))
        #expect(IECMessage.request(address: "12345678") == b("/?12345678!\r\n"))
        #expect(IECMessage.optionSelect(baudCharacter: UInt8(ascii: "5"), programming: false) == [0x06] + b("050\r\n"))
        // The break and password messages exactly as the simulator's log shows them.
        #expect(Hex.string(IECMessage.command("B0", nil)) == "0142300371")
        #expect(Hex.string(IECMessage.command("P1", "(00000000)")) == "01503102283030303030303030290361")
        #expect(IECMessage.isValidAddress("12345678") && IECMessage.isValidAddress("") && !IECMessage.isValidAddress("1!2"))
        #expect(IECMessage.withSoftParity(b("/?!")) == [0x2F | 0x80, 0x3F, 0x21])
    }

    struct ReadoutCase: CustomTestStringConvertible, Sendable {
        var name: String
        var identification: String
        var mode: IECProtocolMode?
        var maxBaud: Int?
        /// The option select expected, nil for none.
        var optionSelect: String?
        var speeds: [Int]
        var error: String?
        var testDescription: String { name }
    }

    static let readouts: [ReadoutCase] = [
        .init(name: "mode C at the meter's speed", identification: "/SIm5MeterSim-1", optionSelect: "050", speeds: [9600]),
        .init(name: "mode C limited by --max-baud", identification: "/SIm5MeterSim-1", maxBaud: 2400, optionSelect: "030", speeds: [2400]),
        .init(name: "mode C at 300 baud", identification: "/SIm0MeterSim-1", optionSelect: "000", speeds: []),
        .init(name: "mode E marker read in mode C", identification: "/SIm6\\2X", optionSelect: "060", speeds: [19200]),
        .init(name: "mode B switches without ACK", identification: "/SImEX", speeds: [9600]),
        .init(name: "mode A neither acknowledges nor switches", identification: "/SIm:X", speeds: []),
        .init(name: "mode A asked of a mode C meter", identification: "/SIm5X", mode: .a, speeds: []),
        .init(name: "mode C asked of a mode B meter", identification: "/SImEX", mode: .c, speeds: [],
              error: "baud-rate character 'E' is mode B, not mode C"),
        .init(name: "reserved mode B character", identification: "/SImGX", speeds: [],
              error: "baud-rate character 'G' is reserved"),
    ]

    /// Readout sessions in modes A, B and C (§6.4.1–§6.4.3): what is sent, the speed changes, the
    /// data message returned.
    @Test(arguments: readouts)
    func readout(_ c: ReadoutCase) throws {
        let data = dataMessage(readoutText)
        var steps = [step(b("/?!") + crlf, b(c.identification) + crlf + (c.optionSelect == nil ? data : []))]
        if let o = c.optionSelect { steps.append(step([0x06] + b(o) + crlf, data)) }
        let meter = ScriptedMeter(steps)
        let client = IECClient(transport: meter, settings: settings { $0.mode = c.mode; $0.maxBaudRate = c.maxBaud })
        var frames: [LinkFrameEvent] = []
        client.observer = { frames.append($0) }
        do {
            let message = try client.readout()
            #expect(c.error == nil)
            #expect(message == data)
            #expect(frames.map(\.direction) == (c.optionSelect == nil ? [.tx, .rx, .rx] : [.tx, .rx, .tx, .rx]))
            #expect(frames.last?.bytes == data)
        } catch {
            #expect(error.description == c.error)
        }
        #expect(meter.speeds == c.speeds)
        #expect(meter.unexpected.isEmpty)
    }

    /// A data message with a wrong BCC starts the session again at the initial speed; a second one
    /// that is right is returned.
    @Test func aWrongBCCIsReadAgain() throws {
        let ident = b("/SIm5MeterSim-1") + crlf
        let meter = ScriptedMeter([
            step(b("/?!") + crlf, ident), step([0x06] + b("050") + crlf, dataMessage(readoutText, bcc: 0x00)),
            step(b("/?!") + crlf, ident), step([0x06] + b("050") + crlf, dataMessage(readoutText)),
        ])
        let message = try IECClient(transport: meter, settings: settings()).readout()
        #expect(message == dataMessage(readoutText))
        #expect(meter.speeds == [9600, 300, 9600])
    }

    @Test func aWrongBCCEveryTimeIsAChecksumError() {
        let ident = b("/SIm5MeterSim-1") + crlf
        let meter = ScriptedMeter([
            step(b("/?!") + crlf, ident), step([0x06] + b("050") + crlf, dataMessage(readoutText, bcc: 0x01)),
            step(b("/?!") + crlf, ident), step([0x06] + b("050") + crlf, dataMessage(readoutText, bcc: 0x01)),
        ])
        #expect(throws: IECClientError.checksum("data message: BCC 0x01, computed 0x\(Hex.string([dataMessage(readoutText).last!]).uppercased())")) {
            try IECClient(transport: meter, settings: settings()).readout()
        }
    }

    /// A meter that never answers: the request is sent `retries + 1` times, then "no answer".
    @Test func noAnswerAfterEveryRetry() {
        let meter = ScriptedMeter([])
        #expect(throws: IECClientError.noAnswer("no identification message within 50 ms")) {
            try IECClient(transport: meter, settings: settings { $0.retries = 2; $0.address = "42" }).readout()
        }
        #expect(meter.written == Array(repeating: b("/?42!\r\n"), count: 3))
    }

    /// An echo of the request (a half-duplex head) and line noise before the identification and
    /// after the speed change are passed over; soft parity goes out in bit 7 and is masked on receipt.
    @Test func echoNoiseAndSoftParity() throws {
        let meter = ScriptedMeter([
            step(b("/?!") + crlf, b("/?!") + crlf + [0x00, 0x7F] + b("/SIm5MeterSim-1") + crlf),
            step([0x06] + b("050") + crlf, [0x00, 0x0A] + dataMessage(readoutText)),
        ])
        meter.transform = IECMessage.withSoftParity
        let message = try IECClient(transport: meter, settings: settings { $0.softParity = true }).readout()
        #expect(message == dataMessage(readoutText))
        #expect(meter.written.first == IECMessage.withSoftParity(b("/?!\r\n")))
        #expect(meter.written.first != b("/?!\r\n"))
    }

    @Test func garbageInsteadOfAnIdentificationIsAProtocolError() {
        let meter = ScriptedMeter([step(b("/?!") + crlf, b("/12\u{7}x") + crlf)])
        #expect(throws: IECClientError.self) {
            try IECClient(transport: meter, settings: settings { $0.retries = 0 }).readout()
        }
        let error = #expect(throws: IECClientError.self) {
            try IECClient(transport: ScriptedMeter([step(b("/?!") + crlf, b("/12x") + crlf)]), settings: settings { $0.retries = 0 }).readout()
        }
        #expect(error == .protocolError("not an identification message: \"/12x\""))
    }

    /// Programming mode (§6.4.3, Y = 1): P0 from the meter, P1 with the password, R1 and W1, and
    /// the break B0 at the end.
    @Test func programmingModeReadsAndWrites() throws {
        let meter = ScriptedMeter(programmingEntry + [
            step(command("P1", "(00000000)"), ack),
            step(command("R1", "1.8.0()"), dataMessage("1.8.0(012345.678*kWh)")),
            step(command("W1", "0.9.1(235959)"), ack),
            step(command("B0", nil), []),
        ])
        var read: [UInt8] = []
        let operand = try IECClient(transport: meter, settings: settings()).program(password: password) { c throws(IECClientError) in
            read = try c.read("1.8.0")
            try c.write("0.9.1", "235959")
        }
        #expect(operand == b("(12345678)"))
        #expect(read == dataMessage("1.8.0(012345.678*kWh)"))
        #expect(meter.steps.isEmpty && meter.unexpected.isEmpty)
        #expect(meter.speeds == [9600])
    }

    /// A refused password is not sent again (meters lock after wrong ones); the session ends with B0.
    @Test func aRefusedPasswordEndsTheSession() {
        let meter = ScriptedMeter(programmingEntry + [step(command("P1", "(00000000)"), nak), step(command("B0", nil), [])])
        #expect(throws: IECClientError.passwordRefused) {
            try IECClient(transport: meter, settings: settings()).program(password: password) { _ throws(IECClientError) in
                Issue.record("body run after a refused password")
            }
        }
        #expect(meter.steps.isEmpty && meter.unexpected.isEmpty)
    }

    /// A NAK to R1 makes it be sent again (`retries` times) before it counts as refused; an answer
    /// with a wrong BCC is answered with NAK and read again; `(ERROR)` is a refusal.
    @Test func refusalsAndRepeats() throws {
        let r1 = command("R1", "1.8.0()")
        let meter = ScriptedMeter(programmingEntry + [
            step(r1, nak), step(r1, nak),
            step(r1, dataMessage("1.8.0(1*kWh)", bcc: 0x00)), step(nak, dataMessage("1.8.0(1*kWh)")),
            step(command("R1", "9.9.9()"), dataMessage("(ERROR)")),
            step(command("B0", nil), []),
        ])
        var outcomes: [String] = []
        try IECClient(transport: meter, settings: settings()).program(password: nil) { c throws(IECClientError) in
            for address in ["1.8.0", "1.8.0", "9.9.9"] {
                do throws(IECClientError) {
                    outcomes.append(String(decoding: IECClient.data(of: try c.read(address)), as: UTF8.self))
                } catch {
                    outcomes.append(error.description)
                }
            }
        }
        #expect(outcomes == ["R1 1.8.0: refused (NAK)", "1.8.0(1*kWh)", "R1 9.9.9: the meter answered (ERROR)"])
        #expect(meter.steps.isEmpty && meter.unexpected.isEmpty)
    }

    /// Programming mode needs mode C; a mode B meter is told so before anything is written.
    @Test func programmingModeNeedsModeC() {
        let meter = ScriptedMeter([step(b("/?!") + crlf, b("/SImEX") + crlf)])
        #expect(throws: IECClientError.unsupported("programming mode needs mode C; baud-rate character 'E' is mode B")) {
            try IECClient(transport: meter, settings: settings { $0.retries = 0 }).program(password: nil) { _ throws(IECClientError) in }
        }
    }

    /// The clock is written as the meter's local time of one instant: 0.9.1 `hhmmss`, 0.9.2 `YYMMDD`.
    @Test func setClockWritesLocalTimeAndDate() throws {
        let meter = ScriptedMeter(programmingEntry + [
            step(command("W1", "0.9.1(012030)"), ack),
            step(command("W1", "0.9.2(260701)"), ack),
            step(command("B0", nil), []),
        ])
        let instant = try #require(UTCTime(iso8601: "2026-06-30T23:20:30Z"))
        try IECClient(transport: meter, settings: settings()).program(password: nil) { c throws(IECClientError) in
            try c.setClock(zone: try! #require(LocalTimeZone("Europe/Berlin")), now: { instant })
        }
        #expect(meter.steps.isEmpty && meter.unexpected.isEmpty)
    }

    /// Session messages in a frame record decode to nothing; a command with a wrong BCC is an error;
    /// outside a frame record named IEC 62056-21 they are not frames.
    @Test func sessionMessagesAreFramesWithoutReadings() {
        for m in [ack, nak, command("B0", nil), command("P1", "(x)"), b("/SIM5MeterSim-1\r\n")] {
            #expect(IECMessage.sessionMessageLength(m, at: 0, end: m.count) == m.count)
            var out = DecodeOutput()
            let context = FrameContext(source: "t", frameIndex: 0, options: DecodeOptions())
            #expect(throws: Never.self) { try IEC62056_21Decoder.decode(m, context: context, into: &out) }
            #expect(out.records.isEmpty)
        }
        var bad = command("P1", "(x)")
        bad[bad.count - 1] ^= 1
        var out = DecodeOutput()
        #expect(throws: DecodeError.self) {
            try IEC62056_21Decoder.decode(bad, context: FrameContext(source: "t", frameIndex: 0, options: DecodeOptions()), into: &out)
        }
        #expect(IECMessage.sessionMessageLength([0x06, 0x06], at: 0, end: 2) == nil)
        #expect(IECMessage.sessionMessageLength(b("/SIM5MeterSim-1\r\n\u{2}"), at: 0, end: 18) == nil)
    }
}
