import COpenSSL

/// AES-128-GCM through libcrypto's EVP interface (NIST SP 800-38D), with the 12-byte
/// authentication tag of DLMS security suite 0 and a 12-byte IV.
enum AESGCM {
    static let tagLength = 12

    /// Encrypts `plaintext` (which may be empty, for a GMAC) with `aad` authenticated; returns the
    /// ciphertext and the tag, or nil when libcrypto fails or a length does not fit its `int`s.
    static func seal(key: [UInt8], iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> (ciphertext: [UInt8], tag: [UInt8])? {
        guard key.count == 16, iv.count == 12, aad.count <= Int(Int32.max), plaintext.count <= Int(Int32.max) - 16,
              let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
              EVP_EncryptInit_ex(ctx, nil, nil, key, iv) == 1 else { return nil }
        var n: Int32 = 0
        if !aad.isEmpty {
            guard EVP_EncryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) == 1 else { return nil }
        }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var written = 0
        if !plaintext.isEmpty {
            guard EVP_EncryptUpdate(ctx, &out, &n, plaintext, Int32(plaintext.count)) == 1 else { return nil }
            written = Int(n)
        }
        let finished = out.withUnsafeMutableBufferPointer { p in
            EVP_EncryptFinal_ex(ctx, p.baseAddress! + written, &n)
        }
        guard finished == 1 else { return nil }
        written += Int(n)
        var tag = [UInt8](repeating: 0, count: tagLength)
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), &tag) == 1 else { return nil }
        return (Array(out[0..<written]), tag)
    }

    /// Decrypts `ciphertext` and checks `tag` over it and `aad`; nil when the tag does not match (or
    /// libcrypto fails).
    static func open(key: [UInt8], iv: [UInt8], aad: [UInt8], ciphertext: [UInt8], tag: [UInt8]) -> [UInt8]? {
        guard key.count == 16, iv.count == 12, tag.count == tagLength, aad.count <= Int(Int32.max),
              ciphertext.count <= Int(Int32.max) - 16, let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nil, nil, nil) == 1,
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nil) == 1,
              EVP_DecryptInit_ex(ctx, nil, nil, key, iv) == 1 else { return nil }
        var n: Int32 = 0
        if !aad.isEmpty {
            guard EVP_DecryptUpdate(ctx, nil, &n, aad, Int32(aad.count)) == 1 else { return nil }
        }
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var written = 0
        if !ciphertext.isEmpty {
            guard EVP_DecryptUpdate(ctx, &out, &n, ciphertext, Int32(ciphertext.count)) == 1 else { return nil }
            written = Int(n)
        }
        var expected = tag
        guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), &expected) == 1 else { return nil }
        let verified = out.withUnsafeMutableBufferPointer { p in
            EVP_DecryptFinal_ex(ctx, p.baseAddress! + written, &n)
        }
        guard verified == 1 else { return nil }
        written += Int(n)
        return Array(out[0..<written])
    }
}
