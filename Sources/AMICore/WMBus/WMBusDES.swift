import COpenSSL

/// Single DES in CBC mode for the withdrawn security mode 2 of wireless M-Bus (EN 13757-3:2004
/// Annex H; listed in EN 13757-7:2018 Table 19 as "DES, IV = 0", deprecated): 8-byte key, IV zero,
/// no padding. OpenSSL 3 offers single DES only in its legacy provider; it is loaded once, into a
/// library context of its own, so the rest of the program keeps OpenSSL's default providers.
enum WMBusDES {
    /// DES-CBC fetched from the legacy provider; nil when the provider cannot be loaded.
    nonisolated(unsafe) private static let cbc: OpaquePointer? = {
        guard let context = OSSL_LIB_CTX_new(), OSSL_PROVIDER_load(context, "legacy") != nil else { return nil }
        return EVP_CIPHER_fetch(context, "DES-CBC", nil)
    }()

    /// Whether libcrypto offers DES-CBC (its legacy provider loads).
    static var isAvailable: Bool { cbc != nil }

    /// DES-CBC decryption of whole 8-byte blocks with IV zero; nil when DES is not available, the key
    /// is not 8 bytes or the data not whole blocks.
    static func cbcDecrypt(key: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        guard data.count % 8 == 0 else { return nil }
        return WMBusAES.run(cbc, key: key, iv: [UInt8](repeating: 0, count: 8), input: data, encrypt: false)
    }

    /// DES-CBC encryption with IV zero (for tests that make mode 2 frames).
    static func cbcEncrypt(key: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        guard data.count % 8 == 0 else { return nil }
        return WMBusAES.run(cbc, key: key, iv: [UInt8](repeating: 0, count: 8), input: data, encrypt: true)
    }
}
