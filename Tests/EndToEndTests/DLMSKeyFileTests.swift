import Foundation
import Testing

/// An unusable DLMS key file (missing, open to others, malformed, a key of the wrong length, or
/// without the keys asked for) stops ami-read and ami-decode before anything else, with exit 78
/// and `prog: FILE: message`, and never shows a key.
@Suite struct DLMSKeyFileTests {
    static let ek = "000102030405060708090A0B0C0D0E0F"
    static let ak = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// The file's text and mode; nil for a file that does not exist.
        var text: String?
        var mode: Int = 0o600
        /// The line the message names (`FILE:LINE: message`), if any.
        var line: Int? = nil
        /// The message after `prog: FILE: `.
        var message: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "missing", text: nil, message: "No such file or directory"),
        Case(name: "group-readable", text: "ek = \(ek)\nak = \(ak)\n", mode: 0o640,
             message: "refused: group or others may access it (mode 640); chmod 600 FILE"),
        Case(name: "world-readable", text: "ek = \(ek)\nak = \(ak)\n", mode: 0o604,
             message: "refused: group or others may access it (mode 604); chmod 600 FILE"),
        Case(name: "a line without =", text: "# keys\nek \(ek)\n", line: 2, message: "expected name = value"),
        Case(name: "a key given twice", text: "ek = \(ek)\nek = \(ek)\n", line: 2, message: "ek given twice"),
        Case(name: "a short key", text: "ek = 000102\nak = \(ak)\n", message: "ek: expected 16 bytes as 32 hex digits"),
    ]

    /// Writes the case's key file into a fresh folder; returns its path.
    static func keyFile(_ c: Case) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("meter.keys").path
        if let text = c.text {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: c.mode], ofItemAtPath: path)
        }
        return path
    }

    static func expectedLine(_ program: String, _ c: Case, _ path: String) -> String {
        "\(program): \(path)\(c.line.map { ":\($0)" } ?? ""): \(c.message.replacingOccurrences(of: "FILE", with: path))"
    }

    @Test(arguments: cases)
    func amiReadExits78(_ c: Case) throws {
        let path = try Self.keyFile(c)
        // Nothing listens on port 1: a key file that passed would give 69 (unavailable).
        let r = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--auth", "hls-gmac", "--security", "auth-enc",
                                              "--key-file", path, "--clock"])
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderrLines == [Self.expectedLine("ami-read", c, path)])
        #expect(r.stdout.isEmpty)
        #expect(!r.stderr.contains(Self.ek) && !r.stderr.contains(Self.ak))
    }

    @Test(arguments: cases)
    func amiDecodeExits78(_ c: Case) throws {
        let path = try Self.keyFile(c)
        let r = try Binaries.run("ami-decode", ["--protocol", "dlms", "--key-file", path, "-"], stdin: Array("c001c1000800000100ff0200\n".utf8))
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderrLines == [Self.expectedLine("ami-decode", c, path)])
        #expect(r.stdout.isEmpty)
        #expect(!r.stderr.contains(Self.ek) && !r.stderr.contains(Self.ak))
    }

    @Test func aKeyFileWithoutTheKeysAskedForExits78() throws {
        let path = try Self.keyFile(Case(name: "password only", text: "password = 12345678\n", message: ""))
        var r = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--auth", "hls-gmac", "--security", "auth-enc",
                                              "--key-file", path])
        #expect(r.status == 78)
        #expect(r.stderrLines == ["ami-read: \(path): --auth hls-gmac and --security need ek and ak: in --key-file, or AMI_DLMS_EK and AMI_DLMS_AK"])
        r = try Binaries.run("ami-decode", ["--key-file", path, "/dev/null"])
        #expect(r.status == 78)
        #expect(r.stderrLines == ["ami-decode: \(path): needs ek and ak (or AMI_DLMS_EK and AMI_DLMS_AK)"])
        // The same password file is what --auth low needs: then the meter is tried (and not there).
        r = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--auth", "low", "--key-file", path, "--timeout", "1"])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(!r.stderr.contains("12345678"))
    }

    @Test func aMalformedKeyInTheEnvironmentExits78AndNamesTheVariable() throws {
        let r = try Binaries.shell("AMI_DLMS_EK=0001 ami-read dlms --tcp 127.0.0.1:1 --auth hls-gmac --security auth-enc")
        #expect(r.status == 78)
        #expect(r.stderrLines == ["ami-read: AMI_DLMS_EK: expected 16 bytes as 32 hex digits"])
        let d = try Binaries.shell("AMI_DLMS_EK=0001 AMI_DLMS_AK=\(Self.ak) ami-decode /dev/null")
        #expect(d.status == 78)
        #expect(d.stderrLines == ["ami-decode: AMI_DLMS_EK: expected 16 bytes as 32 hex digits"])
    }

    @Test func keysMissingWithoutAKeyFileAreAUsageError() throws {
        let r = try Binaries.shell("env -u AMI_DLMS_EK -u AMI_DLMS_AK ami-read dlms --tcp 127.0.0.1:1 --auth hls-gmac --security auth-enc")
        #expect(r.status == 64)
        #expect(r.stderr.contains("--auth hls-gmac and --security need ek and ak"))
    }
}
