import Testing
@testable import AMICore

/// One record of a CI 0x72 frame and what it decodes to.
private func single(_ records: String, options: DecodeOptions = DecodeOptions()) throws -> Reading {
    let rs = try MBusTest.readings(MBusTest.variableFrame(records), options: options)
    try #require(rs.count == 1, "expected one reading, got \(rs.count)")
    return rs[0]
}

private func number(_ text: String) -> ReadingValue {
    if let d = ExactDecimal(text) { return .number(d) }
    return .number(ExactDecimal(Int64(text) ?? 0))   // 19 digits: more than ExactDecimal parses
}

@Suite struct MBusDataFieldTests {
    /// Each DIF data field coding (EN 13757-3 Table 4) with VIF 0x03 (energy, Wh, 10^0).
    @Test(arguments: [
        ("01 03 FF", "-1"),
        ("01 03 7F", "127"),
        ("02 03 34 12", "4660"),
        ("02 03 00 80", "-32768"),
        ("03 03 FF FF 7F", "8388607"),
        ("03 03 00 00 80", "-8388608"),
        ("04 03 78 56 34 12", "305419896"),
        ("04 03 FE FF FF FF", "-2"),
        ("05 03 00 00 48 41", "12.5"),
        ("05 03 CD CC CC 3D", "0.1"),
        ("06 03 01 00 00 00 00 80", "-140737488355327"),
        ("07 03 FF FF FF FF FF FF FF 7F", "9223372036854775807"),
        ("09 03 12", "12"),
        ("0A 03 34 12", "1234"),
        ("0B 03 56 34 12", "123456"),
        ("0C 03 78 56 34 12", "12345678"),
        ("0E 03 12 90 78 56 34 12", "123456789012"),
        ("0A 03 34 F2", "-234"),
        ("0D 03 C2 34 12", "1234"),
        ("0D 03 D2 34 12", "-1234"),
        ("0D 03 E2 34 12", "4660"),
        ("0D 03 E0", "0"),
    ])
    func dataFieldCodings(record: String, value: String) throws {
        let r = try single(record)
        #expect(r.value == number(value))
        #expect(r.quantity == .energy)
        #expect(r.unit == .wattHour)
    }

    @Test func noDataAndSelectionForReadoutGiveNoReadingButCountAsRecords() throws {
        let rs = try MBusTest.readings(MBusTest.variableFrame("00 03  08 03  01 03 05"))
        #expect(rs.count == 1)
        #expect(rs[0].record == 2)
        #expect(rs[0].value == number("5"))
    }

    @Test func variableLengthTextIsStoredLastCharacterFirst() throws {
        let r = try single("0D 78 06 35 33 32 44 56 52")
        #expect(r.value == .text("RVD235"))
        #expect(r.quantity == .fabricationNumber)
    }

    @Test func longBinaryIsHexInFrameOrder() throws {
        let r = try single("0D 03 F0 " + String(repeating: "01 ", count: 15) + "02")
        #expect(r.value == .text(String(repeating: "01", count: 15) + "02"))
    }

    @Test(arguments: [
        ("0D 03 F7", "reserved variable-length coding LVAR 0xF7"),
        ("3F 03", "reserved special function DIF 0x3F"),
    ])
    func badDataIsARecordError(record: String, reason: String) throws {
        let frame = MBusTest.variableFrame("01 03 01 " + record)
        let e = try #require(throws: DecodeError.self) { try MBusTest.decode(frame) }
        #expect(e.layer == .mbusApplication)
        #expect(e.offset == 7 + 12 + 3)   // the DIF of record 1
        #expect(e.message.hasPrefix("record 1: "))
        #expect(e.message.contains(reason))
    }

    @Test func invalidBCDDigitsKeepTheRecordAsItsDigits() throws {
        // A value during error state filled with 0xDD, as Elster and ABB heat meters send it.
        let rs = try MBusTest.readings(MBusTest.variableFrame("3C 2B BD EB DD DD  0D 03 C2 3A 12  01 03 05"))
        #expect(rs.count == 3)
        #expect(rs[0].value == .text("DDDDEBBD") && rs[0].note == "invalid BCD" && rs[0].function == .error)
        #expect(rs[1].value == .text("123A") && rs[1].note == "invalid BCD")
        #expect(rs[2].value == number("5"))
    }

    @Test func prematurEndsNameTheStageAndPointAtTheDIF() throws {
        let cases: [(String, String)] = [
            ("84", "premature end of record at DIF"),
            ("04", "premature end of record at VIF"),
            ("04 03 01 02", "premature end of record at data"),
            ("02 FC 05 41", "premature end of record at variable-length VIF"),
            ("0D 03 05 41", "premature end of record at data"),
        ]
        for (record, reason) in cases {
            let e = try #require(throws: DecodeError.self) { try MBusTest.decode(MBusTest.variableFrame(record)) }
            #expect(e.offset == 19, "\(record)")
            #expect(e.kind == .malformed)
            #expect(e.message.hasPrefix("record 0: " + reason), "\(record): \(e.message)")
        }
    }
}

@Suite struct MBusDataInformationBlockTests {
    @Test func storageTariffAndSubunitAreAssembledFromTheDIFEs() throws {
        // DIF C4: extension, storage bit 1, 32-bit integer. DIFE 93: tariff 1, storage 3.
        // DIFE 41: subunit 1, storage 1.  storage = 1 | 3<<1 | 1<<5, tariff = 1, subunit = 1<<1.
        let r = try single("C4 93 41 03 01 00 00 00")
        #expect(r.storage == 39)
        #expect(r.tariff == 1)
        #expect(r.subunit == 2)
    }

    @Test(arguments: [
        (UInt8(0x04), RecordFunction.instantaneous), (0x14, .maximum), (0x24, .minimum), (0x34, .error),
    ])
    func functionField(dif: UInt8, function: RecordFunction) throws {
        let r = try single(Hex.string([dif]) + " 03 01 00 00 00")
        #expect(r.function == function)
        #expect(r.storage == 0 && r.tariff == 0 && r.subunit == 0)
    }

    @Test func tenDIFEsAreAllowedElevenAreNot() throws {
        let ten = "84 " + String(repeating: "80 ", count: 9) + "00 03 01 00 00 00"
        #expect(try single(ten).storage == 0)
        let eleven = "84 " + String(repeating: "80 ", count: 10) + "00 03 01 00 00 00"
        let e = try #require(throws: DecodeError.self) { try MBusTest.decode(MBusTest.variableFrame(eleven)) }
        #expect(e.message == "record 0: too many DIFEs (more than 10)")
        #expect(e.offset == 19)
    }

    @Test func idleFillersAreSkippedAndNotCounted() throws {
        let rs = try MBusTest.readings(MBusTest.variableFrame("2F 2F 01 03 01 2F 01 03 02 2F"))
        #expect(rs.map(\.record) == [0, 1])
    }

    @Test func manufacturerSpecificDataIsHexToTheEnd() throws {
        let rs = try MBusTest.readings(MBusTest.variableFrame("01 03 01 0F 00 01 75 13"))
        #expect(rs.count == 2)
        #expect(rs[1].quantity == .manufacturerSpecific)
        #expect(rs[1].value == .text("00017513"))
        #expect(rs[1].note == nil)
        #expect(rs[1].record == 1)
        let more = try MBusTest.readings(MBusTest.variableFrame("1F AB"))
        #expect(more[0].value == .text("ab"))
        #expect(more[0].note == "more_records_follow")
        let empty = try MBusTest.readings(MBusTest.variableFrame("1F"))
        #expect(empty[0].value == .text(""))
    }
}

@Suite struct MBusValueInformationTests {
    /// VIF scaling to base units, exactly (EN 13757-3 primary VIF table).
    @Test(arguments: [
        ("04 13 31 D4 00 00", "volume", "54.321", "m3"),
        ("04 06 D2 04 00 00", "energy", "1234000", "Wh"),
        ("04 0E 05 00 00 00", "energy", "5000000", "J"),
        ("04 1B 05 00 00 00", "mass", "5", "kg"),
        ("02 22 05 00", "on_time", "18000", "s"),
        ("02 27 02 00", "operating_time", "172800", "s"),
        ("04 2B 0A 00 00 00", "power", "10", "W"),
        ("04 33 0A 00 00 00", "power", "10000", "J/h"),
        ("04 3B 64 00 00 00", "volume_flow", "0.100", "m3/h"),
        ("04 43 64 00 00 00", "volume_flow", "0.6", "m3/h"),
        ("04 4B 0A 00 00 00", "volume_flow", "0.036", "m3/h"),
        ("04 53 0A 00 00 00", "mass_flow", "10", "kg/h"),
        ("02 5A FF 00", "flow_temperature", "25.5", "degC"),
        ("02 5E 9C FF", "return_temperature", "-10.0", "degC"),
        ("02 62 05 00", "temperature_difference", "0.5", "K"),
        ("02 67 F6 FF", "external_temperature", "-10", "degC"),
        ("02 6A 0F 00", "pressure", "1.5", "bar"),
        ("02 6E 0F 00", "hca", "15", ""),
        ("01 72 02", "averaging_duration", "7200", "s"),
        ("01 74 02", "actuality_duration", "2", "s"),
        ("0C 78 78 03 49 11", "fabrication_number", "11490378", ""),
        ("0C 79 78 03 49 11", "enhanced_identification", "11490378", ""),
        ("01 7A 05", "bus_address", "5", ""),
    ])
    func primaryVIFScaling(record: String, quantity: String, value: String, unit: String) throws {
        let r = try single(record)
        #expect(r.quantity.rawValue == quantity)
        #expect(r.value == number(value))
        #expect(r.unit?.rawValue ?? "" == unit)
        #expect(r.note == nil)
    }

    /// The extension tables after 0xFB and 0xFD.
    @Test(arguments: [
        ("04 FB 00 05 00 00 00", "energy", "500000", "Wh"),
        ("04 FB 01 05 00 00 00", "energy", "5000000", "Wh"),
        ("04 FB 08 05 00 00 00", "energy", "500000000", "J"),
        ("04 FB 10 05 00 00 00", "volume", "500", "m3"),
        ("04 FB 19 05 00 00 00", "mass", "5000000", "kg"),
        ("04 FB 28 05 00 00 00", "power", "500000", "W"),
        ("04 FB 31 05 00 00 00", "power", "5000000000", "J/h"),
        ("02 FB 75 0F 00", "temperature_limit", "0.15", "degC"),
        ("02 FD 48 EE 08", "voltage", "228.6", "V"),
        ("02 FD 5B 10 00", "current", "1.6", "A"),
        ("02 FD 5C 10 00", "current", "16", "A"),
        ("04 FD 03 E8 03 00 00", "credit", "1000", ""),
        ("01 FD 08 2A", "access_number", "42", ""),
        ("01 FD 0E 02", "firmware_version", "2", ""),
        ("02 FD 17 01 80", "error_flags", "32769", ""),
        ("01 FD 1B 03", "digital_input", "3", ""),
        ("0A FD 3A 12 00", "dimensionless", "12", ""),
        ("01 FD 60 07", "reset_counter", "7", ""),
        ("01 FD 61 08", "cumulation_counter", "8", ""),
        ("02 FD 74 0A 00", "remaining_battery_life", "864000", "s"),
        ("01 FD 26 01", "storage_interval", "3600", "s"),
        ("01 FD 6C 02", "battery_operating_time", "7200", "s"),
    ])
    func extensionTables(record: String, quantity: String, value: String, unit: String) throws {
        let r = try single(record)
        #expect(r.quantity.rawValue == quantity)
        #expect(r.value == number(value))
        #expect(r.unit?.rawValue ?? "" == unit)
    }

    @Test func unitsWithoutABaseUnitKeepTheValueAndSayWhy() throws {
        let f = try single("02 FB 5A FF 00")
        #expect(f.quantity == .flowTemperature && f.unit == nil && f.note == "degF" && f.value == number("25.5"))
        let months = try single("01 FD 28 03")
        #expect(months.quantity == .storageInterval && months.unit == nil && months.note == "months")
    }

    @Test func reservedCodesAreReportedWithTheCode() throws {
        let r = try single("01 FD 7C 01")
        #expect(r.quantity == .reserved)
        #expect(r.note == "vif fd 7c")
        #expect(r.value == number("1"))
        let p = try single("0C 7B 02 03 00 00")
        #expect(p.quantity == .reserved && p.note == "vif 7b")
    }

    @Test func plainTextUnitIsKeptInTheNote() throws {
        // VIF FC, "%RH" (sent last character first), VIFE 74 (×10^-2).
        let r = try single("02 FC 03 48 52 25 74 22 15")
        #expect(r.quantity == .plainTextUnit)
        #expect(r.note == "%RH")
        #expect(r.value == number("54.10"))
        #expect(r.unit == nil)
    }

    @Test func manufacturerSpecificVIF() throws {
        let r = try single("01 FF 93 00 05")
        #expect(r.quantity == .manufacturerSpecific)
        #expect(r.note == "vife 9300")
        #expect(r.value == number("5"))
    }
}

@Suite struct MBusCombinableVIFETests {
    @Test(arguments: [
        ("04 93 74 31 D4 00 00", "0.54321"),       // ×10^-2
        ("04 93 70 31 D4 00 00", "0.000054321"),   // ×10^-6
        ("04 93 77 31 D4 00 00", "543.21"),        // ×10^1 on litres 10^-3: 54321×10^-2
        ("04 93 7D 31 D4 00 00", "54321"),         // ×10^3
    ])
    func multiplicativeCorrectionIsExact(record: String, value: String) throws {
        let r = try single(record)
        #expect(r.value == number(value))
        #expect(r.quantity == .volume && r.unit == .cubicMetre && r.note == nil)
    }

    @Test(arguments: [
        ("04 83 3B 88 13 00 00", "accumulation only if positive contributions"),
        ("04 86 3C 01 00 00 00", "accumulation of abs value only if negative contributions"),
        ("04 AB 22 01 00 00 00", "per hour"),
        ("04 AB 48 01 00 00 00", "upper limit value"),
        ("04 90 28 01 00 00 00", "increment per input pulse on input channel 0"),
        ("04 83 78 01 00 00 00", "additive correction constant 10^-3 unit of VIF"),
        ("04 83 7F 01 00 00 00", "manufacturer-specific"),
        ("02 AC FF 01 01 00", "manufacturer-specific vife 01"),
        ("04 83 15 01 00 00 00", "error: no data available"),
        ("04 83 BB 22 01 00 00 00", "accumulation only if positive contributions; per hour"),
    ])
    func qualifiersGoIntoTheNote(record: String, note: String) throws {
        let r = try single(record)
        #expect(r.note == note)
    }

    @Test func errorCodeNoneSaysNothing() throws {
        let r = try single("0E 84 00 01 00 00 00 00 00")
        #expect(r.note == nil)
        #expect(r.value == number("10"))
    }

    @Test func dateAndDurationAndCountVIFEsChangeTheQuantity() throws {
        let d = try single("04 AB 39 0B 0B CD 13")
        #expect(d.quantity == .timePoint && d.value == .text("2014-03-13T11:11"))
        #expect(d.note == "start date/time of power")
        let dur = try single("02 BE 52 03 00")     // duration of first lower limit exceed, hours
        #expect(dur.quantity == .duration && dur.unit == .second && dur.value == number("10800"))
        #expect(dur.note == "duration of first lower limit exceed volume_flow")
        let n = try single("02 AB 49 03 00")
        #expect(n.quantity == .count && n.unit == nil && n.value == number("3"))
        #expect(n.note == "number of exceeds of upper limit power")
    }

    @Test func tenVIFEsAreAllowedElevenAreNot() throws {
        let ten = "04 83 " + String(repeating: "BB ", count: 9) + "3B 01 00 00 00"
        #expect(try single(ten).value == number("1"))
        let eleven = "04 83 " + String(repeating: "BB ", count: 10) + "3B 01 00 00 00"
        let e = try #require(throws: DecodeError.self) { try MBusTest.decode(MBusTest.variableFrame(eleven)) }
        #expect(e.message == "record 0: too many VIFEs (more than 10)")
    }

    @Test func conversionOverflowIsARecordError() throws {
        let e = try #require(throws: DecodeError.self) {
            try MBusTest.decode(MBusTest.variableFrame("07 4B FF FF FF FF FF FF FF 7F"))
        }
        #expect(e.kind == .outOfRange)
        #expect(e.offset == 19)
    }
}

@Suite struct MBusDateTimeTests {
    @Test(arguments: [
        ("02 6C CD 13", "2014-03-13"),
        ("02 6C 00 00", "invalid"),
        ("02 6C FF FF", "invalid"),
        ("02 6C 1F 1C", "2008-12-31"),
        ("04 6D 0B 0B CD 13", "2014-03-13T11:11"),
        ("04 6D 8B 0B CD 13", "invalid"),           // IV bit
        ("04 6D 3C 0B CD 13", "invalid"),           // minute 60
        ("04 6D 0B 2B CD 13", "2014-03-13T11:11"),  // hundred-year bits 01: 1900 + 100 + 14
        ("04 6D 0B 4B CD 13", "2114-03-13T11:11"),  // hundred-year bits 10
        ("06 6D 1E 0B 0B CD 13 00", "2014-03-13T11:11:30"),
        ("06 6D 1E 8B 0B CD 13 00", "invalid"),
        ("03 6D 1E 0B 0B", "11:11:30"),
        ("02 6C 9F 1C", "2012-12-31"),
        ("02 6C 3E 12", "invalid"),                 // 2009-02-30
    ])
    func dateTypes(record: String, text: String) throws {
        let r = try single(record)
        #expect(r.quantity == .timePoint)
        #expect(r.value == .text(text))
        #expect(r.unit == nil)
    }

    @Test func storagesTakeTheTimeOfTheirTimePoint() throws {
        // Storage 1 date, storage 1 volume, storage 0 date and time, storage 0 volume.
        let frame = MBusTest.variableFrame("42 6C 9F 1C  44 13 01 00 00 00  04 6D 0B 0B CD 13  04 13 02 00 00 00")
        let rs = try MBusTest.readings(frame)
        #expect(rs[1].time == UTCTime(year: 2012, month: 12, day: 31))
        #expect(rs[3].time == UTCTime(year: 2014, month: 3, day: 13, hour: 11, minute: 11))
        #expect(rs[2].time == rs[3].time)
    }

    @Test func withoutATimePointStorageZeroTakesTheReceiveTime() throws {
        let t = UTCTime(seconds: 1_700_000_000)
        let out = try MBusTest.decode(MBusTest.variableFrame("04 13 02 00 00 00  44 13 01 00 00 00"), receiveTime: t)
        let rs = out.records.compactMap { if case .reading(let r) = $0 { return r } else { return nil } }
        #expect(rs[0].time == t)
        #expect(rs[1].time == nil)
    }

    @Test func meterLocalTimeUsesTheZoneAndTheSummerTimeBit() throws {
        var o = DecodeOptions()
        o.meterTimeZone = try #require(LocalTimeZone("Europe/Amsterdam"))
        // 2014-07-13 12:00, SU set: CEST (UTC+2).
        let r = try single("04 6D 00 8C CD 17", options: o)
        #expect(r.value == .text("2014-07-13T12:00"))
        #expect(r.time == UTCTime(year: 2014, month: 7, day: 13, hour: 10))
    }
}

@Suite struct MBusHeaderTests {
    @Test(arguments: [(UInt16(0x0477), "ACW"), (0x2C2D, "KAM"), (0x4D82, "SLB"), (0x1593, "ELS"), (0x0000, "@@@")])
    func manufacturerFlagCodes(raw: UInt16, code: String) {
        #expect(MBusHeader.manufacturer(raw) == code)
    }

    @Test func meterIdentityAndMedium() throws {
        let r = try single("01 03 01")
        #expect(r.meter == "ACW-12345678-0E-07")
        #expect(r.medium == "water")
        #expect(r.provenance == Provenance(protocolID: .mbus, source: "test", frame: 0))
        let id = MBusHeader.meterIdentity(manufacturer: 0x0477, id: (0x05, 0x00, 0x02, 0xE5), version: 0xA,
                                          medium: 0x16)
        #expect(id == "ACW-050002E5-0A-16")
    }

    @Test func statusBitsBecomeEvents() throws {
        let out = try MBusTest.decode(MBusTest.variableFrame("01 03 01", status: 0x9E))
        let events = out.records.compactMap { if case .event(let e) = $0 { return e } else { return nil } }
        #expect(events.map(\.event) == ["application_error", "power_low", "permanent_error", "temporary_error",
                                        "manufacturer_status"])
        #expect(events.allSatisfy { $0.code == "0x9E" && $0.meter == "ACW-12345678-0E-07" })
        let quiet = try MBusTest.decode(MBusTest.variableFrame("01 03 01", status: 0x00))
        #expect(quiet.records.count == 1)
    }

    @Test func shortHeaderTakesTheMeterFromTheAddressOrTheHint() throws {
        let frame = MBusTest.longFrame(ci: 0x7A, [0x2A, 0x01, 0x00, 0x00] + MBusTest.bytes("01 03 07"), a: 5)
        let out = try MBusTest.decode(frame)
        guard case .reading(let r) = out.records[0] else { Issue.record("no reading"); return }
        #expect(r.meter == "mbus-primary-5")
        #expect(r.medium == nil)
        guard case .event(let e) = out.records[1] else { Issue.record("no event"); return }
        #expect(e.event == "application_busy")
        let hinted = try MBusTest.decode(frame, meterHint: "KAM-1-2-3")
        guard case .reading(let h) = hinted.records[0] else { Issue.record("no reading"); return }
        #expect(h.meter == "KAM-1-2-3")
    }

    @Test func headerTooShort() throws {
        let e = try #require(throws: DecodeError.self) {
            try MBusTest.decode(MBusTest.bytes("68 08 08 68 08 02 72 78 56 34 12 24 B4 16"))
        }
        #expect(e.layer == .mbusApplication && e.kind == .malformed && e.offset == 7)
        #expect(e.message.hasPrefix("variable data header too short"))
    }

    @Test func modeTwoIsMostSignificantByteFirst() throws {
        // CI 0x76: id 12345678, manufacturer 0x0477, version 0E, water; a 4-byte integer 0x00012345 and
        // a 4-digit BCD 1234, both MSB first; text in reading order.
        let header: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x04, 0x77, 0x0E, 0x07, 0x01, 0x00, 0x00, 0x00]
        let frame = MBusTest.longFrame(ci: 0x76, header + MBusTest.bytes("04 13 00 01 23 45  0A 03 12 34  0D 78 02 41 42"))
        let rs = try MBusTest.readings(frame)
        #expect(rs[0].meter == "ACW-12345678-0E-07")
        #expect(rs[0].value == number("74.565"))
        #expect(rs[1].value == number("1234"))
        #expect(rs[2].value == .text("AB"))
    }

    @Test func fixedDataStructure() throws {
        // libmbus manual_frame2: BCD counters, 1 l and 135 l "same but historic".
        let rs = try MBusTest.readings(MBusTest.bytes("68 13 13 68 08 05 73 78 56 34 12 0A 00 E9 7E 01 00 00 00 35 01 00 00 3C 16"))
        #expect(rs.count == 2)
        #expect(rs[0].meter == "@@@-12345678-00-07")
        #expect(rs[0].medium == "water")
        #expect(rs[0].quantity == .volume && rs[0].value == number("0.001") && rs[0].unit == .cubicMetre)
        #expect(rs[0].storage == 0)
        #expect(rs[1].value == number("0.135") && rs[1].storage == 1)
        // sen_pollusonic_2: kWh and l.
        let heat = try MBusTest.readings(MBusTest.bytes("68 13 13 68 08 01 73 93 92 91 90 10 00 05 69 31 65 00 00 69 00 00 00 3F 16"))
        #expect(heat[0].meter == "@@@-90919293-00-04")
        #expect(heat[0].quantity == .energy && heat[0].value == number("6531000") && heat[0].unit == .wattHour)
        #expect(heat[1].quantity == .volume && heat[1].value == number("0.069"))
        let e = try #require(throws: DecodeError.self) {
            try MBusTest.decode(MBusTest.bytes("68 12 12 68 08 01 73 93 92 91 90 10 00 05 69 31 65 00 00 69 00 00 3F 16"))
        }
        #expect(e.message == "fixed data structure of 15 bytes, 16 expected")
    }
}

@Suite struct MBusLinkLayerTests {
    @Test func singleCharacterAndShortFramesCarryNoRecords() throws {
        #expect(try MBusTest.decode([0xE5]).records.isEmpty)
        #expect(try MBusTest.decode(MBusTest.bytes("10 5B 01 5C 16")).records.isEmpty)
        #expect(try MBusTest.decode(MBusTest.bytes("68 03 03 68 53 01 B8 0C 16")).records.isEmpty)
    }

    @Test func shortFrameChecksum() throws {
        let e = try #require(throws: DecodeError.self) { try MBusTest.decode(MBusTest.bytes("10 5B 01 5D 16")) }
        #expect(e == DecodeError(.mbusLink, at: 3, .checksum, "checksum 0x5D, computed 0x5C"))
    }

    @Test func longFrameChecksumPointsAtTheChecksumByte() throws {
        var frame = MBusTest.variableFrame("01 03 01")
        let at = frame.count - 2
        let good = frame[at]
        frame[at] = good &+ 1
        let e = try #require(throws: DecodeError.self) { try MBusTest.decode(frame) }
        #expect(e == DecodeError(.mbusLink, at: at, .checksum,
                                 "checksum \(Hex.byte(good &+ 1)), computed \(Hex.byte(good))"))
        var o = DecodeOptions()
        o.ignoreChecksums = true
        let out = try MBusTest.decode(frame, options: o)
        #expect(out.warnings == [e])
        #expect(out.records.count == 1)
    }

    @Test func ignoredChecksumIsAWarningThroughTheSession() throws {
        var frame = MBusTest.variableFrame("01 03 01")
        frame[frame.count - 2] &+= 1
        var o = DecodeOptions()
        o.ignoreChecksums = true
        let sink = MBusTest.session(Array(("# capture\n" + Hex.string(frame, separator: " ") + "\n").utf8),
                                    format: .hex, options: o)
        #expect(sink.readings.count == 1)
        #expect(sink.diagnostics.count == 1)
        #expect(sink.diagnostics.first?.skipped == false)
        #expect(sink.diagnostics.first?.line == 2)
        #expect(sink.diagnostics.first?.error.offset == frame.count - 2)
        let strict = MBusTest.session(frame, format: .binary)
        #expect(strict.readings.isEmpty)
        #expect(strict.diagnostics.first?.skipped == true)
        #expect(strict.diagnostics.first?.error.kind == .checksum)
    }

    @Test func applicationErrorIsAnEvent() throws {
        let out = try MBusTest.decode(MBusTest.bytes("68 04 04 68 08 01 70 08 81 16"))
        guard case .event(let e) = out.records.first else { Issue.record("no event"); return }
        #expect(e.event == "application_error")
        #expect(e.code == "0x08")
        #expect(e.text == "Application busy")
        #expect(e.meter == "mbus-primary-1")
    }

    @Test func otherControlInformationIsUnsupported() throws {
        let e = try #require(throws: DecodeError.self) {
            try MBusTest.decode(MBusTest.bytes("68 06 06 68 53 FE 51 01 7A 08 25 16"))
        }
        #expect(e == DecodeError(.mbusApplication, at: 6, .unsupported,
                                 "CI 0x51 (data send, master to slave) is not decoded"))
    }

    @Test func malformedFramesHandedStraightToTheDecoderAreRejected() {
        for hex in ["", "E5 E5", "10 5B 01", "68 03 04 68 08 01 72 7B 16", "68 03 03 69 08 01 72 7B 16",
                    "68 02 02 68 08 01 09 16", "68 03 03 68 08 01 72 7B 17", "68 05 05 68 08 01 72 7B 16", "42"] {
            #expect(throws: DecodeError.self, "\(hex)") { try MBusTest.decode(MBusTest.bytes(hex)) }
        }
    }
}

@Suite struct MBusSecretTests {
    /// VIF FD 0x16 (password) and FD 0x12 (user access code): reported, value never written.
    @Test(arguments: [("04 FD 16 78 56 34 12", "305419896"), ("02 FD 12 2A 2F", "12074")])
    func secretsAreWithheld(record: String, secret: String) throws {
        let r = try single(record)
        #expect(r.value == .text("withheld"))
        #expect(r.note?.contains("secret not printed") == true)
        let w = JSONLineWriter()
        w.write(r)
        let line = String(decoding: w.buffer, as: UTF8.self)
        #expect(!line.contains(secret))
    }
}
