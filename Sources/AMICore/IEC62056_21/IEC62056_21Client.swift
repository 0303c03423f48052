#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one IEC 62056-21 session needs besides its transport.
public struct IECClientSettings: Sendable {
    /// The device address for the request message (§6.3.1); empty for any meter (point to point).
    public var address = ""
    /// The mode to read in; nil follows the identification's baud-rate character (§6.3.14).
    public var mode: IECProtocolMode?
    /// The highest speed to switch to in mode C (the meter's own limit applies too).
    public var maxBaudRate: Int?
    /// Send an even parity bit in bit 7 of each character (an 8N1 line carrying 7E1 characters).
    /// Received characters are always masked to 7 bits.
    public var softParity = false
    /// How long to wait for the first character of an answer, and between characters of one.
    public var timeout: Duration = .seconds(5)
    /// How often a request is repeated after no answer, a garbled one or a NAK.
    public var retries = 2

    public init() {}
}

/// Why an IEC 62056-21 session failed. `description` is the message part of a diagnostic.
public enum IECClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The transport failed (connect, read or write error, closed by the meter).
    case transport(TransportError)
    /// Nothing (or nothing complete) came in time, after every retry.
    case noAnswer(String)
    /// The meter answered with something the protocol does not allow, or in a mode not asked for.
    case protocolError(String)
    /// The meter works in a way this client does not (a mode not asked for, a reserved speed,
    /// partial blocks); trying again would not change it.
    case unsupported(String)
    /// A block check character was wrong, after every retry.
    case checksum(String)
    /// The meter refused a read or write (NAK, or an error message such as `(ERROR)`).
    case refused(String)
    /// The meter refused the password (NAK to P1).
    case passwordRefused

    public var description: String {
        switch self {
        case .transport(let e): return e.description
        case .noAnswer(let what): return what
        case .protocolError(let what): return what
        case .unsupported(let what): return what
        case .checksum(let what): return what
        case .refused(let what): return what
        case .passwordRefused: return "password refused (NAK to P1)"
        }
    }

    /// Worth a new attempt: no answer, a garbled answer, a checksum error.
    var isTransient: Bool {
        switch self {
        case .noAnswer, .protocolError, .checksum: true
        default: false
        }
    }
}

/// An answer in programming mode (§6.3.4–§6.3.8): ACK, NAK or a message `STX|SOH … ETX BCC`.
enum IECAnswer: Equatable {
    case ack, nak
    case message([UInt8])
}

/// The client (HHU) side of IEC 62056-21 over a `Transport`: the request, identification and
/// option select of §6.3.1–§6.3.3, data readout in modes A, B and C (§6.4.1–§6.4.3) and programming
/// mode (§6.4.3 with Y = 1: password P1, read R1, write W1, break B0, §6.3.7–§6.3.8).
///
/// Every message sent and received goes to `observer` (7-bit characters, without soft parity).
/// On a `LineSpeedSwitching` transport (a serial port) the speed follows the mode; on others (a
/// transparent TCP gateway) the messages are the same and the speed is the gateway's business.
/// Partial blocks (EOT) and modes D and E (HDLC) are not supported.
public final class IECClient {
    public let transport: any Transport
    public let settings: IECClientSettings
    public var observer: ((LinkFrameEvent) -> Void)?
    /// The identification of the last sign-on.
    public private(set) var identification: IECIdentification?
    /// Received 7-bit characters not yet taken.
    private var pending: [UInt8] = []
    /// The speed the serial line started at, which every sign-on uses.
    private let initialBaudRate: Int?

    public init(transport: any Transport, settings: IECClientSettings) {
        self.transport = transport
        self.settings = settings
        initialBaudRate = (transport as? LineSpeedSwitching)?.baudRate
    }

    // MARK: - sessions

    /// Signs on and reads the data message (`STX data ! CR LF ETX BCC`) in the mode chosen; a
    /// session that gets no answer, a garbled one or a wrong BCC is started again, `retries` times.
    public func readout() throws(IECClientError) -> [UInt8] {
        try attempts { () throws(IECClientError) -> [UInt8] in
            let ident = try signOn()
            let mode = try choose(ident, programming: false)
            switch mode {
            case .a: break
            case .b: try switchSpeed(to: try rate(ident, .b))
            case .c: try selectOption(ident, programming: false)
            }
            guard case .message(let m) = try receive(acceptAckNak: false, "the data message"),
                  m.first == IECControl.stx else {
                throw .protocolError("the meter answered the option select with a command message, not a data message")
            }
            guard m[m.count - 2] == IECControl.etx else { throw .unsupported("partial blocks (EOT) are not supported") }
            try checkBCC(m, "data message")
            return m
        }
    }

    /// Signs on in programming mode (mode C, Y = 1), reads the password request `P0`, sends the
    /// password (P1) when there is one, runs `body`, then ends with the break command B0, also when
    /// `body` fails. Returns the operand of `P0`.
    @discardableResult
    public func program(password: Secret?, _ body: (IECClient) throws(IECClientError) -> Void) throws(IECClientError) -> [UInt8] {
        let operand = try attempts { () throws(IECClientError) -> [UInt8] in
            let ident = try signOn()
            _ = try choose(ident, programming: true)
            try selectOption(ident, programming: true)
            var answer = try receive(acceptAckNak: false, "the password request (P0)")
            var naks = 0
            while case .message(let m) = answer, !bccMatches(m) {
                guard naks < settings.retries else { throw .checksum(bccMessage(m, "P0 message")) }
                naks += 1
                try send([IECControl.nak])
                answer = try receive(acceptAckNak: false, "the password request (P0) again")
            }
            guard case .message(let m) = answer, m.count >= 5, m[0] == IECControl.soh, m[1] == UInt8(ascii: "P"),
                  m[2] == UInt8(ascii: "0") else {
                throw .protocolError("no password request (P0) after the option select for programming mode")
            }
            return IECClient.data(of: m)
        }
        do throws(IECClientError) {
            if let password {
                let message = IECMessage.command("P1", "(" + String(decoding: password.bytes, as: UTF8.self) + ")")
                // A refused password is not sent again: meters lock after a few wrong ones.
                switch try exchange(message, "P1", repeatOnNAK: false) {
                case .ack: break
                case .nak: throw .passwordRefused
                case .message: throw .protocolError("P1 answered with a data message, not ACK or NAK")
                }
            }
            try body(self)
        } catch {
            if case .transport = error {} else { try? sendBreak() }
            throw error
        }
        try sendBreak()
        return operand
    }

    /// R1: reads the data set at `address` (§6.3.7, command R, type 1, data `address()`); returns
    /// the data message `STX address(value) ETX BCC`. An error message or NAK is `.refused`.
    public func read(_ address: String) throws(IECClientError) -> [UInt8] {
        switch try exchange(IECMessage.command("R1", address + "()"), "R1 \(address)", repeatOnNAK: true) {
        case .message(let m) where m.first == IECControl.stx:
            let data = IECClient.data(of: m)
            if data.first == UInt8(ascii: "(") {
                throw .refused("R1 \(address): the meter answered \(String(decoding: data, as: UTF8.self))")
            }
            return m
        case .message: throw .protocolError("R1 \(address): answered with a command message")
        case .ack: throw .protocolError("R1 \(address): answered ACK, not data")
        case .nak: throw .refused("R1 \(address): refused (NAK)")
        }
    }

    /// W1: writes `value` to the data set at `address` (§6.3.7, data `address(value)`); ACK is
    /// success, NAK or an error message `.refused`.
    public func write(_ address: String, _ value: String) throws(IECClientError) {
        switch try exchange(IECMessage.command("W1", "\(address)(\(value))"), "W1 \(address)", repeatOnNAK: true) {
        case .ack: return
        case .nak: throw .refused("W1 \(address): refused (NAK)")
        case .message(let m):
            throw .refused("W1 \(address): the meter answered \(String(decoding: IECClient.data(of: m), as: UTF8.self))")
        }
    }

    /// Sets the clock to the time of one instant in the meter's zone: W1 of 0.9.1 (time `hhmmss`),
    /// then of 0.9.2 (date `YYMMDD`). Within 10 s of the meter's midnight it first waits for the
    /// day to change, so that the two writes name the same day.
    public func setClock(zone: LocalTimeZone, now: () -> UTCTime = UTCTime.now) throws(IECClientError) {
        func local() -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, millisecond: Int) {
            let t = now()
            return UTCTime(milliseconds: t.milliseconds + Int64(zone.offset(at: t)) * 1000).civil
        }
        var t = local()
        let secondsOfDay = t.hour * 3600 + t.minute * 60 + t.second
        if secondsOfDay >= 86_390 {
            pause(.milliseconds(Int64(86_400 - secondsOfDay) * 1000 - Int64(t.millisecond) + 100))
            t = local()
        }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        try write("0.9.1", two(t.hour) + two(t.minute) + two(t.second))
        try write("0.9.2", two(t.year % 100) + two(t.month) + two(t.day))
    }

    // MARK: - steps

    /// Runs `step` up to `retries + 1` times while it fails in a way another attempt may mend.
    private func attempts<T>(_ step: () throws(IECClientError) -> T) throws(IECClientError) -> T {
        var attempt = 0
        while true {
            do {
                return try step()
            } catch {
                guard error.isTransient, attempt < settings.retries else { throw error }
                attempt += 1
                try restoreInitialSpeed()
                pending.removeAll()
            }
        }
    }

    /// Sends the request message at the initial speed and reads the identification (§6.3.1, §6.3.2).
    private func signOn() throws(IECClientError) -> IECIdentification {
        try restoreInitialSpeed()
        identification = nil
        try send(IECMessage.request(address: settings.address))
        return try receiveIdentification()
    }

    /// The mode to read in: the one asked for, which the identification must allow, or the
    /// identification's own. Programming mode needs mode C.
    private func choose(_ ident: IECIdentification, programming: Bool) throws(IECClientError) -> IECProtocolMode {
        let offered = ident.mode
        let mode = settings.mode ?? offered
        if programming, offered != .c {
            throw .unsupported("programming mode needs mode C; baud-rate character '\(ident.baudCharacter)' is mode \(offered.rawValue.uppercased())")
        }
        // Mode A reading works with every meter: one in mode C sends its data at the initial speed
        // when no option select comes (§6.4.3).
        if mode != .a, mode != offered {
            throw .unsupported("baud-rate character '\(ident.baudCharacter)' is mode \(offered.rawValue.uppercased()), not mode \(mode.rawValue.uppercased())")
        }
        return mode
    }

    private func rate(_ ident: IECIdentification, _ mode: IECProtocolMode) throws(IECClientError) -> Int {
        guard let r = ident.baudRate(in: mode) else {
            throw .unsupported("baud-rate character '\(ident.baudCharacter)' is reserved")
        }
        return r
    }

    /// Waits the meter's reaction time, sends ACK 0 Z Y and changes to the speed of Z (§6.3.3): the
    /// meter's highest, or the highest not above `maxBaudRate`.
    private func selectOption(_ ident: IECIdentification, programming: Bool) throws(IECClientError) {
        var baud = try rate(ident, .c)
        if let limit = settings.maxBaudRate { baud = max(300, min(baud, limit)) }
        while IECIdentification.modeCCharacter(for: baud) == nil { baud /= 2 }
        guard let z = IECIdentification.modeCCharacter(for: baud) else { return }
        pause(ident.reactionTime)
        try send(IECMessage.optionSelect(baudCharacter: z, programming: programming))
        try switchSpeed(to: baud)
    }

    private func switchSpeed(to baud: Int) throws(IECClientError) {
        guard let line = transport as? LineSpeedSwitching, line.baudRate != baud else { return }
        do {
            try line.switchBaudRate(to: baud, deadline: .after(settings.timeout))
        } catch {
            throw .transport(error)
        }
    }

    private func restoreInitialSpeed() throws(IECClientError) {
        if let initialBaudRate { try switchSpeed(to: initialBaudRate) }
    }

    /// Sends a programming command and reads its answer: a data message with a wrong BCC is
    /// answered with NAK so that the meter repeats it (§6.3.5), and a NAK makes the command be sent
    /// again (when `repeatOnNAK`), each up to `retries` times.
    private func exchange(_ message: [UInt8], _ what: String, repeatOnNAK: Bool) throws(IECClientError) -> IECAnswer {
        var sent = 0
        while true {
            pause(identification?.reactionTime ?? .milliseconds(200))
            try send(message)
            var answer = try receive(acceptAckNak: true, "the answer to \(what)")
            var naks = 0
            while case .message(let m) = answer, !bccMatches(m) {
                guard naks < settings.retries else { throw .checksum(bccMessage(m, "answer to \(what)")) }
                naks += 1
                pause(identification?.reactionTime ?? .milliseconds(200))
                try send([IECControl.nak])
                answer = try receive(acceptAckNak: true, "the answer to \(what) again")
            }
            if answer == .nak, repeatOnNAK, sent < settings.retries {
                sent += 1
                continue
            }
            return answer
        }
    }

    private func sendBreak() throws(IECClientError) {
        pause(identification?.reactionTime ?? .milliseconds(200))
        try send(IECMessage.command("B0", nil))
    }

    // MARK: - characters

    private func send(_ bytes: [UInt8]) throws(IECClientError) {
        observer?(LinkFrameEvent(direction: .tx, bytes: bytes, time: .now()))
        do {
            try transport.write(settings.softParity ? IECMessage.withSoftParity(bytes) : bytes,
                                deadline: .after(settings.timeout))
        } catch {
            throw .transport(error)
        }
    }

    /// Reads more characters into `pending` (masked to 7 bits); a timeout is "no answer".
    private func fill(_ what: String) throws(IECClientError) {
        do {
            pending += try transport.read(maxCount: 4096, deadline: .after(settings.timeout)).map { $0 & 0x7F }
        } catch {
            if case .timedOut(_, let after) = error {
                throw .noAnswer(pending.isEmpty ? "no \(what) within \(after.diagnosticText)"
                                                : "\(what) incomplete after \(pending.count) characters: nothing more within \(after.diagnosticText)")
            }
            throw .transport(error)
        }
    }

    private func received(_ bytes: [UInt8]) {
        observer?(LinkFrameEvent(direction: .rx, bytes: bytes, time: .now()))
    }

    /// The identification line (CR LF included); an echo of the request is passed over.
    private func receiveIdentification() throws(IECClientError) -> IECIdentification {
        while true {
            if let slash = pending.firstIndex(of: UInt8(ascii: "/")) {
                pending.removeFirst(slash)
            } else {
                pending.removeAll()
            }
            if let lf = pending.firstIndex(of: 0x0A) {
                let raw = Array(pending[...lf])
                pending.removeFirst(lf + 1)
                if raw.count >= 2, raw[1] == UInt8(ascii: "?") { continue }
                let line = Array(raw.prefix { $0 != 0x0D && $0 != 0x0A })
                identification = IECIdentification(line: line)
                received(raw)
                guard let ident = identification else {
                    throw .protocolError("not an identification message: \"\(IECClient.printable(line))\"")
                }
                return ident
            }
            if pending.count > 130 {
                throw .protocolError("no end of the identification message within 130 characters")
            }
            try fill("identification message")
        }
    }

    /// Noise bytes passed over before a message (a line settling after a speed change).
    private static let maxNoise = 64

    /// An ACK, a NAK (when accepted) or a message from STX or SOH up to ETX or EOT and its BCC.
    private func receive(acceptAckNak: Bool, _ what: String) throws(IECClientError) -> IECAnswer {
        var noise = 0
        while true {
            while let b = pending.first, b != IECControl.stx, b != IECControl.soh,
                  !acceptAckNak || (b != IECControl.ack && b != IECControl.nak) {
                noise += 1
                guard noise <= IECClient.maxNoise else {
                    throw .protocolError("\(noise) characters that start no message while waiting for \(what)")
                }
                pending.removeFirst()
            }
            if let b = pending.first, b == IECControl.ack || b == IECControl.nak {
                pending.removeFirst()
                received([b])
                return b == IECControl.ack ? .ack : .nak
            }
            if let end = pending.firstIndex(where: { $0 == IECControl.etx || $0 == IECControl.eot }), end + 1 < pending.count {
                let m = Array(pending[...(end + 1)])
                pending.removeFirst(end + 2)
                received(m)
                return .message(m)
            }
            if pending.count > TextTelegramLayout.maxLength {
                throw .protocolError("no ETX within \(TextTelegramLayout.maxLength) characters of \(what)")
            }
            try fill(what)
        }
    }

    private func bccMatches(_ m: [UInt8]) -> Bool {
        BlockCheck.bcc(m, 1..<(m.count - 1)) == m[m.count - 1]
    }

    private func bccMessage(_ m: [UInt8], _ what: String) -> String {
        "\(what): BCC \(Hex.byte(m[m.count - 1])), computed \(Hex.byte(BlockCheck.bcc(m, 1..<(m.count - 1))))"
    }

    private func checkBCC(_ m: [UInt8], _ what: String) throws(IECClientError) {
        guard bccMatches(m) else { throw .checksum(bccMessage(m, what)) }
    }

    /// What lies between STX and ETX/EOT of a message.
    static func data(of m: [UInt8]) -> [UInt8] {
        guard let stx = m.firstIndex(of: IECControl.stx), stx + 1 <= m.count - 2 else { return [] }
        return Array(m[(stx + 1)..<(m.count - 2)])
    }

    static func printable(_ bytes: [UInt8]) -> String {
        bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : Hex.byte($0) }.joined()
    }

    /// Sleeps `d` (the reaction time between a message and the answer to it).
    private func pause(_ d: Duration) {
        let (s, atto) = d.components
        var request = timespec(tv_sec: Int(s), tv_nsec: Int(atto / 1_000_000_000))
        var left = timespec()
        while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
    }
}
