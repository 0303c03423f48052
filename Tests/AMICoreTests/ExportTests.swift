import Foundation
import Testing
@testable import AMICore

/// A sink that keeps what it is given.
final class MemorySink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
    var text: String { String(decoding: bytes, as: UTF8.self) }
}

@Suite struct CSVTests {
    @Test(arguments: [
        ("a,b\r\n1,2\r\n", [[["a", "b"], ["1", "2"]]].flatMap { $0 }, [] as [String]),
        ("a,b\n1,2", [["a", "b"], ["1", "2"]], []),
        ("\u{FEFF}x\n\"q,\"\"r\"\"\r\ns\"\n", [["x"], ["q,\"r\"\r\ns"]], []),
        ("a\n\n\nb\n", [["a"], ["b"]], []),
        ("a,\"b\"c\nd\n", [["d"]], ["1: text after the closing quote of field 2"]),
        ("a\"b\nd\n", [["d"]], ["1: quote inside an unquoted field 1"]),
        ("\"open\nx", [], ["1: quoted field not closed at the end of the input"]),
        (",\n", [["", ""]], []),
    ])
    func readerFollowsRFC4180(text: String, records: [[String]], failures: [String]) {
        var got: [[String]] = []
        var bad: [String] = []
        // Fed a byte at a time: records cut anywhere come out whole.
        var reader = CSVReader()
        let collect: (Result<[String], CSVReader.Failure>, Int) -> Void = { r, line in
            switch r {
            case .success(let f): got.append(f)
            case .failure(let f): bad.append("\(line): \(f.description)")
            }
        }
        for b in Array(text.utf8) { [b].withUnsafeBytes { reader.feed($0, collect) } }
        reader.finish(collect)
        #expect(got == records)
        #expect(bad == failures)
    }

    @Test func writerQuotesOnlyWhatNeedsIt() throws {
        let sink = MemorySink()
        let w = CSVWriter(sink: sink)
        try w.header(["a", "b,c"])
        try w.row([.text("x\"y"), .number("-1.50"), .bool(true), .empty, .time(UTCTime(seconds: 0)),
                   .text("line\nbreak"), .text(" lead")])
        try w.finish()
        #expect(sink.text == "a,\"b,c\"\r\n\"x\"\"y\",-1.50,true,,1970-01-01T00:00:00Z,\"line\nbreak\", lead\r\n")
        #expect(CSVWriter.line(["p", "q\"r"]) == "p,\"q\"\"r\"")
    }
}

@Suite struct RecordTableTests {
    func row(_ table: inout RecordTable, _ line: String) throws -> RecordTable.Row {
        var bytes = Array(line.utf8)
        return try bytes.withUnsafeMutableBufferPointer { b throws -> RecordTable.Row in try table.row(UnsafeBufferPointer(b)) }
    }

    @Test func readingsTakeTheDocumentedColumnsOthersTheirFirstRecords() throws {
        var t = RecordTable()
        let r = try row(&t, #"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":1.50,"time":"2026-01-05T00:15:00Z","quality":["3.8.0","1.4.9"],"protocol":"dsmr","source":"s","frame":0}"#)
        #expect(r.sheet.columns == RecordTable.knownColumns["reading"])
        #expect(r.cells[1] == .int(1))
        #expect(r.cells[6] == .decimal(ExactDecimal("1.50")!))
        #expect(r.cells[6].text == "1.50")
        #expect(r.cells[9] == .time(UTCTime(iso8601: "2026-01-05T00:15:00Z")!))
        #expect(r.cells[17] == .text("3.8.0 1.4.9"))
        let b = try row(&t, #"{"type":"bill","v":1,"amount":{"minor":100,"currency":"EUR"},"tags":["a"],"ok":true}"#)
        #expect(b.sheet.columns == ["type", "v", "amount.currency", "amount.minor", "tags", "ok"])
        #expect(b.cells == [.text("bill"), .number("1"), .text("EUR"), .number("100"), .text(#"["a"]"#), .bool(true)])
        let b2 = try row(&t, #"{"type":"bill","v":1,"extra":"x","ok":false}"#)
        #expect(b2.sheet === b.sheet)
        #expect(b2.unplaced == ["extra"])
        #expect(try row(&t, #"{"type":"bill","extra":"y"}"#).unplaced.isEmpty)
        #expect(t.sheets.map(\.type) == ["reading", "bill"])
        #expect(throws: DecodeError.self) { try row(&t, #"{"v":1}"#) }
        // A reading is checked against the schema; another type may use its names as it likes.
        #expect(throws: DecodeError.self) { try row(&t, #"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":"x","protocol":"dsmr"}"#) }
        #expect(try row(&t, #"{"type":"bill","note":null,"value":"x"}"#).sheet === b.sheet)
        // A time string is a time cell only in ami's own form, so that its text comes back.
        #expect(try row(&t, #"{"type":"t","a":"2026-01-05T00:15:00.000Z","b":"2026-01-05T00:15:00Z"}"#).cells
                == [.text("t"), .text("2026-01-05T00:15:00.000Z"), .time(UTCTime(iso8601: "2026-01-05T00:15:00Z")!)])
        #expect(throws: DecodeError.self) { try row(&t, #"{"type":"x","v":1"#) }
    }

    @Test func rowsComeBackAsTheLinesTheyWere() throws {
        let importer = RowImport(columns: RecordTable.knownColumns["reading"]!)
        var cells = [Cell](repeating: .empty, count: 21)
        cells[0] = .text("reading"); cells[1] = .text("1"); cells[2] = .text("M"); cells[4] = .text("energy")
        cells[6] = .text("2.50"); cells[17] = .text("3.8.0"); cells[18] = .text("dsmr"); cells[19] = .text("s"); cells[20] = .text("0")
        #expect(try importer.line(cells, source: "x")
                == #"{"type":"reading","v":1,"meter":"M","quantity":"energy","value":2.50,"quality":["3.8.0"],"protocol":"dsmr","source":"s","frame":0}"#)
        cells[6] = .text("2,5")
        #expect(throws: RowImport.Failure.self) { try importer.line(cells, source: "x") }
        cells[6] = .text("2.5")
        cells[18] = .text("smoke-signals")
        #expect(throws: DecodeError.self) { try importer.line(cells, source: "x") }
        let other = RowImport(columns: ["type", "n", "s", "a.b", "list"])
        #expect(try other.line([.text("bill"), .text("007"), .text("12"), .text("x"), .text("[1,\"2\"]")], source: "x")
                == #"{"type":"bill","n":"007","s":12,"a":{"b":"x"},"list":[1,"2"]}"#)
        #expect(throws: RowImport.Failure.self) { try other.line([.text("a"), .text("b"), .text("c"), .text("d"), .text("e"), .text("f")], source: "x") }
    }
}

@Suite struct XLSXTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", "25569"),
        ("2026-01-05T00:15:00Z", "46027.0104166667"),
        ("2026-01-05T00:30:00.250Z", "46027.0208362269"),
        ("1900-03-01T00:00:00Z", "61"),
    ])
    func timesAreSerialDaysAndBack(iso: String, serial: String) {
        let t = UTCTime(iso8601: iso)!
        #expect(XLSXWriter.serial(t) == serial)
        #expect(XLSXReader.time(serial: serial) == t)
    }

    @Test func aTypeWithMoreRowsThanASheetHoldsGoesOnInTheNextSheet() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ami-xlsx-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var table = RecordTable()
        let writer = XLSXWriter(folder: dir.path + "/", rowsPerSheet: 3)
        for i in 0..<5 {
            var line = Array(#"{"type":"bill","v":1,"n":\#(i)}"#.utf8)
            let row = try line.withUnsafeMutableBufferPointer { b throws -> RecordTable.Row in try table.row(UnsafeBufferPointer(b)) }
            try writer.row(row.cells, sheet: row.sheet)
        }
        let path = dir.appendingPathComponent("out.xlsx").path
        try writer.finish(path: path)
        // Only the workbook is left in the folder: the sheets' temporary files were unlinked.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.xlsx"])
        let book = try XLSXReader(path: path)
        let sheets = try book.sheets()
        #expect(sheets.map(\.name) == ["bill", "bill 2", "bill 3"])
        var values: [String] = []
        for sheet in sheets {
            try book.rows(sheet) { cells, row in values.append("\(sheet.name):\(row):" + cells.map(\.text).joined(separator: ",")) }
        }
        #expect(values == ["bill:1:type,v,n", "bill:2:bill,1,0", "bill:3:bill,1,1",
                           "bill 2:1:type,v,n", "bill 2:2:bill,1,2", "bill 2:3:bill,1,3",
                           "bill 3:1:type,v,n", "bill 3:2:bill,1,4"])
    }

    @Test func namesAndDigits() {
        #expect([0, 25, 26, 51, 52, 701, 702].map(XLSXWriter.columnName) == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"])
        #expect(["A1", "Z9", "AA10", "ZZ1", "AAA3"].map(XLSXReader.column) == [0, 25, 26, 701, 702])
        #expect(XLSXWriter.serial(UTCTime(iso8601: "1900-02-28T00:00:00Z")!) == nil)
        #expect(XLSXWriter.sheetName("a/b:c", 1, taken: []) == "a_b_c")
        #expect(XLSXWriter.sheetName("reading", 2, taken: ["reading"]) == "reading 2")
        #expect(XLSXWriter.sheetName(String(repeating: "x", count: 40), 1, taken: []).count == 31)
        #expect(XLSXWriter.significantDigits("-0.000123") == 3)
        #expect(XLSXWriter.significantDigits("1234567890123456") == 16)
        #expect(XLSXReader.isDateFormat("yyyy\\-mm\\-dd\\ hh:mm:ss"))
        #expect(!XLSXReader.isDateFormat("0.00\"d\""))
        #expect(!XLSXReader.isDateFormat("[Red]0.00"))
        #expect(XLSXReader.unescape("a_x000D_b_x005F_x") == "a\rb_x")
        let out = ByteBuffer()
        XLSXWriter.escape("<&>\u{1}_x", into: out)
        #expect(String(decoding: out.bytes, as: UTF8.self) == "&lt;&amp;&gt;_x0001__x005F_x")
    }
}

@Suite struct CIMTests {
    func reading(_ q: Quantity, _ unit: AMICore.Unit?, interval: Int? = nil, medium: String? = nil, tariff: Int? = nil) -> Reading {
        Reading(meter: "M", medium: medium, quantity: q, value: .number(ExactDecimal(1)), unit: unit, tariff: tariff,
                interval: interval, provenance: Provenance(protocolID: .dsmr, source: "s", frame: 0))
    }

    @Test func readingTypeCodes() {
        #expect(CIMReadingsWriter.readingType(reading(.energy, .wattHour, interval: 900)) == "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.0.72.0")
        #expect(CIMReadingsWriter.readingType(reading(.energy, .wattHour)) == "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.0.72.0")
        #expect(CIMReadingsWriter.readingType(reading(.energyExport, .wattHour, tariff: 2)) == "0.0.0.1.19.1.12.0.0.0.0.2.0.0.0.0.72.0")
        #expect(CIMReadingsWriter.readingType(reading("voltage_l2", .volt)) == "0.0.0.12.0.1.54.0.0.0.0.0.0.0.64.0.29.0")
        #expect(CIMReadingsWriter.readingType(reading(.volume, .cubicMetre, interval: 3600, medium: "water")) == "0.0.7.4.0.9.58.0.0.0.0.0.0.0.0.0.42.0")
        #expect(CIMReadingsWriter.readingType(reading(.power, .watt)) == "0.0.0.12.1.1.37.0.0.0.0.0.0.0.0.0.38.0")
    }
}

@Suite struct NEM12Tests {
    func reading(_ value: String, _ time: String, interval: Int? = 1800, quantity: Quantity = .energy, unit: AMICore.Unit = .wattHour,
                 note: String? = nil) -> Reading {
        Reading(meter: "NMI1", quantity: quantity, value: .number(ExactDecimal(value)!), unit: unit,
                time: UTCTime(iso8601: time), note: note, interval: interval,
                provenance: Provenance(protocolID: .dsmr, source: "s", frame: 0))
    }

    @Test func writerFillsTheDayAndMarksMixedQuality() throws {
        let sink = MemorySink()
        let w = NEM12Writer(sink: sink, created: UTCTime(iso8601: "2026-01-01T00:00:00Z")!)
        // 2026-01-04T14:30Z ends the first 30-minute interval of 2026-01-05 in UTC+10.
        try w.reading(reading("1500", "2026-01-04T14:30:00Z"))
        try w.reading(reading("250", "2026-01-04T15:00:00Z", note: "E1 S14 1"))
        #expect(throws: NEM12Writer.Refusal.self) { try w.reading(reading("1", "2026-01-04T14:40:00Z")) }
        #expect(throws: NEM12Writer.Refusal.self) { try w.reading(reading("1", "2026-01-04T14:30:00Z", interval: nil)) }
        #expect(throws: NEM12Writer.Refusal.self) { try w.reading(reading("1", "2026-01-04T14:30:00Z", quantity: .volume)) }
        try w.finish()
        let lines = sink.text.split(separator: "\r\n").map(String.init)
        #expect(lines[0] == "100,NEM12,202601011000,AMI,AMI")
        #expect(lines[1] == "200,NMI1,E1,,E1,,,kWh,30,")
        #expect(lines[2] == "300,20260105,1.500,0.250" + String(repeating: ",0", count: 46) + ",V,,,20260101100000,")
        #expect(Array(lines[3...]) == ["400,1,1,A,,", "400,2,2,S14,1,", "400,3,48,N,,", "900"])
    }

    @Test func readerTurnsVDaysInto400Qualities() throws {
        let text = "100,NEM12,200404201300,MDA1,Ret1\n200,N1,E1,1,E1,N1,S,kWh,30,\n300,20040417,"
            + (1...48).map { "\($0).5" }.joined(separator: ",") + ",V,,,20040420130000,\n400,1,47,A,,\n400,48,48,N,,\n900\n"
        let reader = NEM12Reader(source: "t")
        var got: [Reading] = []
        for (line, fields) in try CSVReader.records(Array(text.utf8)) { try reader.record(fields, line: line) { got.append($0) } }
        try reader.finish { got.append($0) }
        #expect(got.count == 47)
        #expect(got.first?.value == .number(ExactDecimal(1500)))
        #expect(got.first?.time == UTCTime(iso8601: "2004-04-16T14:30:00Z"))
        #expect(got.last?.time == UTCTime(iso8601: "2004-04-17T13:30:00Z"))
        #expect(got.allSatisfy { $0.note == "E1" && $0.quality.isEmpty && $0.interval == 1800 })
    }
}

@Suite struct XMLReaderTests {
    @Test func refusesEntitiesAndReportsMalformedXML() throws {
        let doc = #"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "boom">]><a>&e;</a>"#
        let r = try XMLReader(Data(doc.utf8), name: "t")
        #expect(throws: XMLReader.Failure.self) { while try r.nextNode() != nil {} }
        let bad = try XMLReader(Data("<a><b></a>".utf8), name: "t")
        #expect(throws: XMLReader.Failure.self) { while try bad.nextNode() != nil {} }
        let ok = try XMLReader(Data(#"<a x="1"><b/>t&amp;u</a>"#.utf8), name: "t")
        var nodes: [String] = []
        while let n = try ok.nextNode() {
            switch n {
            case .start(let s): nodes.append("<" + s + (ok.attribute("x").map { " x=" + $0 } ?? ""))
            case .end(let s): nodes.append("/" + s)
            case .text(let s): nodes.append(s)
            }
        }
        #expect(nodes == ["<a x=1", "<b", "/b", "t&u", "/a"])
    }
}
