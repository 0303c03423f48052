import Foundation
import Testing
@testable import AMICore

/// DLMS input without link layer: bare APDUs as hex lines, and pushed data notifications.
@Suite struct DLMSStreamTests {
    static func decode(_ text: String) -> CollectingSink {
        var options = DecodeOptions()
        options.protocols = [.dlms]
        let sink = CollectingSink()
        let session = DecodeSession(inputName: "test", sourceName: "test", format: .hex, options: options, sink: sink)
        session.feed(Array(text.utf8))
        session.finish()
        return sink
    }

    @Test func bareAPDUsAsHexLines() {
        // Session s01 of the DLMS corpus: scaler_unit then value of 1-0:1.8.0*255.
        let sink = Self.decode("""
            C001C100030100010800FF0300
            C401C10002020F00161E
            C001C100030100010800FF0200
            C401C100060048EF50
            """)
        #expect(sink.skips.isEmpty, "\(sink.skips)")
        #expect(sink.readings.count == 1)
        #expect(sink.readings.first?.value == .number(ExactDecimal(4_779_856)))
        #expect(sink.readings.first?.unit == .wattHour)
        #expect(sink.readings.first?.obis == "1-0:1.8.0*255")
    }

    @Test func aBareAPDUIsOnlyTakenWhenDLMSIsAskedFor() {
        let sink = CollectingSink()
        let session = DecodeSession(inputName: "test", sourceName: "test", format: .hex, options: DecodeOptions(), sink: sink)
        session.feed(Array("C401C100060048EF50\n".utf8))
        session.finish()
        #expect(sink.readings.isEmpty)
        #expect(sink.skips.count == 1)
    }

    @Test func dataNotificationsGiveOneReadingPerValue() throws {
        let energy = OBISCode(1, 0, 1, 8, 0, 255), voltage = OBISCode(1, 0, 32, 7, 0, 255)
        let stamp = try #require(UTCTime(iso8601: "2024-03-01T12:15:00Z"))
        let push = APDU.dataNotification(DataNotification(
            invokeID: LongInvokeIDAndPriority(rawValue: 0x4000_0001),
            dateTime: COSEMDateTime(utc: stamp, deviation: 0),
            body: .structure([.octetString(energy.bytes), .doubleLongUnsigned(4_779_856),
                              .octetString(voltage.bytes), .longUnsigned(2301), .visibleString(Array("E1".utf8))])))
        let sink = Self.decode(Hex.string(push.encoded()))
        #expect(sink.skips.isEmpty, "\(sink.skips)")
        let r = sink.readings
        #expect(r.map(\.obis) == ["1-0:1.8.0*255", "1-0:32.7.0*255", nil])
        #expect(r.map(\.value) == [.number(ExactDecimal(4_779_856)), .number(ExactDecimal(2301)), .text("E1")])
        #expect(r.allSatisfy { $0.time == stamp })
        #expect(r.first?.quantity == .energy)
        #expect(r.last?.note == "push element 2")
    }
}
