/// The security control byte of a security header (DLMS UA 1000-2 Ed. 10 / IEC 62056-5-3,
/// "Security header"): security suite id in bits 0–3, authentication bit 4, encryption bit 5,
/// key set bit 6 (0 unicast, 1 broadcast), compression bit 7.
public struct SecurityControl: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public init(suite: UInt8 = 0, authenticated: Bool, encrypted: Bool, broadcastKey: Bool = false,
                compressed: Bool = false) {
        rawValue = (suite & 0x0F) | (authenticated ? 0x10 : 0) | (encrypted ? 0x20 : 0)
            | (broadcastKey ? 0x40 : 0) | (compressed ? 0x80 : 0)
    }

    /// Suite 0, authenticated and encrypted (0x30).
    public static let authenticatedEncryption = SecurityControl(authenticated: true, encrypted: true)
    /// Suite 0, authenticated only (0x10); also the SC of HLS mechanism 5.
    public static let authenticationOnly = SecurityControl(authenticated: true, encrypted: false)
    /// Suite 0, encrypted only (0x20).
    public static let encryptionOnly = SecurityControl(authenticated: false, encrypted: true)

    public var suite: UInt8 { rawValue & 0x0F }
    public var isAuthenticated: Bool { rawValue & 0x10 != 0 }
    public var isEncrypted: Bool { rawValue & 0x20 != 0 }
    public var usesBroadcastKey: Bool { rawValue & 0x40 != 0 }
    public var isCompressed: Bool { rawValue & 0x80 != 0 }

    public var description: String {
        let mode = switch (isAuthenticated, isEncrypted) {
        case (true, true): "authenticated encryption"
        case (true, false): "authentication only"
        case (false, true): "encryption only"
        case (false, false): "no protection"
        }
        return "\(Hex.byte(rawValue)): suite \(suite), \(mode)\(usesBroadcastKey ? ", broadcast key" : "")"
            + (isCompressed ? ", compressed" : "")
    }
}
