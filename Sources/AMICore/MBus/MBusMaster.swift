#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How a master talks on one wired M-Bus line (a level converter on a serial port, or a TCP
/// gateway).
public struct MBusLinkSettings: Sendable {
    /// How long to wait for the first byte of an answer.
    public var timeout: Duration
    /// Times a request that got no answer, or a garbled one, is sent again (same frame, same FCB).
    public var retries: Int
    /// The level converter echoes every byte the master sends: read them back and strip them.
    public var echo: Bool
    /// The serial line speed, for the time frames take on the line; nil over TCP.
    public var baudRate: Int?
    /// Bits per character on the line: start, 8 data, parity, stop (11 for 8E1).
    public var bitsPerCharacter: Int

    public init(timeout: Duration, retries: Int = 2, echo: Bool = false, baudRate: Int? = nil,
                bitsPerCharacter: Int = 11) {
        self.timeout = timeout
        self.retries = retries
        self.echo = echo
        self.baudRate = baudRate
        self.bitsPerCharacter = bitsPerCharacter
    }

    /// The longest a slave may take to start its answer (EN 13757-2 §5.6, answer timing): 330 bit
    /// times plus 50 ms, 0.1875 s at 2400 baud.
    public static func answerTime(baudRate: Int) -> Duration {
        .microseconds(330 * 1_000_000 / Int64(max(baudRate, 1))) + .milliseconds(50)
    }

    /// The time `count` characters take on the serial line; zero over TCP.
    func transmissionTime(_ count: Int) -> Duration {
        guard let baud = baudRate, baud > 0 else { return .zero }
        return .microseconds(Int64(count * bitsPerCharacter) * 1_000_000 / Int64(baud))
    }
}

/// Why an exchange with M-Bus slaves failed. `description` is the message of a diagnostic.
public enum MBusError: Error, Equatable, CustomStringConvertible {
    /// The line or connection failed.
    case transport(TransportError)
    /// No answer came within the timeout, after every try.
    case noAnswer(String)
    /// What came was no frame, or one with a bad checksum, after every try.
    case garbled(String)
    /// `--echo`: the bytes read back are not the bytes sent.
    case echo(String)
    /// A frame came that does not answer the request (wrong kind, wrong address).
    case unexpected(String)
    /// More than one slave answers a secondary selection.
    case collision(String)

    public var description: String {
        switch self {
        case .transport(let e): "\(e)"
        case .noAnswer(let s), .garbled(let s), .echo(let s), .unexpected(let s), .collision(let s): s
        }
    }
}

/// The master of a wired M-Bus line: the link layer of EN 13757-2 (short frame SND_NKE and REQ_UD2,
/// long frame SND_UD, single character acknowledgement 0xE5, the frame count bit) and the
/// addressing of EN 13757-3 (primary addresses 0–250, secondary selection through address 253,
/// with wildcards), over any `Transport`. Frames go to `observer` as they are sent and received
/// (echoes stripped, garbled answers not). Not thread-safe: one master per line.
public final class MBusMaster {
    public let transport: any Transport
    public let settings: MBusLinkSettings
    public var observer: ((LinkFrameEvent) -> Void)?
    /// The FCB of the next SND_UD or REQ_UD2 (FCV set): set after SND_NKE, which clears the slave's
    /// (the first frame then counts as toggled), and toggled after each exchange that succeeded; a
    /// frame sent again keeps it, so the slave repeats its last answer instead of moving on
    /// (EN 13757-2 §5.4, FCB and FCV).
    public private(set) var fcb = true
    /// The frame sent last, to recognise an echo the settings do not expect.
    private var lastSent: [UInt8] = []

    /// The network layer address: the slave selected by secondary address answers it.
    public static let selectedAddress: UInt8 = 0xFD
    /// The broadcast address to which no slave answers.
    public static let broadcastNoReply: UInt8 = 0xFF

    public init(transport: any Transport, settings: MBusLinkSettings) {
        self.transport = transport
        self.settings = settings
    }

    // MARK: - link layer

    /// An answer as read from the line.
    enum Answer: Equatable {
        /// Nothing within the timeout.
        case none
        /// One intact frame.
        case frame([UInt8])
        /// Bytes that are no intact frame: a collision of several slaves, or noise.
        case garbled(String)
    }

    /// Writes `frame` (after dropping anything left unread from before, and a pause of 11 bit times
    /// on a serial line, the least EN 13757-2 has between frames), then reads back its echo under
    /// `--echo`.
    func send(_ frame: [UInt8]) throws(MBusError) {
        discardPending()
        sleep(settings.transmissionTime(1))
        let deadline = Deadline.after(settings.timeout + settings.transmissionTime(frame.count))
        do {
            try transport.write(frame, deadline: deadline)
        } catch {
            throw .transport(error)
        }
        observer?(LinkFrameEvent(direction: .tx, bytes: frame, time: .now()))
        lastSent = frame
        guard settings.echo else { return }
        var echo: [UInt8] = []
        while echo.count < frame.count {
            do {
                echo += try transport.read(maxCount: frame.count - echo.count, deadline: deadline)
            } catch .timedOut {
                throw .echo("echo cut short: \(echo.count) of \(frame.count) bytes came back (does the converter echo?)")
            } catch {
                throw .transport(error)
            }
        }
        guard echo == frame else {
            throw .echo("echo \(Hex.string(echo)) is not the frame sent \(Hex.string(frame))")
        }
    }

    /// Reads one answer: the first byte within the timeout after the frame sent has left (the
    /// write returns once the port holds it; its echo, when there is one, was read already), the
    /// rest within the time the longest frame (261 bytes) takes on the line plus the timeout.
    func receive() throws(MBusError) -> Answer {
        var buffer: [UInt8]
        let sending = settings.echo ? .zero : settings.transmissionTime(lastSent.count)
        do {
            buffer = try transport.read(maxCount: 512, deadline: .after(settings.timeout + sending))
        } catch .timedOut {
            return .none
        } catch {
            throw .transport(error)
        }
        let rest = Deadline.after(settings.timeout + settings.transmissionTime(261))
        while true {
            switch MBusFraming.scan(buffer, at: 0, end: buffer.count, atEnd: false) {
            case .frame(_, let length):
                let frame = Array(buffer[..<length])
                if frame == lastSent && !settings.echo {
                    drain()
                    return .garbled("the frame sent came back: the line echoes (--echo)")
                }
                guard length == buffer.count else {
                    drain()
                    return .garbled("\(buffer.count - length) more bytes after a frame")
                }
                guard MBusFraming.isIntact(frame) else {
                    drain()
                    return .garbled("bad checksum in \(Hex.string(frame))")
                }
                observer?(LinkFrameEvent(direction: .rx, bytes: frame, time: .now()))
                return .frame(frame)
            case .needMore:
                do {
                    buffer += try transport.read(maxCount: 512, deadline: rest)
                } catch .timedOut {
                    return .garbled("answer cut short after \(buffer.count) bytes: \(Hex.string(buffer))")
                } catch {
                    throw .transport(error)
                }
            case .invalid(let error, _):
                drain()
                return .garbled("no frame (\(error.message)): \(Hex.string(Array(buffer.prefix(32))))")
            }
        }
    }

    /// Reads and drops what follows a garbled answer until the line is quiet for the timeout, at
    /// most for the time of two long frames more.
    private func drain() {
        let limit = Deadline.after(settings.timeout + settings.transmissionTime(2 * 261))
        while !limit.hasPassed {
            do {
                _ = try transport.read(maxCount: 512, deadline: limit.capped(at: settings.timeout))
            } catch {
                return
            }
        }
    }

    /// Drops bytes already waiting (a late answer to an earlier request).
    private func discardPending() {
        while (try? transport.read(maxCount: 512, deadline: .after(.zero))) != nil {}
    }

    /// True when more bytes come within a short while (two character times, at least 20 ms): a
    /// second slave answering after the first.
    private func moreFollows() -> Bool {
        let window = max(settings.transmissionTime(2), .milliseconds(20))
        guard (try? transport.read(maxCount: 512, deadline: .after(window))) != nil else { return false }
        drain()
        return true
    }

    /// Sends `frame` and reads its answer, sending it again (unchanged) on no answer or a garbled
    /// one, up to `tries` times in all.
    func exchange(_ frame: [UInt8], _ what: @autoclosure () -> String,
                  tries: Int? = nil) throws(MBusError) -> [UInt8] {
        let n = tries ?? settings.retries + 1
        var last = MBusError.noAnswer("")
        for _ in 0..<max(n, 1) {
            try send(frame)
            switch try receive() {
            case .frame(let answer): return answer
            case .none: last = .noAnswer("\(what()): no answer within \(settings.timeout.diagnosticText) (\(n) tries)")
            case .garbled(let why): last = .garbled("\(what()): \(why)")
            }
        }
        throw last
    }

    /// Throws unless `answer` is the single character acknowledgement.
    private func acknowledged(_ answer: [UInt8], _ what: String) throws(MBusError) {
        guard answer == [0xE5] else {
            throw .unexpected("\(what): answer \(Hex.string(Array(answer.prefix(16)))) is not the acknowledgement e5")
        }
    }

    /// SND_NKE (C 0x40): resets the link of the slave at `address`, which acknowledges; its FCB
    /// is cleared, so the next request counts as new.
    public func reset(_ address: UInt8) throws(MBusError) {
        let what = "SND_NKE to \(address)"
        try acknowledged(try exchange(MBusFraming.shortFrame(control: 0x40, address: address), what), what)
        fcb = true
    }

    /// SND_NKE to the broadcast address 255: every slave resets its link and none answers.
    public func resetAll() throws(MBusError) {
        try send(MBusFraming.shortFrame(control: 0x40, address: MBusMaster.broadcastNoReply))
        fcb = true
        // Give the slaves the time of an answer to take it in before the next frame.
        sleep(settings.transmissionTime(11))
    }

    /// REQ_UD2 (C 0x5B, 0x7B with the FCB): the slave's class 2 data, as an RSP_UD long frame.
    public func requestUserData(_ address: UInt8) throws(MBusError) -> [UInt8] {
        let what = "REQ_UD2 to \(address)"
        let answer = try exchange(MBusFraming.shortFrame(control: fcb ? 0x7B : 0x5B, address: address), what)
        try checkResponse(answer, from: address, what)
        fcb.toggle()
        return answer
    }

    /// Throws unless `answer` is an RSP_UD long frame (C 0x08 with any ACD and DFC bits) from
    /// `address` (any slave's for 253, 254, 255).
    private func checkResponse(_ answer: [UInt8], from address: UInt8, _ what: String) throws(MBusError) {
        guard answer.count >= 9, answer[0] == 0x68, answer[4] & 0xCF == 0x08 else {
            throw .unexpected("\(what): answer \(Hex.string(Array(answer.prefix(16)))) is no RSP_UD long frame")
        }
        if address <= 250, answer[5] != address {
            throw .unexpected("\(what): answer from primary address \(answer[5])")
        }
    }

    /// SND_UD (C 0x53, 0x73 with the FCB) of `data` under `ci`, which the slave acknowledges.
    public func sendUserData(_ address: UInt8, ci: UInt8, data: [UInt8], what: String) throws(MBusError) {
        let frame = MBusFraming.longFrame(control: fcb ? 0x73 : 0x53, address: address, ci: ci, data: data)
        try acknowledged(try exchange(frame, what), what)
        fcb.toggle()
    }

    // MARK: - application layer

    /// Reads the slave's telegrams at `address` (a primary address, or 253 for the selected slave):
    /// one REQ_UD2 each, the FCB toggled between them, for as long as a telegram ends with "more
    /// records follow" (DIF 0x1F) and at most `maxTelegrams`.
    public func readTelegrams(_ address: UInt8, maxTelegrams: Int) throws(MBusError) -> [[UInt8]] {
        var telegrams: [[UInt8]] = []
        repeat {
            let t = try requestUserData(address)
            telegrams.append(t)
            guard MBusDecoder.moreRecordsFollow(t) else { break }
        } while telegrams.count < maxTelegrams
        return telegrams
    }

    /// What a secondary selection finds.
    public enum Selection: Equatable {
        /// No slave answers.
        case nothing
        /// One acknowledgement, nothing after it: one slave (or several that answered as one).
        case single
        /// Garbled bytes, or more than the acknowledgement: several slaves.
        case collision
    }

    /// Selects the slave(s) matching `address` (SND_UD to 253, CI 0x52 with the 8 address bytes,
    /// wildcards allowed; EN 13757-3 secondary addressing). Slaves that do not match drop their
    /// selection. Sent up to `tries` times while nothing answers.
    public func select(_ address: MBusSecondaryAddress, tries: Int) throws(MBusError) -> Selection {
        let frame = MBusFraming.longFrame(control: fcb ? 0x73 : 0x53, address: MBusMaster.selectedAddress,
                                          ci: 0x52, data: address.bytes)
        for _ in 0..<max(tries, 1) {
            try send(frame)
            switch try receive() {
            case .none: continue
            case .garbled: return .collision
            case .frame(let answer):
                guard answer == [0xE5], !moreFollows() else { return .collision }
                fcb.toggle()
                return .single
            }
        }
        return .nothing
    }

    /// What probing one secondary address (with wildcards) finds.
    public enum Probe: Equatable {
        case nothing
        case collision
        /// One slave, with its own address (from its answer's long header) and its RSP_UD.
        case found(MBusSecondaryAddress, [UInt8])
    }

    /// Selects `mask`, then asks the selected slave for its data: one slave answers with a frame
    /// whose address matches; anything garbled, or a frame from another address, is a collision.
    /// Each frame is sent once (a scan does not retry; libmbus's scan does the same).
    public func probe(_ mask: MBusSecondaryAddress) throws(MBusError) -> Probe {
        switch try select(mask, tries: 1) {
        case .nothing: return .nothing
        case .collision: return .collision
        case .single: break
        }
        try send(MBusFraming.shortFrame(control: fcb ? 0x7B : 0x5B, address: MBusMaster.selectedAddress))
        switch try receive() {
        case .none: return .nothing
        case .garbled: return .collision
        case .frame(let answer):
            guard (try? checkResponse(answer, from: MBusMaster.selectedAddress, "")) != nil else { return .collision }
            fcb.toggle()
            guard let own = MBusSecondaryAddress(response: answer) else { return .found(mask, answer) }
            return mask.matches(own) ? .found(own, answer) : .collision
        }
    }

    /// The secondary scan: probes `mask` with each wildcard identification digit, from the most
    /// significant, set to 0–9; where several slaves answer (a collision) it fixes that digit and
    /// goes on with the next wildcard digit (libmbus's and EN 13757-3 Annex's search). Each slave
    /// found goes to `found` with its RSP_UD; a collision with no wildcard digit left (slaves whose
    /// identification numbers are the same) goes to `unresolved`.
    public func scanSecondary(_ mask: MBusSecondaryAddress = .any,
                              found: (MBusSecondaryAddress, [UInt8]) -> Void,
                              unresolved: (MBusSecondaryAddress) -> Void) throws(MBusError) {
        try resetAll()
        func search(_ mask: MBusSecondaryAddress, from position: Int) throws(MBusError) {
            guard let p = (position..<8).first(where: { mask.digit($0) == 0xF }) else {
                switch try probe(mask) {
                case .nothing: break
                case .collision: unresolved(mask)
                case .found(let address, let frame): found(address, frame)
                }
                return
            }
            for d: UInt8 in 0...9 {
                var m = mask
                m.setDigit(p, d)
                switch try probe(m) {
                case .nothing: continue
                case .found(let address, let frame): found(address, frame)
                case .collision:
                    if (p + 1..<8).contains(where: { m.digit($0) == 0xF }) {
                        try search(m, from: p + 1)
                    } else {
                        unresolved(m)
                    }
                }
            }
        }
        try search(mask, from: 0)
    }

    /// What a primary scan finds at one address.
    public enum PrimaryProbe: Equatable {
        case nothing
        /// Garbled answers to SND_NKE or REQ_UD2: several slaves share the address.
        case collision
        /// A slave acknowledged SND_NKE; its RSP_UD, or why it could not be read.
        case found([UInt8])
        case unreadable(MBusError)
    }

    /// Probes primary address `address`: SND_NKE once (a scan does not retry an empty address),
    /// then REQ_UD2 (with retries) where a slave acknowledges.
    public func probePrimary(_ address: UInt8) throws(MBusError) -> PrimaryProbe {
        let frame = MBusFraming.shortFrame(control: 0x40, address: address)
        do {
            let answer = try exchange(frame, "SND_NKE to \(address)", tries: 1)
            guard answer == [0xE5] else { return .collision }
        } catch {
            switch error {
            case .noAnswer: return .nothing
            case .garbled: return .collision
            default: throw error
            }
        }
        fcb = true
        do {
            return .found(try requestUserData(address))
        } catch {
            switch error {
            case .transport: throw error
            // Acknowledgements of several slaves can merge into one E5; their data cannot.
            case .garbled: return .collision
            default: return .unreadable(error)
            }
        }
    }

    /// Sets the slave's clock (SND_UD, CI 0x51, with one record DIF 0x04 VIF 0x6D: a type F date
    /// and time of `time` in the meter's local time `zone`; EN 13757-3 Annex "set date and time").
    /// Minute precision; the slave acknowledges.
    public func setClock(_ address: UInt8, to time: UTCTime, zone: LocalTimeZone) throws(MBusError) {
        try sendUserData(address, ci: 0x51, data: [0x04, 0x6D] + MBusDateTime.typeF(time, zone: zone),
                         what: "SND_UD set clock to \(time)")
    }

    private func sleep(_ d: Duration) {
        let (s, atto) = d.components
        var ts = timespec(tv_sec: Int(s), tv_nsec: Int(atto / 1_000_000_000))
        _ = nanosleep(&ts, nil)
    }
}
