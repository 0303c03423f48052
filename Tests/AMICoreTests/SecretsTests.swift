import Foundation
import Testing
@testable import AMICore

@Suite struct SecretsTests {
    func keyFile(_ text: String, mode: Int) throws -> String {
        let path = makeTemporaryDirectory() + "/meter.keys"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    @Test func readsKeysAndPasswordFromAnOwnerOnlyFile() throws {
        let path = try keyFile("""
            # test keys
            ek = 000102030405060708090A0B0C0D0E0F
            \tAK=D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF\r
            password = 1234 5678
            """, mode: 0o600)
        let s = try Secrets(keyFile: path, environment: ["AMI_DLMS_EK": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"])
        #expect(try s.key("ek", environmentName: "AMI_DLMS_EK", byteCount: 16)?.bytes == Array(0...15))
        #expect(try s.key("ak", environmentName: "AMI_DLMS_AK", byteCount: 16)?.bytes.first == 0xD0)
        #expect(s.text("password", environmentName: "AMI_DLMS_PASSWORD")?.bytes == Array("1234 5678".utf8))
        #expect(try s.key("bk", environmentName: "AMI_DLMS_BK", byteCount: 16) == nil)
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o622])
    func refusesAFileOthersMayRead(mode: Int) throws {
        let path = try keyFile("ek = 000102030405060708090A0B0C0D0E0F\n", mode: mode)
        let error = #expect(throws: SecretError.self) { try Secrets(keyFile: path, environment: [:]) }
        #expect(error?.description.contains("refused") == true)
        #expect(error?.description.contains("0001") == false)
    }

    @Test func environmentFillsWhatTheFileLacks() throws {
        let s = Secrets(environment: ["AMI_DLMS_AK": "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", "AMI_DLMS_PASSWORD": "pw"])
        #expect(try s.key("ak", environmentName: "AMI_DLMS_AK", byteCount: 16)?.bytes.last == 0xDF)
        #expect(s.text("password", environmentName: "AMI_DLMS_PASSWORD")?.bytes == Array("pw".utf8))
    }

    @Test func badEntriesAreNamedWithoutTheirValue() throws {
        let path = try keyFile("ek = 00010203\n", mode: 0o600)
        let s = try Secrets(keyFile: path, environment: [:])
        let error = #expect(throws: SecretError.self) { try s.key("ek", environmentName: "AMI_DLMS_EK", byteCount: 16) }
        #expect(error?.description == "\(path): ek: expected 16 bytes as 32 hex digits")
        let noEquals = try keyFile("ek 0001\n", mode: 0o400)
        let e2 = #expect(throws: SecretError.self) { try Secrets(keyFile: noEquals, environment: [:]) }
        #expect(e2?.description == "\(noEquals):1: expected name = value")
    }

    @Test func secretsNeverShowTheirBytes() {
        let s = Secret(Array("12345678".utf8))
        #expect("\(s)" == "withheld")
        #expect(String(reflecting: s).contains("withheld"))
        #expect(!String(reflecting: s).contains("1234"))
    }
}

@Suite struct InvocationCounterStoreTests {
    @Test func countersContinueAcrossLeasesAndNeverRepeat() throws {
        let store = InvocationCounterStore(directory: makeTemporaryDirectory() + "/state/ic")
        let first = try store.lease(meter: "tcp://127.0.0.1:4062/1", count: 3)
        #expect(try (0..<5).map { _ in try first.next() } == [0, 1, 2, 3, 4])
        try first.finish()
        let second = try store.lease(meter: "tcp://127.0.0.1:4062/1", count: 3)
        #expect(try second.next() == 5)
        // A lease that is never finished (a crash) leaves its whole block used.
        let third = try store.lease(meter: "tcp://127.0.0.1:4062/1", count: 3)
        #expect(try third.next() == 8)
        try second.finish()
        try third.finish()
        #expect(try store.lease(meter: "tcp://127.0.0.1:4062/1").next() == 9)
    }

    @Test func atLeastRaisesTheStart() throws {
        let store = InvocationCounterStore(directory: makeTemporaryDirectory())
        #expect(try store.lease(meter: "m", atLeast: 1001).next() == 1001)
        #expect(try store.lease(meter: "m", count: 1).next() == 2001)
        #expect(try store.lease(meter: "other").next() == 0)
    }

    @Test func meterNamesBecomeSafeFileNames() {
        #expect(InvocationCounterStore.fileName("tcp://10.0.0.1:4059/1") == "tcp___10.0.0.1_4059_1")
        #expect(InvocationCounterStore.fileName("../x") == "_.._x")
        #expect(InvocationCounterStore.fileName("") == "_")
    }

    @Test func exhaustionIsAnErrorNotAWrap() throws {
        let dir = makeTemporaryDirectory()
        try "4294967290\n".write(toFile: dir + "/m", atomically: false, encoding: .utf8)
        let lease = try InvocationCounterStore(directory: dir).lease(meter: "m", count: 6)
        #expect(try lease.next() == 4_294_967_290)
        #expect(throws: SecretError.self) { try InvocationCounterStore(directory: dir).lease(meter: "m", count: 1) }
    }
}
