import Foundation
import Testing

/// The built `ami-decode` run through pipes on the shipped samples, as a user would.
@Suite struct PipelineTests {
    static let samples = ["samples/mbus/libmbus-test-frames.hex", "samples/dsmr/p1-dsmr5-fluvius.txt",
                          "samples/dsmr/p1-capture-am550.txt", "samples/iec62056-21/meter-sim-1phase.bin",
                          "samples/dlms/sim-wrapper-none.jsonl", "samples/dlms/sim-hdlc-hls-gmac-auth-enc.jsonl"]

    @Test func theShippedSamplesDecodeCleanly() throws {
        let r = try Binaries.run("ami-decode", Self.samples)
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let lines = r.stdoutLines
        for p in ["mbus", "dsmr", "iec62056-21", "dlms"] {
            #expect(lines.contains { $0.contains(#""type":"reading""#) && $0.contains(#""protocol":"\#(p)""#) },
                    "no \(p) readings")
        }
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["v"] as? Int == 1)
            #expect(["reading", "event"].contains(object?["type"] as? String ?? ""))
        }
    }

    /// The ciphered DLMS sample decodes the same from the plaintext its frame records carry as from
    /// the ciphered APDUs alone with the simulator's (public test) keys, from a key file or the
    /// environment; without either, every ciphered APDU is reported and skipped.
    @Test func theCipheredDLMSSampleDecodesFromItsPlainOrWithTheKeys() throws {
        let sample = "samples/dlms/sim-hdlc-hls-gmac-auth-enc.jsonl"
        let withPlain = try Binaries.run("ami-decode", [sample])
        #expect(withPlain.status == 0, "\(withPlain.stderr)")
        #expect(withPlain.stdoutLines.count > 20)
        #expect(withPlain.stdout.contains(#""event":"remote_disconnect""#))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-plain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let keys = dir.appendingPathComponent("sim.keys").path
        try "ek = 000102030405060708090A0B0C0D0E0F\nak = D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF\n".write(toFile: keys, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: keys)
        let strip = "sed 's/,\"plain\":\"[0-9a-f]*\"//' \(sample)"
        let noKeys = try Binaries.shell("\(strip) | env -u AMI_DLMS_EK -u AMI_DLMS_AK ami-decode")
        #expect(noKeys.status == 65)
        #expect(noKeys.stderrLines.first?.hasSuffix("dlms-security: ciphered general-glo-ciphering: no keys (give --key-file, or decode ami-read's frame records, which carry the plaintext)") == true,
                "\(noKeys.stderr)")
        #expect(!noKeys.stdout.contains(#""quantity":"energy""#))
        let fromFile = try Binaries.shell("\(strip) | ami-decode --key-file \(keys)")
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        // Readings take their source from the frame records, so stdin and the file give the same lines.
        #expect(fromFile.stdout == withPlain.stdout)
        let fromEnvironment = try Binaries.shell("\(strip) | AMI_DLMS_EK=000102030405060708090A0B0C0D0E0F AMI_DLMS_AK=D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF ami-decode")
        #expect(fromEnvironment.stdout == fromFile.stdout)
    }

    @Test func outputDoesNotDependOnTheLocale() throws {
        let files = Self.samples.joined(separator: " ")
        let c = try Binaries.shell("LC_ALL=C ami-decode \(files) | sha256sum")
        let de = try Binaries.shell("LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 ami-decode \(files) | sha256sum")
        #expect(c.status == 0)
        #expect(c.stdout == de.stdout)
    }

    @Test func aClosedPipeEndsQuietly() throws {
        let script = """
        for i in $(seq 200); do cat samples/mbus/libmbus-test-frames.hex; done > "$TMPDIR/many.hex"
        ami-decode "$TMPDIR/many.hex" | head -n 1 > /dev/null
        echo "status ${PIPESTATUS[0]}"
        """
        let r = try Binaries.shell("TMPDIR=$(mktemp -d); " + script)
        #expect(r.stdout == "status 0\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func garbageBetweenBinaryFramesIsReportedWithItsOffsetAndSkipped() throws {
        // Three M-Bus frames from the samples as raw bytes, with junk before the second and a
        // corrupted checksum in the third.
        let hexLines = try String(contentsOf: Binaries.packageRoot.appendingPathComponent(Self.samples[0]), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") }.prefix(3)
        var frames = hexLines.map { line in line.split(separator: " ").map { UInt8($0, radix: 16)! } }
        frames[2][frames[2].count - 2] &+= 1
        let junk: [UInt8] = [0x00, 0x41, 0x42, 0x43]
        let capture = frames[0] + junk + frames[1] + frames[2]
        let r = try Binaries.run("ami-decode", ["--input", "binary"], stdin: capture)
        #expect(r.status == 65)
        let errors = r.stderrLines
        #expect(errors.count == 2)
        #expect(errors.first == "ami-decode: stdin byte \(frames[0].count): framing: skipped 4 bytes that are not a frame")
        let badSum = frames[0].count + junk.count + frames[1].count + frames[2].count - 2
        #expect(errors.last?.hasPrefix("ami-decode: stdin byte \(badSum): mbus-link: checksum") == true)
        let frameIndexes = Set(r.stdoutLines.compactMap { line -> Int? in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return o["frame"] as? Int
        })
        #expect(frameIndexes == [0, 1])
    }

    @Test func strictStopsAtTheFirstBadFrame() throws {
        let r = try Binaries.run("ami-decode", ["--strict", "--input", "hex"],
                                 stdin: Array("68 03 03 68 08 01 72 7B 16\nE5\n".utf8))
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 1)
    }

    @Test func frameRecordsCarryTheirSourceAndTimeIntoReadings() throws {
        let hex = try String(contentsOf: Binaries.packageRoot.appendingPathComponent(Self.samples[0]), encoding: .utf8)
            .split(separator: "\n").first { !$0.hasPrefix("#") }!.replacingOccurrences(of: " ", with: "").lowercased()
        let input = """
        {"type":"frame","v":1,"hex":"\(hex)","time":"2026-01-05T10:00:00Z","protocol":"mbus","source":"serial:/dev/ttyUSB0","dir":"rx"}
        {"type":"frame","v":1,"hex":"105b01 5c16","protocol":"mbus","source":"serial:/dev/ttyUSB0","dir":"tx"}
        {"type":"note","v":1,"text":"passed through"}

        """
        let r = try Binaries.run("ami-decode", [], stdin: Array(input.utf8))
        #expect(r.status == 0)
        #expect(r.stderr.isEmpty)
        let lines = r.stdoutLines
        #expect(lines.last == #"{"type":"note","v":1,"text":"passed through"}"#)
        let readings = lines.filter { $0.contains(#""type":"reading""#) }
        #expect(!readings.isEmpty)
        #expect(readings.allSatisfy { $0.contains(#""source":"serial:/dev/ttyUSB0""#) })
    }
}
