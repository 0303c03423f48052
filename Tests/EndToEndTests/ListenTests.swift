import Foundation
import Testing

/// `ami-read listen` with real sockets on loopback and a socat pseudo-terminal pair: frames in,
/// frame records out at once, nothing lost in a burst, a clean stop on SIGTERM, a serial device
/// that goes away and comes back.
@Suite(.serialized) struct ListenTests {
    /// A running `ami-read listen`, its output in files.
    final class Listener {
        let process = Process()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ami-listen-\(UUID().uuidString)")
        var stdoutURL: URL { folder.appendingPathComponent("stdout") }
        var stderrURL: URL { folder.appendingPathComponent("stderr") }

        init(_ args: [String]) throws {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
            FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            process.executableURL = Binaries.folder.appendingPathComponent("ami-read")
            process.arguments = ["listen"] + args
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
            try process.run()
        }

        var stdoutLines: [String] {
            ((try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        var stderrLines: [String] {
            ((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        /// Waits up to `seconds` for `condition`.
        func waitFor(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end {
                if condition() { return true }
                usleep(20_000)
            }
            return condition()
        }

        /// The port from `ami-read: …: listening on tcp://127.0.0.1:PORT`.
        func port() -> Int? {
            guard waitFor(20, { stderrLines.contains { $0.contains("listening on") } }) else { return nil }
            return stderrLines.first { $0.contains("listening on") }?.split(separator: ":").last.flatMap { Int($0) }
        }

        /// Sends SIGTERM and waits for the exit status.
        func stop() -> Int32 {
            kill(process.processIdentifier, SIGTERM)
            let end = Date().addingTimeInterval(20)
            while process.isRunning && Date() < end { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return -1
            }
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(at: folder)
        }
    }

    static let sample = Binaries.packageRoot.appendingPathComponent("samples/sml/ehz-push.bin").path

    /// Sends `count` copies of the sample's bytes (3 SML frames each) with python3: over one TCP
    /// connection, or one frame per datagram over UDP.
    static func send(_ transport: String, port: Int, copies: Int) throws {
        let script = """
        import socket, sys
        data = open(sys.argv[1], 'rb').read()
        n = len(data) // 3
        frames = [data[i * n:(i + 1) * n] for i in range(3)]
        copies = int(sys.argv[4])
        if sys.argv[2] == 'tcp':
            s = socket.create_connection(('127.0.0.1', int(sys.argv[3])))
            s.sendall(data * copies)
            s.close()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(copies):
                for f in frames:
                    s.sendto(f, ('127.0.0.1', int(sys.argv[3])))
        """
        let r = try Binaries.shell("python3 -c \(shellQuote(script)) \(shellQuote(sample)) \(transport) \(port) \(copies)")
        #expect(r.status == 0, "\(r.stderr)")
    }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// 10,000 frames over one TCP connection: 10,000 frame records, each an SML frame that
    /// ami-decode reads; SIGTERM then stops it cleanly (exit 0).
    @Test func aTCPBurstLosesNothing() throws {
        let l = try Listener(["tcp://127.0.0.1:0", "--protocol", "sml"])
        let port = try #require(l.port(), "\(l.stderrLines)")
        let copies = 3334      // 10,002 frames
        try Self.send("tcp", port: port, copies: copies)
        #expect(l.waitFor { l.stdoutLines.count >= 3 * copies })
        #expect(l.stop() == 0)
        let lines = l.stdoutLines
        #expect(lines.count == 3 * copies)
        #expect(lines.allSatisfy { $0.contains(#""type":"frame""#) && $0.contains(#""protocol":"sml""#) && $0.contains(#""dir":"rx""#) })
        #expect(lines.first?.contains(#""source":"tcp://127.0.0.1:"#) == true)
        #expect(l.stderrLines.count == 1, "\(l.stderrLines)")     // "listening on …" only
        // The records decode: 5 readings a frame.
        let decoded = try Binaries.shell("head -n 300 \(Self.shellQuote(l.stdoutURL.path)) | \(Self.shellQuote(Binaries.folder.appendingPathComponent("ami-decode").path)) | wc -l")
        #expect(decoded.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1500")
    }

    /// 10,000 datagrams, each a frame: every one is a record, its protocol found by its framing.
    @Test func aUDPBurstLosesNothing() throws {
        let l = try Listener(["udp://127.0.0.1:0"])
        let port = try #require(l.port(), "\(l.stderrLines)")
        let copies = 3334
        try Self.send("udp", port: port, copies: copies)
        #expect(l.waitFor { l.stdoutLines.count >= 3 * copies })
        #expect(l.stop() == 0)
        #expect(l.stdoutLines.count == 3 * copies)
        #expect(l.stdoutLines.allSatisfy { $0.contains(#""protocol":"sml""#) && $0.contains(#""source":"udp://127.0.0.1:"#) })
    }

    /// Garbage between frames on a connection is reported with its offset and skipped (exit 65);
    /// a frame cut off by the connection's end too.
    @Test func garbageOnAConnectionIsReported() throws {
        let l = try Listener(["tcp://127.0.0.1:0", "--protocol", "sml"])
        let port = try #require(l.port())
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.sample))
        let third = data.count / 3
        let bytes = Data([0x41, 0x42, 0x43]) + data + data.prefix(third / 2)
        let file = l.folder.appendingPathComponent("input.bin")
        try bytes.write(to: file)
        let script = "import socket,sys; s=socket.create_connection(('127.0.0.1',\(port))); s.sendall(open(sys.argv[1],'rb').read()); s.close()"
        let r = try Binaries.shell("python3 -c \(Self.shellQuote(script)) \(Self.shellQuote(file.path))")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(l.waitFor { l.stderrLines.count >= 3 })
        #expect(l.stop() == 65)
        #expect(l.stdoutLines.count == 3)
        let problems = l.stderrLines.dropFirst()
        #expect(problems.first?.hasSuffix("byte 0: framing: skipped 3 bytes that are not a frame") == true, "\(problems)")
        #expect(problems.last?.contains("byte \(3 + data.count): framing: truncated frame") == true, "\(problems)")
    }

    /// A serial device (one end of a socat pty pair): frames are read as they come; when the device
    /// goes away the listener says so and waits, and reads again when it is back.
    @Test func aSerialDeviceThatComesAndGoes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-pty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let meterEnd = dir.appendingPathComponent("meter").path, headEnd = dir.appendingPathComponent("head").path
        func bridge() throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
            p.arguments = ["pty,raw,echo=0,link=\(headEnd)", "pty,raw,echo=0,link=\(meterEnd)"]
            try p.run()
            let end = Date().addingTimeInterval(10)
            while !(FileManager.default.fileExists(atPath: headEnd) && FileManager.default.fileExists(atPath: meterEnd)) && Date() < end {
                usleep(20_000)
            }
            return p
        }
        func push(_ copies: Int) throws {
            let r = try Binaries.shell("for i in $(seq \(copies)); do cat \(Self.shellQuote(Self.sample)); done > \(Self.shellQuote(meterEnd))")
            #expect(r.status == 0, "\(r.stderr)")
        }
        var socat = try bridge()
        let l = try Listener(["serial:" + headEnd, "--baud", "9600", "--reopen-interval", "0.2"])
        usleep(300_000)
        try push(2)
        #expect(l.waitFor { l.stdoutLines.count >= 6 }, "\(l.stderrLines)")
        kill(socat.processIdentifier, SIGKILL)
        socat.waitUntilExit()
        #expect(l.waitFor { l.stderrLines.contains { $0.contains("gone; waiting for it to come back") } }, "\(l.stderrLines)")
        socat = try bridge()
        defer { kill(socat.processIdentifier, SIGKILL); socat.waitUntilExit() }
        #expect(l.waitFor { l.stderrLines.contains { $0.hasSuffix(": open again") } }, "\(l.stderrLines)")
        usleep(200_000)
        try push(1)
        #expect(l.waitFor { l.stdoutLines.count >= 9 }, "\(l.stderrLines)")
        #expect(l.stop() == 0)
        #expect(l.stdoutLines.count == 9)
        #expect(l.stdoutLines.allSatisfy { $0.contains(#""source":"serial:"#) && $0.contains(#""protocol":"sml""#) })
    }

    /// DLMS data notifications pushed over the TCP wrapper: each wrapper frame is a record with
    /// protocol dlms, and ami-decode reads the pushed values.
    @Test func dlmsDataNotificationsOverTCP() throws {
        // data-notification (invoke id 0x40000001, 2024-03-01 12:15:00 UTC): 1-0:1.8.0 4779856,
        // 1-0:32.7.0 2301, "E1", in a wrapper frame from wport 1 to wport 1.
        let frame = "00010001000100300F400000010C07E80301050C0F0000000000020509060100010800FF060048EF50"
            + "09060100200700FF1208FD0A024531"
        let l = try Listener(["tcp://127.0.0.1:0"])
        let port = try #require(l.port())
        let script = "import socket,sys; s=socket.create_connection(('127.0.0.1',\(port))); s.sendall(bytes.fromhex(sys.argv[1]) * 2); s.close()"
        let r = try Binaries.shell("python3 -c \(Self.shellQuote(script)) \(frame)")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(l.waitFor { l.stdoutLines.count >= 2 })
        #expect(l.stop() == 0)
        #expect(l.stdoutLines.count == 2)
        #expect(l.stdoutLines.allSatisfy { $0.contains(#""protocol":"dlms""#) && $0.contains(frame.lowercased()) })
        let decoded = try Binaries.run("ami-decode", ["-"], stdin: Array(l.stdoutLines.joined(separator: "\n").utf8))
        #expect(decoded.status == 0, "\(decoded.stderr)")
        #expect(decoded.stdoutLines.count == 6)
        #expect(decoded.stdoutLines.filter { $0.contains(#""obis":"1-0:1.8.0*255","value":4779856,"time":"2024-03-01T12:15:00Z""#) }.count == 2)
    }

    /// `ami-read listen … | ami-decode` as a service: readings come out while both keep running.
    @Test func aLivePipelineDecodesAsFramesArrive() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("readings.jsonl"), err = dir.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        // Two processes joined by a pipe, as the shell would: SIGTERM to ami-read ends both.
        let pipe = Pipe()
        let read = Process(), decode = Process()
        read.executableURL = Binaries.folder.appendingPathComponent("ami-read")
        read.arguments = ["listen", "tcp://127.0.0.1:0"]
        read.standardOutput = pipe
        read.standardError = try FileHandle(forWritingTo: err)
        decode.executableURL = Binaries.folder.appendingPathComponent("ami-decode")
        decode.standardInput = pipe
        decode.standardOutput = try FileHandle(forWritingTo: out)
        try read.run()
        try decode.run()
        defer {
            for p in [read, decode] where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        let (outPath, errPath) = (out.path, err.path)
        let end = Date().addingTimeInterval(20)
        var port: Int? = nil
        while port == nil && Date() < end {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            port = text.split(separator: "\n").first { $0.contains("listening on") }?.split(separator: ":").last.flatMap { Int($0) }
            usleep(20_000)
        }
        try Self.send("tcp", port: try #require(port), copies: 1)
        var lines: [Substring] = []
        while lines.count < 15 && Date() < end {
            lines = ((try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "").split(separator: "\n")
            usleep(20_000)
        }
        #expect(lines.count == 15, "no readings while the pipeline runs")
        #expect(lines.allSatisfy { $0.contains(#""type":"reading""#) && $0.contains(#""meter":"1EMH0012345678""#) })
        #expect(read.isRunning && decode.isRunning)
        kill(read.processIdentifier, SIGTERM)
        read.waitUntilExit()
        decode.waitUntilExit()
        #expect(read.terminationStatus == 0 && decode.terminationStatus == 0)
    }

    @Test func badEndpointsAreUsageErrors() throws {
        let r = try Binaries.run("ami-read", ["listen", "http://x:1"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("udp://ADDR:PORT, tcp://ADDR:PORT or serial:DEVICE"))
        let busy = try Listener(["tcp://127.0.0.1:0"])
        let port = try #require(busy.port())
        let second = try Binaries.run("ami-read", ["listen", "tcp://127.0.0.1:\(port)"])
        #expect(second.status == 69)
        #expect(second.stderr.contains("ami-read: tcp://127.0.0.1:\(port): bind tcp://127.0.0.1:\(port): Address already in use"))
        #expect(busy.stop() == 0)
    }
}
