import Foundation
import Testing

@Suite struct CLIContractTests {
    @Test func usageErrorsExit64WithAMessage() throws {
        let r = try Binaries.run("ami-decode", ["--protocol", "nonsense"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown protocol"))
        #expect(r.stdout.isEmpty)
    }

    @Test func aMissingFileExits66AndNamesIt() throws {
        let r = try Binaries.run("ami-decode", ["/nonexistent/x.hex"])
        #expect(r.status == 66)
        #expect(r.stderrLines == ["ami-decode: /nonexistent/x.hex: No such file or directory"])
    }

    @Test func malformedJSONLinesAreReportedWithTheirLineAndSkipped() throws {
        let input = "{\"type\":\"reading\",\"v\":1}\n{not json\n{\"type\":\"event\",\"v\":1}\n"
        let r = try Binaries.run("ami-decode", ["-"], stdin: Array(input.utf8))
        #expect(r.status == 65)
        #expect(r.stdoutLines == [#"{"type":"reading","v":1}"#, #"{"type":"event","v":1}"#])
        #expect(r.stderrLines.count == 1)
        #expect(r.stderrLines.first?.hasPrefix("ami-decode: stdin:2 byte 1: json: ") == true)
    }

    @Test func strictStopsAtTheFirstBadRecord() throws {
        let input = "{not json\n{\"type\":\"event\",\"v\":1}\n"
        let r = try Binaries.run("ami-decode", ["--strict"], stdin: Array(input.utf8))
        #expect(r.status == 65)
        #expect(r.stdout.isEmpty)
    }

    /// An SML dump as an optical head gives it: garbage, a frame with a bad CRC, good frames. The bad
    /// frame is reported with its byte offset and skipped, the rest decoded, exit 65; --strict stops there.
    @Test func aBadSMLFrameInAStreamIsSkippedWithItsOffset() throws {
        var sample = Array(try Data(contentsOf: Binaries.packageRoot.appendingPathComponent("samples/sml/ehz-push.bin")))
        let frameLength = sample.count / 3
        sample[frameLength - 1] ^= 0x01        // the first frame's CRC
        let input: [UInt8] = [0x42, 0x13] + sample
        let r = try Binaries.run("ami-decode", ["-"], stdin: input)
        #expect(r.status == 65)
        #expect(r.stderrLines == [
            "ami-decode: stdin byte 0: framing: skipped 2 bytes that are not a frame",
            "ami-decode: stdin byte \(2 + frameLength - 2): sml-transport: " + r.stderrLines.last!.components(separatedBy: "sml-transport: ").last!,
        ])
        #expect(r.stderrLines.last?.contains("CRC 0x") == true)
        #expect(r.stdoutLines.count == 10)
        #expect(r.stdoutLines.allSatisfy { $0.contains(#""protocol":"sml""#) && $0.contains(#""meter":"1EMH0012345678""#) })
        let strict = try Binaries.run("ami-decode", ["--strict", "--protocol", "sml"], stdin: Array(sample))
        #expect(strict.status == 65)
        #expect(strict.stdout.isEmpty)
    }

    /// HDLC addresses out of range are usage errors, found before anything is connected; in range,
    /// the same command goes on to connect (and fails there: nothing listens on port 1).
    @Test func hdlcAddressesOutOfRangeAreUsageErrors() throws {
        let wide = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--framing", "hdlc", "--server", "200"])
        #expect(wide.status == 64)
        #expect(wide.stderr.contains("--server is 0 to 127 over HDLC without --physical (with it, 0 to 16383)"))
        let client = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--framing", "hdlc", "--client", "300"])
        #expect(client.status == 64)
        let physical = try Binaries.run("ami-read", ["dlms", "--tcp", "127.0.0.1:1", "--framing", "hdlc", "--server", "200",
                                                     "--physical", "17", "--timeout", "2"])
        #expect(physical.status == 69, "\(physical.stderr)")
    }
}
