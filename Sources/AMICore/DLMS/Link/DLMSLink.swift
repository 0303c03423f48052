/// What a link-layer scanner says about the bytes at a candidate frame start.
public enum LinkScan: Sendable, Equatable {
    /// A complete, checked frame of `length` bytes starts here.
    case frame(length: Int)
    /// The bytes so far may begin a frame; more are needed to know.
    case needMore
    /// Not a frame: `error` says where and why; move on by `skip` bytes (1 to resynchronise on the
    /// next byte, the whole frame when only its frame check failed).
    case invalid(DecodeError, skip: Int)
}

/// One link frame sent or received, for logging as a `frame` record.
public struct LinkFrameEvent: Sendable, Equatable {
    public var direction: FrameRecord.Direction
    /// The whole frame as on the wire (HDLC flags or wrapper header included).
    public var bytes: [UInt8]
    /// Wall-clock time the frame was written or completely read.
    public var time: UTCTime

    public init(direction: FrameRecord.Direction, bytes: [UInt8], time: UTCTime) {
        self.direction = direction
        self.bytes = bytes
        self.time = time
    }
}

extension LinkFrameEvent {
    /// `frame` with every run of `secret` in it replaced by asterisks (0x2A), for the frame record of
    /// an AARQ that carries the LLS password in the clear (Green Book, "Low Level Security"); in an
    /// HDLC frame (7E … FCS 7E) the FCS is computed again, so the record still decodes. A password
    /// split between two HDLC segments is not found (an AARQ fits one frame at the usual sizes).
    public static func masking(_ secret: [UInt8], in frame: [UInt8]) -> [UInt8] {
        guard !secret.isEmpty else { return frame }
        var out = frame
        var changed = false
        var i = 0
        while i + secret.count <= out.count {
            if out[i..<i + secret.count].elementsEqual(secret) {
                out.replaceSubrange(i..<i + secret.count, with: repeatElement(0x2A, count: secret.count))
                changed = true
                i += secret.count
            } else {
                i += 1
            }
        }
        if changed, out.count >= 9, out.first == 0x7E, out.last == 0x7E {
            let end = out.count - 3
            let fcs = HDLCFrameCheck.checksum(out, 1..<end)
            out[end] = UInt8(truncatingIfNeeded: fcs)
            out[end + 1] = UInt8(truncatingIfNeeded: fcs >> 8)
        }
        return out
    }
}

/// Why a DLMS link operation failed. `description` is the message part of a `prog: where: message`
/// diagnostic.
public enum DLMSLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte stream failed (connect, read, write, timeout of the whole operation, peer closed).
    case transport(TransportError)
    /// The meter sent bytes that are not a valid frame.
    case framing(DecodeError)
    /// The meter refused or ended the link: DM, FRMR, RNR.
    case refused(String)
    /// A valid frame that does not fit the exchange (wrong sequence number, wPort, frame kind).
    case unexpected(String)
    /// No answer after sending a frame `attempts` times, waiting `timeout` after each.
    case noResponse(attempts: Int, timeout: Duration)
    /// A request the link cannot carry out (APDU too long, not connected).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .transport(let e): return e.description
        case .framing(let e): return e.description
        case .refused(let m), .unexpected(let m), .invalidArgument(let m): return m
        case .noResponse(let attempts, let timeout):
            return "no answer from the meter: sent \(attempts) time\(attempts == 1 ? "" : "s"), "
                + "waited \(timeout.diagnosticText) each"
        }
    }
}

/// A DLMS/COSEM link session over a `Transport`, carrying whole APDUs (opaque bytes) between a
/// client and one server: the HDLC MAC and LLC sublayers (`HDLCLink`) or the wrapper of the
/// TCP-UDP profile (`WrapperLink`). Not thread-safe: one task drives a link.
public protocol DLMSLink: AnyObject {
    /// The byte stream the link runs on; the caller closes it after `disconnect`.
    var transport: any Transport { get }
    /// Called for every frame sent or received, in order.
    var observer: ((LinkFrameEvent) -> Void)? { get set }
    /// Opens the link (HDLC SNRM/UA; nothing for the wrapper).
    func connect(deadline: Deadline) throws(DLMSLinkError)
    /// Sends one APDU, segmented as the link requires.
    func send(_ apdu: [UInt8], deadline: Deadline) throws(DLMSLinkError)
    /// Receives one whole APDU, reassembled from its segments.
    func receive(deadline: Deadline) throws(DLMSLinkError) -> [UInt8]
    /// Closes the link (HDLC DISC, answered by UA or DM; nothing for the wrapper).
    func disconnect(deadline: Deadline) throws(DLMSLinkError)
}

/// Bytes read from a transport and not yet consumed by a link.
struct ReceiveBuffer {
    private(set) var bytes: [UInt8] = []
    /// The first unconsumed byte.
    private(set) var start = 0

    var count: Int { bytes.count - start }
    var end: Int { bytes.count }

    subscript(_ i: Int) -> UInt8 { bytes[start + i] }

    /// Reads what the transport has (at most `maxCount` bytes), waiting up to `deadline`.
    mutating func fill(from transport: any Transport, maxCount: Int = 4096, deadline: Deadline) throws(DLMSLinkError) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        } else if start >= 4096 {
            bytes.removeFirst(start)
            start = 0
        }
        do {
            bytes += try transport.read(maxCount: maxCount, deadline: deadline)
        } catch {
            throw .transport(error)
        }
    }

    /// Drops the first `n` unconsumed bytes and returns them.
    @discardableResult
    mutating func consume(_ n: Int) -> [UInt8] {
        let taken = Array(bytes[start..<start + n])
        start += n
        return taken
    }
}

extension DLMSLink {
    /// Writes a frame and reports it to the observer.
    func transmit(_ frame: [UInt8], deadline: Deadline) throws(DLMSLinkError) {
        do {
            try transport.write(frame, deadline: deadline)
        } catch {
            throw .transport(error)
        }
        observer?(LinkFrameEvent(direction: .tx, bytes: frame, time: .now()))
    }

    /// Reports a frame read whole to the observer and decodes it.
    func received<Frame>(_ bytes: [UInt8], _ decode: ([UInt8]) throws(DecodeError) -> Frame) throws(DLMSLinkError) -> Frame {
        observer?(LinkFrameEvent(direction: .rx, bytes: bytes, time: .now()))
        do {
            return try decode(bytes)
        } catch {
            throw .framing(error)
        }
    }
}
