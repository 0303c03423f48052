import Foundation

/// The fuzz targets, one per decoder: each takes arbitrary bytes and must return without trapping,
/// whatever they are (the DLMS ones trap on purpose when re-encoding what they parsed is unstable). Used by `ami-fuzz` (libFuzzer) and by the tests that replay corpora.
public enum FuzzTargets {
    public static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "mbus": { decodeAll($0, protocols: [.mbus], format: .binary) },
        "dsmr": { decodeAll($0, protocols: [.dsmr], format: .binary) },
        "iec62056-21": { decodeAll($0, protocols: [.iec62056_21], format: .binary) },
        // HDLC and wrapper framing, segment joining, and the interpreter behind them.
        "dlms": { decodeAll($0, protocols: [.dlms], format: .binary) },
        // Frames one after another by their L fields, deciphered with a test key for KAM-12345678.
        "wmbus": { decodeAll($0, protocols: [.wmbus], format: .binary, wmbusKeys: wmbusTestKeys) },
        "sml": { decodeAll($0, protocols: [.sml], format: .binary) },
        "hex": { decodeAll($0, protocols: Set(ProtocolID.decodable), format: .hex) },
        "jsonl": { decodeAll($0, protocols: Set(ProtocolID.decodable), format: .jsonl) },
        // Modbus ADUs one after another, each after a length byte, read with the SDM630 profile;
        // and the bytes as a device profile file.
        "modbus": { modbus($0) },
        "modbus-profile": { modbusProfile($0) },
        "axdr": { axdr($0) },
        "dlms-apdu": { dlmsAPDU($0) },
        // ami-export's readers: NEM12/NEM13, CSV rows into records, Green Button XML, and JSON
        // lines laid out as table rows written as CSV.
        "nem12": { nem12($0) },
        "csv": { csv($0) },
        "espi": { _ = try? GreenButton.readings(Data($0), source: "fuzz", problems: { _ in }) },
        "table": { table($0) },
        // ami-export's XLSX reader (the bytes as a workbook file).
        "xlsx": { xlsx($0) },
        // The JSON-lines record reader ami-store ingest and ami-bill read, line by line.
        "records": { records($0) },
        // ami-bill: tariff files (parsed, then rated over a month) and URDB rate records.
        "tariff": { tariff($0) },
        "urdb": { urdb($0) },
        // ami-store registry import, CSV and JSON lines, into an in-memory database.
        "registry-csv": { registry($0, .csv) },
        "registry-jsonl": { registry($0, .jsonl) },
        // ami-bill account import, CSV and JSON lines, into a store with meters and tariffs.
        "account-csv": { accounts($0, .csv) },
        "account-jsonl": { accounts($0, .jsonl) },
    ]

    /// The SDM630 profile the `modbus` target reads registers with.
    private static let sdm630 = try? ModbusProfile.named("sdm630")

    /// The bytes as a Modbus capture: the first byte chooses TCP or RTU (bit 0) and whether
    /// directions are given (bit 1, alternating tx and rx) or inferred; then frames, each after a
    /// byte with its length, decoded in turn with the SDM630 profile.
    static func modbus(_ bytes: [UInt8]) {
        guard let flags = bytes.first else { return }
        var options = DecodeOptions()
        options.modbusProfile = sdm630
        var state = ModbusStreamState()
        var out = DecodeOutput()
        var i = 1, n = 0
        while i < bytes.count {
            let length = Int(bytes[i])
            let frame = Array(bytes[(i + 1)..<min(i + 1 + length, bytes.count)])
            i += 1 + length
            let context = FrameContext(source: flags & 1 == 0 ? "tcp://fuzz:502" : "serial:/dev/fuzz", frameIndex: n,
                                       direction: flags & 2 == 0 ? nil : (n % 2 == 0 ? .tx : .rx), options: options)
            n += 1
            out.removeAll()
            try? state.decode(frame, context: context, into: &out)
        }
    }

    /// The bytes as a device profile file; what parses is planned into reads and command writes.
    static func modbusProfile(_ bytes: [UInt8]) {
        guard let p = try? ModbusProfile.parse(bytes, origin: "fuzz") else { return }
        _ = p.reads
        for writes in p.commands.values { for w in writes { _ = w.registers(clock: 1_700_000_000) } }
    }

    /// The bytes as an XLSX file: every sheet, every row.
    static func xlsx(_ bytes: [UInt8]) {
        let path = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/ami-fuzz-\(getpid()).xlsx"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        defer { unlink(path) }
        guard let book = try? XLSXReader(path: path), let sheets = try? book.sheets() else { return }
        for sheet in sheets {
            var importer: RowImport?
            try? book.rows(sheet) { cells, _ in
                guard let rows = importer else {
                    importer = RowImport(columns: cells.map(\.text), defaultType: "fuzz")
                    return
                }
                _ = try? rows.line(cells, source: "fuzz")
            }
        }
    }

    /// The bytes as JSON lines of records.
    static func records(_ bytes: [UInt8]) {
        let reader = JSONLineReader(), writer = JSONLineWriter()
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            line.withUnsafeBufferPointer { b in
                if case .record(let r)? = try? reader.parse(b, source: "fuzz") {
                    writer.write(r)
                    writer.removeAll()
                }
            }
        }
    }

    /// The bytes as an ami-tariff(5) file; one that parses is rated over June 2026 with a few intervals.
    static func tariff(_ bytes: [UInt8]) {
        guard let t = try? TariffParser.parse(bytes, file: "fuzz") else { return }
        let from = UTCTime(milliseconds: 1_780_272_000_000), to = UTCTime(milliseconds: 1_782_864_000_000)
        guard let rater = try? Rater(tariff: t, from: from, to: to) else { return }
        let intervals = (1...48).map {
            UsageInterval(end: UTCTime(milliseconds: from.milliseconds + Int64($0) * 3_600_000), seconds: 3600,
                          value: Nano(units: Int64($0 % 7)))
        }
        _ = try? rater.rate(intervals)
    }

    /// The bytes as a URDB rate record, converted to a tariff.
    static func urdb(_ bytes: [UInt8]) {
        var importer = URDBImport(file: "fuzz")
        _ = try? importer.convert(bytes, options: URDBImport.Options(name: "fuzz", timeZone: "America/Denver"))
    }

    /// The bytes as registry text imported into a fresh in-memory store.
    static func registry(_ bytes: [UInt8], _ format: RegistryFormat) {
        guard let store = try? MeterStore(path: ":memory:", who: "fuzz") else { return }
        _ = try? store.importRegistry(String(decoding: bytes, as: UTF8.self), format: format, run: nil) { _, _ in }
    }

    /// The bytes as account text imported into a fresh in-memory store with meters M1 and M2, a
    /// postpaid tariff `flat` and a prepaid one `credit`, then exported.
    static func accounts(_ bytes: [UInt8], _ format: RegistryFormat) {
        guard let store = try? MeterStore(path: ":memory:", who: "fuzz"),
              (try? store.importRegistry(#"{"type":"meter","v":1,"meter":"M1","status":"active"}"# + "\n"
                                         + #"{"type":"meter","v":1,"meter":"M2","status":"active"}"#,
                                         format: .jsonl, run: nil) { _, _ in }) != nil else { return }
        let billing = BillingStore(store: store)
        let flat = #"{"tariff": "flat", "medium": "electricity", "unit": "kWh", "currency": "EUR", "#
            + #""time_zone": "UTC", "prices": [{"from": "2026-01-01", "energy": "0.20"}]"#
        guard (try? billing.addTariff(flat + "}", file: "flat.json", run: nil)) != nil,
              (try? billing.addTariff(flat.replacingOccurrences(of: "flat", with: "credit")
                                      + #", "prepaid": {"warn": "5.00"}}"#, file: "credit.json", run: nil)) != nil
        else { return }
        _ = try? billing.importAccounts([(String(decoding: bytes, as: UTF8.self), format)],
                                        now: UTCTime(seconds: 1_780_000_000), run: nil, strict: false) { _, _, _ in }
        _ = try? billing.exportAccounts(format: format)
    }

    /// The bytes as a NEM12 file, in two chunks.
    static func nem12(_ bytes: [UInt8]) {
        let reader = NEM12Reader(source: "fuzz")
        var csv = CSVReader()
        let take: (Result<[String], CSVReader.Failure>, Int) -> Void = { result, line in
            if case .success(let fields) = result { try? reader.record(fields, line: line) { _ = $0.value } }
        }
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        bytes[0..<cut].withUnsafeBytes { csv.feed($0, take) }
        bytes[cut...].withUnsafeBytes { csv.feed($0, take) }
        csv.finish(take)
        try? reader.finish { _ = $0.value }
    }

    /// The bytes as a CSV file whose rows become records.
    static func csv(_ bytes: [UInt8]) {
        guard let rows = try? CSVReader.records(bytes), let header = rows.first else { return }
        let importer = RowImport(columns: header.fields, defaultType: "fuzz")
        for row in rows.dropFirst() { _ = try? importer.line(row.fields.map(Cell.text), source: "fuzz") }
    }

    /// The bytes as JSON lines laid out as table rows and written as CSV.
    static func table(_ bytes: [UInt8]) {
        final class Null: ByteSink { func write(_ bytes: UnsafeRawBufferPointer) throws {} }
        var table = RecordTable()
        let writer = CSVWriter(sink: Null())
        for line in bytes.split(separator: 0x0A) {
            line.withUnsafeBufferPointer { b in
                if let row = try? table.row(b) { try? writer.row(row.cells) }
            }
        }
    }

    private final class Discard: DecodeSink {
        let jsonWriter = JSONLineWriter()
        var writer: JSONLineWriter? { jsonWriter }
        func record(_ record: Record) {
            jsonWriter.write(record)
            jsonWriter.removeAll()
        }
        func wroteRecords() { jsonWriter.removeAll() }
        func passThrough(_ line: ArraySlice<UInt8>) {}
        func diagnostic(_ diagnostic: Diagnostic) { _ = diagnostic.description }
    }

    /// Parses the bytes as one A-XDR data value. What parses must encode to bytes that parse and
    /// encode to the same bytes (a trap here is a bug the fuzzer found).
    static func axdr(_ bytes: [UInt8]) {
        guard let value = try? DLMSData(bytes: bytes) else { return }
        _ = value.description
        let encoded = value.encoded()
        precondition((try? DLMSData(bytes: encoded))?.encoded() == encoded, "A-XDR re-encoding is not stable")
    }

    /// The corpus's public test keys (DLMS UA Green Book examples), so ciphered APDUs reach the
    /// deciphering code.
    private static let testContext = SecurityContext(
        systemTitle: [0x4D, 0x4D, 0x4D, 0x00, 0x00, 0xBC, 0x61, 0x4E],
        ek: DLMSKey(Array(0x00...0x0F))!, ak: DLMSKey(Array(0xD0...0xDF))!)

    /// Parses the bytes as one APDU (checking re-encoding like `axdr`), then deciphers it with test
    /// keys when it is ciphered.
    static func dlmsAPDU(_ bytes: [UInt8]) {
        guard let apdu = try? APDU.parse(bytes) else { return }
        let encoded = apdu.encoded()
        precondition((try? APDU.parse(encoded))?.encoded() == encoded, "APDU re-encoding is not stable")
        _ = try? testContext.decrypt(apdu, senderSystemTitle: testContext.systemTitle)
    }

    /// The seeds' wM-Bus keys, so that enciphered frames reach the deciphering code: AES 00 01 … 0F
    /// for KAM-12345678 and the Apator NA-1 APA-12345678, DES 00 11 … 77 for KAM-87654321 (mode 2).
    private static let wmbusTestKeys = WMBusKeys([
        "kam-12345678": Secret(Array(0x00...0x0F)), "apa-12345678": Secret(Array(0x00...0x0F)),
        "kam-87654321": Secret([0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]),
    ])

    /// Runs the whole decode path (framing, decoding, JSON writing) over `bytes`, fed in two chunks so
    /// that resumption across chunk boundaries is exercised too.
    static func decodeAll(_ bytes: [UInt8], protocols: Set<ProtocolID>, format: InputFormat,
                          wmbusKeys: WMBusKeys = WMBusKeys()) {
        var options = DecodeOptions()
        options.protocols = protocols
        options.wmbusKeys = wmbusKeys
        let sink = Discard()
        let session = DecodeSession(inputName: "fuzz", sourceName: "fuzz", format: format, options: options, sink: sink)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        session.feed(bytes[0..<cut])
        session.feed(bytes[cut...])
        session.finish()
    }
}
