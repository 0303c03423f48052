import Foundation
import Testing
@testable import AMICore

private typealias T = TextTelegramTesting

/// An IEC 62056-21 data block `STX lines ! CR LF ETX BCC`, its BCC computed.
private func block(_ lines: String) -> [UInt8] {
    let body = Array((lines + "!\r\n\u{03}").utf8)
    return [0x02] + body + [body.reduce(0, ^)]
}

@Suite struct IEC62056Tests {
    /// Our simulator's mode C readout (corpus `meter_sim_1phase`), whose BCC is right.
    static let readout = Array("/SIm5\\2MeterSim-2\r\n".utf8)
        + block("0.0.0(00000042)\r\n1.8.0(0001234.5*kWh)\r\n2.8.0(0000000.0*kWh)\r\nF.F(00)\r\n")

    @Test func decodesAModeCReadout() throws {
        #expect(Self.readout.last == UInt8(ascii: "?"))
        let sink = T.decode(Self.readout)
        #expect(sink.diagnostics.isEmpty)
        #expect(sink.readings.map(\.obis) == ["0.0.0", "1.8.0", "2.8.0", "F.F"])
        #expect(sink.readings.map(\.quantity) == [.equipmentId, .energy, .energyExport, .errorRegister])
        #expect(sink.readings.map(\.value) == [.text("00000042"), .number(ExactDecimal(1_234_500)), .number(.zero), .text("00")])
        #expect(sink.readings.allSatisfy { $0.meter == "00000042" && $0.provenance.protocolID == .iec62056_21 })
        #expect(sink.readings.allSatisfy { $0.time == nil && $0.medium == nil })
    }

    @Test func aWrongBCCSkipsTheReadoutUnlessChecksumsAreIgnored() {
        var wrong = Self.readout
        wrong[wrong.count - 1] = 0x78
        let bad = T.decode(wrong)
        #expect(bad.records.isEmpty)
        #expect(bad.skips.map(\.error) == [DecodeError(.iec62056_21, at: wrong.count - 1, .checksum, "BCC 0x78, computed 0x3F")])
        let ignored = T.decode(wrong, ignoreChecksums: true)
        #expect(ignored.records == T.decode(Self.readout).records)
        #expect(ignored.warnings.map(\.error.kind) == [.checksum])
    }

    /// A second value group holding `YYMMDDhhmm` is the value's time, read in the meter's zone.
    @Test func aTimestampGroupTimesTheValue() throws {
        let bytes = Array("/ABC5meter\r\n1.6.0(05.432*kW)(2403011215)\r\n1.8.0(000100.5*kWh)\r\n!\r\n".utf8)
        let berlin = try #require(LocalTimeZone("Europe/Berlin"))
        let sink = T.decode(bytes, configure: { $0.meterTimeZone = berlin })
        #expect(sink.diagnostics.isEmpty)
        let peak = try #require(sink.readings.first)
        #expect(peak.obis == "1.6.0" && peak.quantity == .power && peak.function == .maximum)
        #expect(peak.value == .number(ExactDecimal(5432)) && peak.unit == .watt)
        #expect(peak.time == UTCTime(iso8601: "2024-03-01T11:15:00Z"))
        #expect(sink.readings.last?.time == nil)
        #expect(sink.readings.allSatisfy { $0.meter == "ABC:meter" })
    }

    /// Meter identity: the serial number register (trimmed, never hex-decoded), else `MAN:ident`,
    /// else the frame's meter hint, else `unknown`.
    @Test func meterIdentity() throws {
        func meter(_ bytes: [UInt8], hint: String? = nil) throws -> String? {
            var out = DecodeOutput()
            try IEC62056_21Decoder.decode(bytes, context: FrameContext(source: "t", frameIndex: 0, meterHint: hint), into: &out)
            guard case .reading(let r)? = out.records.first else { return nil }
            return r.meter
        }
        #expect(try meter(Array("/LGZ4ZMF100AC.M27\r\n".utf8) + block("0.0(        18438636)\r\nC.1.0(31323334)\r\n")) == "31323334")
        #expect(try meter(Array("/LGZ52ZMD120APt.G03\r\n0.0.0( 20000)\r\n!\r\n".utf8)) == "20000")
        #expect(try meter(Array("/HAG5eHZ010C_EHZ1vA02\r\n1-0:1.8.0*255(000001.2963)\r\n!\r\n".utf8)) == "HAG:eHZ010C_EHZ1vA02")
        #expect(try meter(block("1.8.0(1*kWh)\r\n"), hint: "hinted") == "hinted")
        #expect(try meter(block("1.8.0(1*kWh)\r\n")) == "unknown")
    }

    /// Several data sets on one line (pwitab's test readout), units, and addresses with value group A.
    @Test func dataSetsUnitsAndMedia() throws {
        let sink = T.decode(block("3:14(314*kWh)4:15(415*kWh)\r\n1-0:21.7.255*255(-000073.69*W)\r\n6.31 (0109868*h)\r\n"))
        #expect(sink.diagnostics.isEmpty)
        #expect(sink.readings.map(\.obis) == ["3:14", "4:15", "1-0:21.7.255*255", "6.31"])
        #expect(sink.readings.map(\.value) == ["314000", "415000", "-73.69", "395524800"].map { .number(ExactDecimal($0)!) })
        #expect(sink.readings.map(\.unit) == [.wattHour, .wattHour, .watt, .second])
        #expect(sink.readings.map(\.quantity) == [.register, .register, "power_l1", .register])
        #expect(sink.readings.map(\.medium) == [nil, nil, "electricity", nil])
    }

    /// A data block may end at ETX without "!" (programming-mode data messages); decoders take a frame
    /// with line ends after it.
    @Test func blockShapes() throws {
        let body = Array("1.8.0(1*kWh)\u{03}".utf8)
        let noBang = [0x02] + body + [body.reduce(0, ^)]
        let sink = T.decode(noBang)
        #expect(sink.diagnostics.isEmpty)
        #expect(sink.readings.map(\.value) == [.number(ExactDecimal(1000))])
        var out = DecodeOutput()
        try IEC62056_21Decoder.decode(Self.readout + [0x0D, 0x0A], context: FrameContext(source: "t", frameIndex: 0), into: &out)
        #expect(out.records.count == 4 && out.warnings.isEmpty)
        #expect(throws: DecodeError.self) {
            try IEC62056_21Decoder.decode(Self.readout + [0x41], context: FrameContext(source: "t", frameIndex: 0), into: &out)
        }
    }

    /// An STX block is IEC 62056-21 even with DSMR objects in it; a request is its own frame.
    @Test func classificationAndRequests() {
        let withDSMRObject = Array("/ISK5\\2M550T-1012\r\n".utf8) + block("0-0:96.1.1(4530303434)\r\n")
        #expect(TextTelegramFraming.scan(withDSMRObject, at: 0, end: withDSMRObject.count, atEnd: true,
                                         protocols: Set(ProtocolID.allCases)) == .frame(.iec62056_21, length: withDSMRObject.count))
        let sink = T.decode(Array("/?!\r\n".utf8) + Self.readout)
        #expect(sink.diagnostics.isEmpty)
        #expect(sink.readings.allSatisfy { $0.provenance.frame == 1 })
    }
}
