import AMICore

/// The DLMS keys and LLS password that `--key-file` (entries `ek`, `ak`, `password`) or the
/// environment (`AMI_DLMS_EK`, `AMI_DLMS_AK`, `AMI_DLMS_PASSWORD`) give, for ami-read and ami-decode.
public struct DLMSSecrets: Sendable {
    /// The global unicast encryption key and the authentication key (16 bytes each).
    public var encryptionKey: DLMSKey?
    public var authenticationKey: DLMSKey?
    public var password: Secret?

    /// Throws when the key file cannot be read, may be read by others or is malformed, or when a
    /// key is not 32 hex digits; the message names the file or variable, never a value.
    public init(keyFile: String?, environment: [String: String]) throws(SecretError) {
        let secrets: Secrets
        if let keyFile {
            secrets = try Secrets(keyFile: keyFile, environment: environment)
        } else {
            secrets = Secrets(environment: environment)
        }
        encryptionKey = try secrets.key("ek", environmentName: "AMI_DLMS_EK", byteCount: 16).flatMap { DLMSKey($0.bytes) }
        authenticationKey = try secrets.key("ak", environmentName: "AMI_DLMS_AK", byteCount: 16).flatMap { DLMSKey($0.bytes) }
        password = secrets.text("password", environmentName: "AMI_DLMS_PASSWORD")
    }
}
