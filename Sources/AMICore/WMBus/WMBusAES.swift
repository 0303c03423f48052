import COpenSSL

/// AES-128 as wireless M-Bus security uses it, through libcrypto's EVP interface: CBC without
/// padding (security modes 5 and 7, EN 13757-7 §9.4.5 and §9.4.6), CTR (the extended link layer,
/// EN 13757-4 §13.2.12) and AES-CMAC (RFC 4493, for the mode 7 key derivation of OMS Vol. 2 §9.5).
enum WMBusAES {
    /// Runs `cipher` over `input` (a whole number of blocks for ECB and CBC) without padding; nil when
    /// the key is not of the cipher's length or libcrypto fails.
    static func run(_ cipher: OpaquePointer?, key: [UInt8], iv: [UInt8]?, input: [UInt8],
                    encrypt: Bool) -> [UInt8]? {
        guard let cipher, key.count == Int(EVP_CIPHER_get_key_length(cipher)), input.count <= Int(Int32.max) - 16,
              let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        guard EVP_CipherInit_ex(ctx, cipher, nil, key, iv, encrypt ? 1 : 0) == 1,
              EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 else { return nil }
        var out = [UInt8](repeating: 0, count: input.count + 16)
        var n: Int32 = 0
        var written = 0
        if !input.isEmpty {
            guard EVP_CipherUpdate(ctx, &out, &n, input, Int32(input.count)) == 1 else { return nil }
            written = Int(n)
        }
        let finished = out.withUnsafeMutableBufferPointer { p in EVP_CipherFinal_ex(ctx, p.baseAddress! + written, &n) }
        guard finished == 1 else { return nil }
        return Array(out[0..<(written + Int(n))])
    }

    /// AES-128-CBC decryption of whole blocks, without padding.
    static func cbcDecrypt(key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        guard iv.count == 16, data.count % 16 == 0 else { return nil }
        return run(EVP_aes_128_cbc(), key: key, iv: iv, input: data, encrypt: false)
    }

    /// AES-128-CBC encryption of whole blocks, without padding.
    static func cbcEncrypt(key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        guard iv.count == 16, data.count % 16 == 0 else { return nil }
        return run(EVP_aes_128_cbc(), key: key, iv: iv, input: data, encrypt: true)
    }

    /// AES-128-CTR (encryption and decryption are the same) with the 16-byte initial counter block.
    static func ctr(key: [UInt8], iv: [UInt8], _ data: [UInt8]) -> [UInt8]? {
        guard iv.count == 16 else { return nil }
        return run(EVP_aes_128_ctr(), key: key, iv: iv, input: data, encrypt: true)
    }

    /// AES-CMAC (RFC 4493) of `message` under `key`: the 16-byte tag.
    static func cmac(key: [UInt8], _ message: [UInt8]) -> [UInt8]? {
        guard let l = run(EVP_aes_128_ecb(), key: key, iv: nil, input: [UInt8](repeating: 0, count: 16), encrypt: true)
        else { return nil }
        func double(_ b: [UInt8]) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 16)
            for i in 0..<16 { out[i] = b[i] << 1 | (i < 15 ? b[i + 1] >> 7 : 0) }
            if b[0] & 0x80 != 0 { out[15] ^= 0x87 }
            return out
        }
        let k1 = double(l), k2 = double(k1)
        let blocks = max(1, (message.count + 15) / 16)
        var last = Array(message[((blocks - 1) * 16)...])
        if last.count == 16 {
            for i in 0..<16 { last[i] ^= k1[i] }
        } else {
            last.append(0x80)
            while last.count < 16 { last.append(0) }
            for i in 0..<16 { last[i] ^= k2[i] }
        }
        let input = Array(message[0..<((blocks - 1) * 16)]) + last
        guard let chain = cbcEncrypt(key: key, iv: [UInt8](repeating: 0, count: 16), input) else { return nil }
        return Array(chain[(chain.count - 16)...])
    }
}
