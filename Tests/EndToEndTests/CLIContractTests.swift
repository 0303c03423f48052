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
}
