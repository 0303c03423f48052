/// The keys of wireless M-Bus meters, one per meter, from a key file read by `Secrets` (owner-only
/// permissions, `name = value` lines). The name is the meter's identification number (8 digits,
/// `12345678`), the manufacturer and number (`KAM-12345678`) or the whole meter identity
/// (`KAM-12345678-1B-16`); the value the key in hex: 32 digits for AES-128, 16 for the DES of
/// security mode 2. The most specific name wins.
public struct WMBusKeys: Sendable, Equatable {
    private var keys: [String: Secret]

    public init() { keys = [:] }

    /// Keys by lowercase meter name (the fuzz target's test key).
    init(_ keys: [String: Secret]) { self.keys = keys }

    /// Takes every entry of `secrets` as a meter key; throws for a name or value of another form
    /// (the message names the entry, never the value).
    public init(_ secrets: Secrets) throws(SecretError) {
        keys = [:]
        for name in secrets.names {
            guard WMBusKeys.isMeterName(name) else {
                throw SecretError("\(secrets.origin): \(name): not a meter (12345678, MAN-12345678 or MAN-12345678-VV-TT)")
            }
            guard let key = (try? secrets.key(name, environmentName: nil, byteCount: 16))
                ?? (try? secrets.key(name, environmentName: nil, byteCount: 8)) else {
                throw SecretError("\(secrets.origin): \(name): expected 16 bytes as 32 hex digits (AES-128) or 8 bytes as 16 hex digits (DES)")
            }
            keys[name] = key
        }
    }

    /// Names of the forms the key file accepts.
    static func isMeterName(_ name: String) -> Bool {
        let u = Array(name.utf8)
        func digits(_ r: Range<Int>) -> Bool { r.allSatisfy { Hex.nibble(u[$0]) != nil } }
        func man() -> Bool { u.count >= 12 && u[0..<3].allSatisfy { $0 >= 0x40 && $0 <= 0x7A } && u[3] == 0x2D }
        switch u.count {
        case 8: return digits(0..<8)
        case 12: return man() && digits(4..<12)
        case 18: return man() && digits(4..<12) && u[12] == 0x2D && digits(13..<15) && u[15] == 0x2D && digits(16..<18)
        default: return false
        }
    }

    /// The key of the meter `identity` (`MAN-IIIIIIII-VV-TT`), by its most specific name.
    func key(for identity: String) -> Secret? {
        let lower = identity.lowercased()
        if let k = keys[lower] { return k }
        let u = Array(lower.utf8)
        guard u.count >= 12 else { return nil }
        return keys[String(decoding: u[0..<12], as: UTF8.self)] ?? keys[String(decoding: u[4..<12], as: UTF8.self)]
    }
}
