import Glibc

/// Why a Modbus exchange failed.
public enum ModbusClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection or device failed (connect, write, the peer closing).
    case transport(TransportError)
    /// No answer within the timeout, after every retry.
    case noResponse(attempts: Int, timeout: Duration)
    /// Answers that are not Modbus, or not an answer to the request, after every retry.
    case malformed(DecodeError)
    /// The device answered with an exception (Modbus Application Protocol V1.1b3 §7).
    case exception(ModbusException, ModbusRequest)

    public var description: String {
        switch self {
        case .transport(let e): return e.description
        case .noResponse(let n, let t):
            return "no answer in \(t.diagnosticText)" + (n > 1 ? " (\(n) attempts)" : "")
        case .malformed(let e): return e.description
        case .exception(let e, let r): return "\(e) to \(r)"
        }
    }
}

/// A Modbus client over a `Transport`: one request at a time, each sent again up to `retries` times
/// when no valid answer comes within `timeout`. Over TCP each request has a transaction id of its
/// own and an answer with another id (one that came late) is set aside (Modbus Messaging on TCP/IP
/// Implementation Guide V1.0b §3.1.3, §4.4.1.3); on a serial line the client keeps the silence of
/// 3.5 characters between frames and reads an answer by the length its function implies (Modbus
/// over Serial Line V1.02 §2.5.1.1). Not thread-safe; one client per transport.
public final class ModbusClient {
    public let transport: any Transport
    public let framing: ModbusFraming
    public let unit: UInt8
    public var timeout: Duration
    public var retries: Int
    /// Every frame written and read, as it happens.
    public var observer: ((LinkFrameEvent) -> Void)?
    /// Silence kept before each RTU request (t3.5).
    let silence: Duration
    private var transaction: UInt16 = 0
    private var buffer: [UInt8] = []
    private var lastFrameEnd = ContinuousClock.now

    /// `baudRate` sets the RTU silence: 3.5 characters of 11 bits, or 1.75 ms above 19200 baud
    /// (Modbus over Serial Line V1.02 §2.5.1.1).
    public init(transport: any Transport, framing: ModbusFraming, unit: UInt8, timeout: Duration, retries: Int,
                baudRate: Int = 9600) {
        self.transport = transport
        self.framing = framing
        self.unit = unit
        self.timeout = timeout
        self.retries = max(retries, 0)
        silence = baudRate > 19_200 ? .microseconds(1750) : .microseconds(Int64(38_500_000 / max(baudRate, 1)))
    }

    /// Sends `request` and returns the answer, or throws; an exception answer throws `.exception`.
    public func perform(_ request: ModbusRequest) throws(ModbusClientError) -> ModbusResponse {
        var lastError = ModbusClientError.noResponse(attempts: retries + 1, timeout: timeout)
        for _ in 0...retries {
            let result: ModbusResponse?
            do {
                result = try attempt(request)
            } catch {
                if case .malformed = error { lastError = error; continue }
                throw error
            }
            if let result {
                if case .exception(_, let e) = result { throw .exception(e, request) }
                return result
            }
        }
        throw lastError
    }

    /// One request and its answer; nil when none came in time.
    private func attempt(_ request: ModbusRequest) throws(ModbusClientError) -> ModbusResponse? {
        transaction &+= 1
        let adu = ModbusADU(framing: framing, unit: unit, transaction: framing == .tcp ? transaction : nil, pdu: request.pdu)
        if framing == .rtu { quiet() }
        buffer.removeAll()
        let deadline = Deadline.after(timeout)
        do {
            try transport.write(adu.bytes, deadline: deadline)
        } catch {
            throw .transport(error)
        }
        observer?(LinkFrameEvent(direction: .tx, bytes: adu.bytes, time: .now()))
        while true {
            guard let frame = try readFrame(deadline: deadline) else { return nil }
            lastFrameEnd = .now
            observer?(LinkFrameEvent(direction: .rx, bytes: frame, time: .now()))
            let answer: ModbusADU
            do {
                answer = try ModbusADU.parse(frame, framing: framing)
            } catch {
                throw .malformed(error)
            }
            // A late answer to an earlier attempt: keep waiting for this one's.
            if framing == .tcp, answer.transaction != transaction { continue }
            guard answer.unit == unit else {
                throw .malformed(DecodeError(.modbus, at: framing == .tcp ? 6 : 0, .malformed,
                                             "answer from unit \(answer.unit), asked unit \(unit)"))
            }
            do {
                let response = try ModbusResponse.parse(answer.pdu)
                try response.check(answers: request)
                return response
            } catch {
                throw .malformed(error.shifted(by: framing == .tcp ? 7 : 1))
            }
        }
    }

    /// The next whole frame from the transport, or nil when the deadline passed first.
    private func readFrame(deadline: Deadline) throws(ModbusClientError) -> [UInt8]? {
        while true {
            if let n = expectedLength(), buffer.count >= n {
                let frame = Array(buffer[0..<n])
                buffer.removeSubrange(0..<n)
                return frame
            }
            if framing == .rtu, buffer.count >= 2, buffer[1] & 0x80 == 0, ModbusFunction(rawValue: buffer[1]) == nil {
                throw .malformed(DecodeError(.modbus, at: 1, .unsupported, "answer with function code \(buffer[1])"))
            }
            if framing == .tcp, buffer.count >= 6 {
                let length = Int(buffer[4]) << 8 | Int(buffer[5])
                guard buffer[2] == 0, buffer[3] == 0, length >= 2, length <= ModbusADU.maxPDU + 1 else {
                    throw .malformed(DecodeError(.modbus, at: 2, .malformed, "not an MBAP header: " + Hex.string(buffer.prefix(7))))
                }
            }
            do {
                buffer += try transport.read(maxCount: 512, deadline: deadline)
            } catch {
                if case .timedOut = error { return nil }
                throw .transport(error)
            }
        }
    }

    /// The length of the frame at the head of the buffer, when its header tells.
    private func expectedLength() -> Int? {
        switch framing {
        case .tcp:
            guard buffer.count >= 6 else { return nil }
            return 6 + (Int(buffer[4]) << 8 | Int(buffer[5]))
        case .rtu:
            return ModbusADU.rtuResponseLength(buffer[...])
        }
    }

    /// Before an RTU request: the line silent for t3.5 since the last frame, and whatever came in
    /// meanwhile (a late answer, noise) discarded.
    private func quiet() {
        let wait = lastFrameEnd.advanced(by: silence) - ContinuousClock.now
        if wait > .zero {
            let (s, atto) = wait.components
            var ts = timespec(tv_sec: Int(s), tv_nsec: Int(atto / 1_000_000_000))
            _ = nanosleep(&ts, nil)
        }
        while let stale = try? transport.read(maxCount: 512, deadline: .after(.zero)), !stale.isEmpty {}
    }
}
