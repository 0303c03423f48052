/// The protocol layer a decoding step belongs to; printed in diagnostics as `layer: reason`.
public enum DecodeLayer: String, Sendable, Equatable, CaseIterable {
    case input = "input"
    case hex = "hex"
    case json = "json"
    case framing = "framing"
    case mbusLink = "mbus-link"
    case mbusApplication = "mbus-app"
    case dsmr = "dsmr"
    case iec62056_21 = "iec62056-21"
    case hdlc = "hdlc"
    case dlmsWrapper = "dlms-wrapper"
    case dlmsApplication = "dlms-app"
    case dlmsSecurity = "dlms-security"
    case wmbusLink = "wmbus-link"
    case wmbusTransport = "wmbus-tpl"
    case wmbusSecurity = "wmbus-security"
    case smlTransport = "sml-transport"
    case sml = "sml"
    case modbus = "modbus"
}

/// A typed decoding failure: where (absolute byte offset in the input it was found in, and layer) and why.
///
/// `needMore` is not a failure of the data: it tells a scanner that the frame may still be completed by
/// bytes not yet read. Every other kind means the bytes at `offset` cannot be decoded.
public struct DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input ended before the step could finish; `count` more bytes are needed at least.
        case needMore(count: Int)
        /// A checksum, CRC or BCC did not match.
        case checksum
        /// A length field, start or stop byte, or structure does not fit the specification.
        case malformed
        /// Well formed, but a feature this decoder does not implement.
        case unsupported
        /// A value outside what can be represented exactly (e.g. overflowing 64-bit).
        case outOfRange
    }

    public var layer: DecodeLayer
    public var offset: Int
    public var kind: Kind
    public var message: String
    /// Set on a warning whose part of the frame was left out (a record cut short, bytes dropped): the
    /// frame's other records stand, and the part counts as skipped for the exit status and `--strict`.
    public var partSkipped = false

    public init(_ layer: DecodeLayer, at offset: Int, _ kind: Kind, _ message: String) {
        self.layer = layer
        self.offset = offset
        self.kind = kind
        self.message = message
    }

    /// `layer: message`, the form used after `prog: where:` in diagnostics.
    public var description: String { "\(layer.rawValue): \(message)" }

    /// This error, moved by `delta` bytes (when a frame decoded on its own is placed back into its stream).
    public func shifted(by delta: Int) -> DecodeError {
        var copy = self
        copy.offset += delta
        return copy
    }
}
