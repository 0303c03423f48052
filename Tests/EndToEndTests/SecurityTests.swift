import Foundation
import Glibc
import Testing

/// What the tools do with files and secrets: exports never write through a symbolic link or
/// outside the target's folder, keys never show in the process title or any output, and DLMS
/// invocation counters never repeat on the wire, even across killed sessions.
@Suite struct SecurityTests {
    static let reading = #"{"type":"reading","v":1,"meter":"M1","quantity":"energy","value":1,"unit":"Wh","time":"2026-01-05T00:15:00Z","interval":900,"protocol":"mbus","source":"s","frame":0}"# + "\n"

    static func folder() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-sec-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    // MARK: exports and symbolic links

    /// `-o` naming a symbolic link: the link itself is replaced by the export; the file it pointed
    /// to (here in another folder) keeps its bytes. For each writer, including XLSX (written by a library).
    @Test(arguments: ["csv", "xlsx", "json", "xml", "cim", "nem12"])
    func anExportToASymbolicLinkReplacesTheLinkNotItsTarget(format: String) throws {
        let dir = try Self.folder(), elsewhere = try Self.folder()
        let victim = elsewhere + "/precious"
        try "keep me\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = dir + "/out.\(format)"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        let r = try Binaries.run("ami-export", ["--to", format, "-o", link], stdin: Array(Self.reading.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        #expect(Self.entries(elsewhere) == ["precious"])
        let attributes = try FileManager.default.attributesOfItem(atPath: link)
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
        #expect(Self.entries(dir) == ["out.\(format)"], "no temporary file or folder left")
    }

    /// A target in another folder is written through a temporary file in that folder (one
    /// rename, same file system); nothing appears in the current folder, and a failed export
    /// leaves an earlier file at the target as it was.
    @Test func anExportIntoAnotherFolderTouchesOnlyThatFolder() throws {
        let work = try Self.folder(), target = try Self.folder()
        let r = try Binaries.shell("cd \(work) && printf '%s' '\(Self.reading)' | ami-export --to csv -o \(target)/out.csv")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.entries(work).isEmpty)
        #expect(Self.entries(target) == ["out.csv"])
        let before = try Data(contentsOf: URL(fileURLWithPath: target + "/out.csv"))
        let bad = try Binaries.shell("cd \(work) && echo 'not json' | ami-export --strict --to csv -o \(target)/out.csv")
        #expect(bad.status == 65)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target + "/out.csv")) == before)
        #expect(Self.entries(target) == ["out.csv"])
    }

    /// The temporary names: `mkstemp` makes the file (O_EXCL: a symbolic link planted at the name
    /// makes it pick another), and the XLSX library writes into a private folder (mode 0700) that
    /// no other user can put a link in. Both are checked while `ami-export` is stopped mid-run.
    @Test func temporaryFilesAreCreatedExclusivelyInPrivatePlaces() throws {
        for format in ["csv", "xlsx"] {
            let dir = try Self.folder()
            let fifo = dir + "/in.fifo"
            #expect(mkfifo(fifo, 0o600) == 0)
            let p = Process()
            p.executableURL = Binaries.folder.appendingPathComponent("ami-export")
            p.arguments = ["--to", format, "-o", dir + "/out.\(format)", fifo]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            // The writer is open (the temporary file or folder made) once the export has the first line.
            let w = open(fifo, O_WRONLY)
            _ = Self.reading.withCString { write(w, $0, strlen($0)) }
            var temporary: [String] = []
            for _ in 0..<500 where temporary.isEmpty {
                temporary = Self.entries(dir).filter { $0.hasPrefix(".out.\(format).tmp-") }
                if temporary.isEmpty { usleep(10_000) }
            }
            #expect(temporary.count == 1, "\(format): \(Self.entries(dir))")
            if let t = temporary.first {
                var st = stat()
                #expect(lstat(dir + "/" + t, &st) == 0)
                if format == "xlsx" {
                    #expect(st.st_mode & S_IFMT == S_IFDIR)
                    #expect(st.st_mode & 0o777 == 0o700)
                } else {
                    #expect(st.st_mode & S_IFMT == S_IFREG)
                    #expect(st.st_mode & 0o077 == 0, "mkstemp's file is the user's alone until renamed")
                }
                #expect(st.st_uid == getuid())
            }
            close(w)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            #expect(Self.entries(dir) == ["in.fifo", "out.\(format)"])
        }
    }

    // MARK: keys

    static let ek = "000102030405060708090A0B0C0D0E0F", ak = "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF", password = "12345678"

    /// The key bytes as text in every spelling a leak could take: hex in both cases, and the
    /// password (also as hex).
    static var secretSpellings: [String] {
        [ek, ak].flatMap { [$0, $0.lowercased()] }
            + [password, password.utf8.map { String(format: "%02x", $0) }.joined(), password.utf8.map { String(format: "%02X", $0) }.joined()]
    }

    /// No option of any tool takes a key or password as its value: only `--key-file` (and
    /// `--wmbus-key-file`) name a file.
    @Test(arguments: [["ami-read", "dlms"], ["ami-read", "listen"], ["ami-decode"], ["ami-store", "ingest"], ["ami-bill", "run"],
                      ["ami-export"], ["ami-report", "completeness"]])
    func noOptionTakesASecret(command: [String]) throws {
        let help = try Binaries.run(command[0], Array(command.dropFirst()) + ["--help"]).stdout
        let options = help.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }).filter { $0.hasPrefix("--") }
        let secretish = options.filter { o in
            ["key", "password", "passwd", "secret", "--ek", "--ak", "token"].contains { o.lowercased().contains($0) }
                && !o.hasSuffix("key-file")
        }
        #expect(secretish.isEmpty, "\(command): \(secretish)")
    }

    /// `ami-read dlms` with a key file, held waiting for a meter that accepts the connection but
    /// never answers: neither its command line (/proc/PID/cmdline) nor its title (comm) nor its
    /// output holds a key or the password, in any spelling.
    @Test func keysNeverShowInTheProcessTitleOrOutput() throws {
        let dir = try Self.folder()
        let keyFile = dir + "/meter.keys"
        try "ek = \(Self.ek)\nak = \(Self.ak)\npassword = \(Self.password)\n".write(toFile: keyFile, atomically: false, encoding: .utf8)
        chmod(keyFile, 0o600)
        // A listening socket that never accepts: the connection is made, no answer comes.
        let (fd, port) = DLMSSimulator.boundSocket()
        defer { close(fd) }
        #expect(listen(fd, 4) == 0)
        for auth in [["--auth", "hls-gmac", "--security", "auth-enc"], ["--auth", "low"]] {
            let p = Process()
            p.executableURL = Binaries.folder.appendingPathComponent("ami-read")
            p.arguments = ["dlms", "--tcp", "127.0.0.1:\(port)", "--key-file", keyFile, "--state-dir", dir + "/state",
                           "--timeout", "2", "--clock"] + auth
            let out = dir + "/out", err = dir + "/err"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            _ = FileManager.default.createFile(atPath: err, contents: nil)
            p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
            try p.run()
            usleep(500_000)
            let cmdline = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(p.processIdentifier)/cmdline"))
            let comm = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(p.processIdentifier)/comm"))
            p.waitUntilExit()
            #expect(p.terminationStatus == 69, "the meter did not answer in time")
            let title = String(decoding: cmdline.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            #expect(title.contains("--key-file \(keyFile)"), "the title was read while it ran: \(title)")
            let texts = [title, String(decoding: comm, as: UTF8.self), try String(contentsOfFile: err, encoding: .utf8)]
            for text in texts {
                for s in Self.secretSpellings { #expect(!text.contains(s), "\(auth): \(s) in \(text)") }
            }
            try Self.expectNoSecret(in: try String(contentsOfFile: out, encoding: .utf8), lls: auth == ["--auth", "low"])
        }
    }

    /// The frame records ami-read writes hold no secret. HLS sessions carry only a random
    /// challenge; with LLS the AARQ carries the password in the clear (Green Book, "Low Level
    /// Security"), and its frame record shows asterisks in its place.
    static func expectNoSecret(in frames: String, lls: Bool) throws {
        for s in Self.secretSpellings { #expect(!frames.contains(s), "\(s) in \(frames)") }
        if lls { #expect(frames.contains("ac0a8008" + String(repeating: "2a", count: password.utf8.count)), "\(frames)") }
    }

    /// A whole session with the simulator (HLS-GMAC with authenticated encryption, LLS over the
    /// wrapper and over HDLC): the
    /// frame records and the decoded readings hold no key; see `expectNoSecret` for the password.
    @Test(.enabled(if: DLMSSimulator.available, "needs ../shared/peers/dlms and .venv-dlms"))
    func aCipheredSessionWritesNoKey() throws {
        for (sim, read) in [(["--auth", "hls-gmac", "--security", "auth-enc"], ["--auth", "hls-gmac", "--security", "auth-enc"]),
                            (["--auth", "low", "--password", Self.password], ["--auth", "low"]),
                            (["--framing", "hdlc", "--auth", "low", "--password", Self.password], ["--framing", "hdlc", "--auth", "low"])] {
            let s = try DLMSSimulator(sim)
            let (keyFile, state) = try DLMSMeterTests.workspace()
            let frames = state + ".frames"
            let r = try Binaries.shell("ami-read dlms --tcp 127.0.0.1:\(s.port) \(read.joined(separator: " ")) --key-file \(keyFile) --state-dir \(state) --clock --get '1-0:1.8.0*255' > \(frames) && ami-decode --key-file \(keyFile) \(frames)")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdoutLines.count >= 2)
            for s in Self.secretSpellings {
                #expect(!r.stdout.contains(s) && !r.stderr.contains(s), "\(sim): \(s)")
            }
            // ami-decode read every frame record (a masked HDLC frame's FCS checks) and wrote no secret.
            try Self.expectNoSecret(in: try String(contentsOfFile: frames, encoding: .utf8), lls: read.contains("low"))
        }
    }

    // MARK: DLMS invocation counters

    /// Sessions one after another, some SIGKILLed at random points: the invocation counters the
    /// simulator received (its own trace of the wire) strictly increase, so none is used twice.
    @Test(.enabled(if: DLMSSimulator.available, "needs ../shared/peers/dlms and .venv-dlms"))
    func invocationCountersStrictlyIncreaseAcrossKilledSessions() throws {
        let trace = try Self.folder() + "/trace.jsonl"
        let sim = try DLMSSimulator(["--auth", "hls-gmac", "--security", "auth-enc", "--trace", trace])
        let (keyFile, state) = try DLMSMeterTests.workspace()
        var random = FaultTests.Seeded(state: 42)
        var killed = 0
        for round in 0..<8 {
            let p = Process()
            p.executableURL = Binaries.folder.appendingPathComponent("ami-read")
            p.arguments = ["dlms", "--tcp", "127.0.0.1:\(sim.port)", "--auth", "hls-gmac", "--security", "auth-enc",
                           "--key-file", keyFile, "--state-dir", state, "--clock", "--profile", "1-0:99.1.0*255"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            if round % 2 == 1 {
                usleep(UInt32.random(in: 20_000...400_000, using: &random))
                kill(p.processIdentifier, SIGKILL)
            }
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal { killed += 1 }
            else { #expect(p.terminationStatus == 0, "round \(round)") }
        }
        #expect(killed > 0)
        // The client's bytes in order (sessions ran one at a time), then every general-glo-ciphering
        // request: tag DB, system title, length, security control byte, the 4-byte counter.
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let rx = lines.compactMap { l -> String? in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(l.utf8))) as? [String: Any],
                  o["direction"] as? String == "rx" else { return nil }
            return o["hex"] as? String
        }.joined()
        var counters: [UInt32] = []
        var rest = Substring(rx)
        while let r = rest.range(of: "DB084D4D4D0000000001") ?? rest.range(of: "DB08414D490000000001") {
            let after = rest[r.upperBound...]
            // One length byte (short form) or 0x81/0x82 and the length, then SC.
            let lengthDigits = after.hasPrefix("81") ? 4 : after.hasPrefix("82") ? 6 : 2
            let counter = after.dropFirst(lengthDigits + 2).prefix(8)
            if let v = UInt32(counter, radix: 16) { counters.append(v) }
            rest = after
        }
        #expect(counters.count >= 8, "\(counters)")
        #expect(zip(counters, counters.dropFirst()).allSatisfy { $0 < $1 }, "\(counters)")
    }
}
