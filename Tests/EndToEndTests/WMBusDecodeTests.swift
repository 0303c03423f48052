import Foundation
import Testing

/// `ami-decode` on the wireless M-Bus samples, run as a program: records on stdout, the key
/// errors on stderr with exit status 65, the key file's checks with status 78, and no key ever
/// written anywhere.
struct WMBusDecodeTests {
    static let sample = "samples/wmbus/wmbus-frames.txt"
    static let key = "000102030405060708090A0B0C0D0E0F"

    /// A key file in a fresh folder, with `mode`.
    static func keyFile(_ text: String, mode: Int = 0o600) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wmbus-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("keys").path
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func samplesWithTheirKey() throws {
        let keys = try Self.keyFile("# the samples' test meter\nKAM-12345678 = \(Self.key)\n")
        let r = try Binaries.run("ami-decode", ["--wmbus-key-file", keys, Self.sample])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        let lines = r.stdoutLines
        // Heat 2 frames × 7, water 2 lines × 2, full and compact 2 × 2, radio converter 1, mode 5 2,
        // mode 7 1.
        #expect(lines.count == 14 + 4 + 4 + 1 + 2 + 1)
        #expect(lines.allSatisfy { $0.contains(#""protocol":"wmbus""#) })
        #expect(lines.filter { $0.contains(#""meter":"KAM-12345678-01-07""#) }.count == 4 + 4 + 1 + 2 + 1)
        #expect(!r.stdout.contains(Self.key) && !r.stdout.lowercased().contains(Self.key.lowercased()))
    }

    /// A DES key (16 hex digits) deciphers security mode 2 through libcrypto's legacy provider; a
    /// frame cut short after its enciphered block keeps its reading, and the cut record makes the
    /// exit status 65; an Apator NA-1 payload becomes readings.
    @Test func desCutShortAndApator() throws {
        let keys = try Self.keyFile("KAM-87654321 = 0011223344556677\nKAM-12345678 = \(Self.key)\nAPA-12345678 = \(Self.key)\n")
        let frames = ["1E442D2C2143658701077A2A001002FC69FBF4F96CC147D29EB0B2AFC6A16F",
                      "21442D2C7856341201077A2A00100579D6C99DDC63748D24CDC4400CA76957021334",
                      "1C440106785634121407A02A01A1C059E6EB962651A43469379A3E8A4F"]
        let r = try Binaries.run("ami-decode", ["--wmbus-key-file", keys], stdin: Array((frames.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 65)
        #expect(r.stderrLines == ["ami-decode: stdin:2 byte 31: mbus-app: the record at byte 31 is cut short by the end of the "
                                  + "frame (3 bytes); the records before it are kept"])
        let lines = r.stdoutLines
        #expect(lines.count == 1 + 1 + 7 + 1)        // mode 2, mode 5, the Apator readings and its power_low event
        #expect(lines[0].contains(#""meter":"KAM-87654321-01-07""#) && lines[0].contains(#""value":12345.678"#))
        #expect(lines[1].contains(#""meter":"KAM-12345678-01-07""#) && lines[1].contains(#""value":12345.678"#))
        #expect(lines[2].contains(#""meter":"APA-12345678-14-07""#) && lines[2].contains(#""value":1234.56,"unit":"m3""#))
        #expect(!(r.stdout + r.stderr).contains("0011223344556677"))
    }

    /// Without libcrypto's legacy provider (OPENSSL_MODULES pointing nowhere), a mode 2 frame is
    /// skipped with a message that says what is missing.
    @Test func desWithoutLegacyProvider() throws {
        let keys = try Self.keyFile("KAM-87654321 = 0011223344556677\n")
        let r = try Binaries.shell("echo 1E442D2C2143658701077A2A001002FC69FBF4F96CC147D29EB0B2AFC6A16F "
                                   + "| OPENSSL_MODULES=/nonexistent ami-decode --wmbus-key-file '\(keys)'")
        #expect(r.status == 65)
        #expect(r.stdout.isEmpty)
        #expect(r.stderrLines == ["ami-decode: stdin:1 byte 15: wmbus-security: security mode 2 needs DES-CBC, and libcrypto's "
                                  + "legacy provider, which has it, could not be loaded (install it, or point OPENSSL_MODULES "
                                  + "at its directory)"])
    }

    @Test func noKey() throws {
        let r = try Binaries.run("ami-decode", [Self.sample])
        #expect(r.status == 65)
        #expect(r.stderrLines == [
            "ami-decode: \(Self.sample):15 byte 15: wmbus-security: no key for meter KAM-12345678-01-07",
            "ami-decode: \(Self.sample):17 byte 33: wmbus-security: no key for meter KAM-12345678-01-07",
        ])
    }

    @Test func wrongKey() throws {
        let wrong = "0F0E0D0C0B0A09080706050403020100"
        let keys = try Self.keyFile("12345678 = \(wrong)\n")
        let r = try Binaries.run("ami-decode", ["--wmbus-key-file", keys, Self.sample])
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 2)
        #expect(r.stderrLines.allSatisfy { $0.contains("wmbus-security: wrong key for meter KAM-12345678-01-07") })
        #expect(!(r.stdout + r.stderr).contains(wrong))
    }

    @Test(arguments: [0o644, 0o640, 0o604])
    func keyFileOthersMayReadIsRefused(mode: Int) throws {
        let keys = try Self.keyFile("12345678 = \(Self.key)\n", mode: mode)
        let r = try Binaries.run("ami-decode", ["--wmbus-key-file", keys, Self.sample])
        #expect(r.status == 78)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("refused: group or others may access it"))
        #expect(!r.stderr.contains(Self.key))
    }

    @Test func badKeyIsRefusedWithoutShowingIt() throws {
        let keys = try Self.keyFile("12345678 = 00112233445566778899\n")
        let r = try Binaries.run("ami-decode", ["--wmbus-key-file", keys, Self.sample])
        #expect(r.status == 78)
        #expect(r.stderr.contains("12345678: expected 16 bytes as 32 hex digits"))
        #expect(!r.stderr.contains("00112233445566778899"))
    }

    @Test func binaryFramesNeedTheProtocol() throws {
        // Two frames back to back: format A, then one without CRCs.
        let a = "31442D2C443322111B048E5D7A100000000C06270400000C14382915EA5E000B2D1200000A5A55040A5E9802426C8B541F3C4C0601040000CC69"
        let plain = "19442D2C7856341201077A2A0000000C137856341202FD1B3412"
        let bytes = Self.bytes(a) + Self.bytes(plain)
        let r = try Binaries.run("ami-decode", ["--protocol", "wmbus", "--input", "binary", "-"], stdin: bytes)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutLines.count == 7 + 2)
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }
}
