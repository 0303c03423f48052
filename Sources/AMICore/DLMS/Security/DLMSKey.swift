/// A 16-byte AES-128 key (a DLMS encryption, authentication, broadcast or dedicated key). Never
/// shown: every textual form, `dump` and mirrors say "withheld".
public struct DLMSKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The key bytes, for the cipher; never for output.
    public let bytes: [UInt8]

    /// Nil unless `bytes` holds exactly 16 bytes.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// A key written as 32 hex digits (separators as `Hex.decode` allows); nil otherwise.
    public init?(hex: String) {
        guard let bytes = try? Hex.decode(Array(hex.utf8)) else { return nil }
        self.init(bytes)
    }

    public var description: String { "withheld" }
    public var debugDescription: String { "DLMSKey(withheld)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
