/// One wrapper PDU of the TCP-UDP based DLMS/COSEM transport layer (IEC 62056-47 and DLMS UA
/// 1000-2, "The wrapper protocol data unit"): an 8-byte header of four big-endian 16-bit fields,
/// version (0x0001), source wPort, destination wPort and the length of the APDU that follows.
public struct WrapperFrame: Sendable, Equatable {
    /// The only version defined.
    public static let version: UInt16 = 0x0001
    public static let headerLength = 8

    /// The sender's wPort (a client SAP such as 16, or the server's logical device, 1).
    public var source: UInt16
    /// The receiver's wPort.
    public var destination: UInt16
    /// The APDU.
    public var payload: [UInt8]

    public init(source: UInt16, destination: UInt16, payload: [UInt8]) {
        self.source = source
        self.destination = destination
        self.payload = payload
    }

    /// The frame as sent. Throws `invalidArgument` for an APDU longer than 65535 bytes.
    public func encoded() throws(DLMSLinkError) -> [UInt8] {
        guard payload.count <= 0xFFFF else {
            throw .invalidArgument("an APDU of \(payload.count) bytes does not fit a wrapper PDU (at most 65535)")
        }
        let fields = [WrapperFrame.version, source, destination, UInt16(payload.count)]
        return fields.flatMap { [UInt8($0 >> 8), UInt8(truncatingIfNeeded: $0)] } + payload
    }

    /// Finds the wrapper PDU starting at `bytes[start]` by its length field. `end` is one past the
    /// last byte read so far; `atEnd` says no more will come.
    public static func scan(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool) -> LinkScan {
        var c = ByteCursor(bytes, start: start, end: end, layer: .dlmsWrapper)
        do throws(DecodeError) {
            if let error = try versionError(&c) { return .invalid(error, skip: 1) }
            try c.skip(4)
            let total = headerLength + Int(try c.uintBE(2))
            let available = c.end - start
            guard available >= total else {
                throw c.error(.needMore(count: total - available), "wrapper PDU cut short: \(available) of \(total) bytes",
                              at: start)
            }
            return .frame(length: total)
        } catch {
            return atEnd ? .invalid(error, skip: 1) : .needMore
        }
    }

    /// Reads the version field: nil when it is 0x0001, else the error to report.
    private static func versionError(_ c: inout ByteCursor) throws(DecodeError) -> DecodeError? {
        let at = c.offset
        let version = UInt16(try c.uintBE(2))
        return version == WrapperFrame.version
            ? nil : c.error(.malformed, "wrapper version \(hex16(version)), not 0x0001", at: at)
    }

    /// Decodes the wrapper PDU that starts at `bytes[start]` (as found by `scan`). Error offsets
    /// are positions in `bytes`.
    public init(decoding bytes: [UInt8], at start: Int = 0) throws(DecodeError) {
        var c = ByteCursor(bytes, start: start, layer: .dlmsWrapper)
        if let error = try WrapperFrame.versionError(&c) { throw error }
        source = UInt16(try c.uintBE(2))
        destination = UInt16(try c.uintBE(2))
        let length = Int(try c.uintBE(2))
        payload = try c.take(length)
    }
}
