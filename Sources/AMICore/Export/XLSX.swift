#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import ZIPFoundation

/// Writes an Office Open XML workbook (ECMA-376 Part 1, SpreadsheetML) a row at a time: one
/// worksheet per record type (a type with more rows than a sheet holds goes on in `type 2`…),
/// numbers as number cells with their exact text, times as date cells (serial days since
/// 1899-12-30, style `yyyy-mm-dd hh:mm:ss`), booleans as boolean cells, text as inline strings.
/// The header row is bold and frozen and carries an autofilter; column widths follow the longest
/// value. Each sheet's rows stream to an unlinked temporary file and are deflated into the
/// archive at the end through ZIPFoundation's provider API, so memory stays flat whatever the
/// row count.
public final class XLSXWriter {
    /// Rows a worksheet holds (ECMA-376: 1,048,576), the header included.
    public static let maxRows = 1_048_576
    /// Significant digits a spreadsheet number keeps exactly (IEEE 754 binary64): longer numbers
    /// are written as text so that nothing is rounded.
    static let exactDigits = 15

    private final class Part {
        let name: String
        let columns: [String]
        let fd: Int32
        let out: BlockWriter
        var rows = 0
        var widths: [Int]
        let letters: [String]

        init(name: String, columns: [String], fd: Int32) {
            self.name = name
            self.columns = columns
            self.fd = fd
            out = BlockWriter(sink: FDSink(fd: fd))
            widths = columns.map { $0.count + 3 }   // room for the filter button
            letters = columns.indices.map(XLSXWriter.columnName)
        }

        deinit { close(fd) }
    }

    private final class FDSink: ByteSink {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileFailure("write a temporary sheet in", "the output folder")
                }
                offset += n
            }
        }
    }

    private let folder: String
    private var parts: [Part] = []
    /// The current part of each record type.
    private var current: [ObjectIdentifier: Part] = [:]
    private var partCount: [ObjectIdentifier: Int] = [:]

    /// Rows a sheet takes before the type goes on in the next (the header included).
    private let rowsPerSheet: Int

    /// `folder` holds the sheets' temporary files while the workbook is written (the output's).
    public init(folder: String, rowsPerSheet: Int = XLSXWriter.maxRows) {
        self.folder = folder
        self.rowsPerSheet = max(rowsPerSheet, 2)
    }

    /// Appends a row to the sheet of its record type.
    public func row(_ cells: [Cell], sheet: Sheet) throws {
        let key = ObjectIdentifier(sheet)
        var part = current[key]
        if part == nil || part!.rows >= rowsPerSheet {
            let n = (partCount[key] ?? 0) + 1
            partCount[key] = n
            let p = try newPart(name: XLSXWriter.sheetName(sheet.type, n, taken: parts.map(\.name)), columns: sheet.columns)
            current[key] = p
            part = p
        }
        try write(cells, to: part!)
    }

    private func newPart(name: String, columns: [String]) throws -> Part {
        var template = Array((folder + ".ami-export-sheet-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileFailure("create a temporary sheet in", folder.isEmpty ? "." : folder) }
        unlink(String(cString: template))
        let p = Part(name: name, columns: columns, fd: fd)
        parts.append(p)
        p.out.append("<row r=\"1\">")
        for (i, c) in columns.enumerated() {
            p.out.append("<c r=\"" + p.letters[i] + "1\" s=\"1\" t=\"inlineStr\"><is><t>")
            XLSXWriter.escape(c, into: p.out.buffer)
            p.out.append("</t></is></c>")
        }
        p.out.append("</row>")
        p.rows = 1
        return p
    }

    private func write(_ cells: [Cell], to p: Part) throws {
        p.rows += 1
        let r = String(p.rows)
        let out = p.out
        out.append("<row r=\"")
        out.append(r)
        out.append("\">")
        for (i, cell) in cells.enumerated() {
            switch cell {
            case .empty: continue
            case .number, .decimal, .int:
                let n = cell.text
                if XLSXWriter.significantDigits(n) > XLSXWriter.exactDigits {
                    inline(n, p, i, r)
                } else {
                    out.append("<c r=\"")
                    out.append(p.letters[i])
                    out.append(r)
                    out.append("\"><v>")
                    out.append(n)
                    out.append("</v></c>")
                    p.widths[i] = max(p.widths[i], n.utf8.count + 1)
                }
            case .time(let t):
                guard let serial = XLSXWriter.serial(t) else { inline(t.description, p, i, r); continue }
                out.append("<c r=\"")
                out.append(p.letters[i])
                out.append(r)
                out.append("\" s=\"2\"><v>")
                out.append(serial)
                out.append("</v></c>")
                p.widths[i] = max(p.widths[i], 20)
            case .bool(let b):
                out.append("<c r=\"")
                out.append(p.letters[i])
                out.append(r)
                out.append(b ? "\" t=\"b\"><v>1</v></c>" : "\" t=\"b\"><v>0</v></c>")
                p.widths[i] = max(p.widths[i], 6)
            case .text(let s):
                inline(s, p, i, r)
            }
        }
        out.append("</row>")
        try out.flushIfFull()
    }

    private func inline(_ s: String, _ p: Part, _ i: Int, _ r: String) {
        let out = p.out
        out.append("<c r=\"")
        out.append(p.letters[i])
        out.append(r)
        // Spaces at either end are kept only when marked so (XML would let a reader drop them).
        func space(_ b: UInt8?) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        let edge = space(s.utf8.first) || space(s.utf8.last)
        out.append(edge ? "\" t=\"inlineStr\"><is><t xml:space=\"preserve\">" : "\" t=\"inlineStr\"><is><t>")
        XLSXWriter.escape(s, into: out.buffer)
        out.append("</t></is></c>")
        p.widths[i] = max(p.widths[i], min(s.unicodeScalars.count, 60) + 1)
    }

    /// Writes the workbook to `path` (which must not exist: the caller's temporary file).
    public func finish(path: String) throws {
        if parts.isEmpty { _ = try newPart(name: "records", columns: []) }
        for p in parts { try p.out.flush() }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        } catch {
            throw FileFailure("cannot create \(path): \(error)")
        }
        func add(_ name: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try add("[Content_Types].xml", contentTypes())
        try add("_rels/.rels", XLSXWriter.rootRels)
        try add("xl/workbook.xml", workbook())
        try add("xl/_rels/workbook.xml.rels", workbookRels())
        try add("xl/styles.xml", XLSXWriter.styles)
        for (k, p) in parts.enumerated() {
            let head = Data(sheetHead(p).utf8)
            let tail = Data(sheetTail(p).utf8)
            let bodySize = Int64(lseek(p.fd, 0, SEEK_END))
            guard bodySize >= 0 else { throw FileFailure("read a temporary sheet in", folder) }
            let headSize = Int64(head.count)
            try archive.addEntry(with: "xl/worksheets/sheet\(k + 1).xml", type: .file,
                                 uncompressedSize: headSize + bodySize + Int64(tail.count),
                                 compressionMethod: .deflate, bufferSize: 1 << 16) { position, size in
                var chunk = Data()
                var pos = position
                var want = size
                if pos < headSize {
                    let n = min(Int(headSize - pos), want)
                    chunk.append(head.subdata(in: Int(pos)..<Int(pos) + n))
                    pos += Int64(n)
                    want -= n
                }
                if want > 0 && pos < headSize + bodySize {
                    let n = min(Int(headSize + bodySize - pos), want)
                    var bytes = [UInt8](repeating: 0, count: n)
                    var got = 0
                    while got < n {
                        let r = bytes.withUnsafeMutableBytes {
                            pread(p.fd, $0.baseAddress! + got, n - got, off_t(pos - headSize) + off_t(got))
                        }
                        if r < 0 && errno == EINTR { continue }
                        guard r > 0 else { throw FileFailure("read a temporary sheet in", self.folder) }
                        got += r
                    }
                    chunk.append(contentsOf: bytes)
                    pos += Int64(n)
                    want -= n
                }
                if want > 0 {
                    let start = Int(pos - headSize - bodySize)
                    chunk.append(tail.subdata(in: start..<start + want))
                }
                return chunk
            }
        }
    }

    private func sheetHead(_ p: Part) -> String {
        let last = p.columns.isEmpty ? "A" : p.letters[p.columns.count - 1]
        var s = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#
            + #"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
            + "<dimension ref=\"A1:\(last)\(p.rows)\"/>"
            + #"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            + #"<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>"#
            + #"<sheetFormatPr defaultRowHeight="15"/>"#
        if !p.columns.isEmpty {
            s += "<cols>"
            for (i, w) in p.widths.enumerated() {
                s += "<col min=\"\(i + 1)\" max=\"\(i + 1)\" width=\"\(min(w, 62))\" customWidth=\"1\"/>"
            }
            s += "</cols>"
        }
        return s + "<sheetData>"
    }

    private func sheetTail(_ p: Part) -> String {
        var s = "</sheetData>"
        if !p.columns.isEmpty { s += "<autoFilter ref=\"\(filterRange(p))\"/>" }
        return s + "</worksheet>"
    }

    private func filterRange(_ p: Part) -> String { "A1:\(p.letters[p.columns.count - 1])\(p.rows)" }

    private func contentTypes() -> String {
        var s = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
            + #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
            + #"<Default Extension="xml" ContentType="application/xml"/>"#
            + #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
            + #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
        for k in parts.indices {
            s += "<Override PartName=\"/xl/worksheets/sheet\(k + 1).xml\" "
                + #"ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }
        return s + "</Types>"
    }

    static let rootRels = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        + #"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#
        + "</Relationships>"

    private func workbook() -> String {
        var s = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" "#
            + #"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#
        for (k, p) in parts.enumerated() {
            s += "<sheet name=\"\(XMLText.escaped(p.name))\" sheetId=\"\(k + 1)\" r:id=\"rId\(k + 1)\"/>"
        }
        s += "</sheets>"
        let filtered = parts.enumerated().filter { !$0.element.columns.isEmpty }
        if !filtered.isEmpty {
            s += "<definedNames>"
            for (k, p) in filtered {
                let quotedName = "'" + p.name.replacingOccurrences(of: "'", with: "''") + "'"
                let range = filterRange(p).split(separator: ":").map { ref -> String in
                    let letters = ref.prefix { $0.isLetter }
                    return "$" + letters + "$" + ref.dropFirst(letters.count)
                }.joined(separator: ":")
                s += "<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"\(k)\" hidden=\"1\">"
                    + XMLText.escaped(quotedName + "!" + range) + "</definedName>"
            }
            s += "</definedNames>"
        }
        return s + "</workbook>"
    }

    private func workbookRels() -> String {
        var s = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        for k in parts.indices {
            s += "<Relationship Id=\"rId\(k + 1)\" "
                + #"Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" "#
                + "Target=\"worksheets/sheet\(k + 1).xml\"/>"
        }
        s += "<Relationship Id=\"rId\(parts.count + 1)\" "
            + #"Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#
        return s + "</Relationships>"
    }

    /// Style 0 plain, 1 bold (the header), 2 date and time.
    static let styles = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        + #"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
        + #"<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd\ hh:mm:ss"/></numFmts>"#
        + #"<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>"#
        + #"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#
        + #"<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>"#
        + #"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#
        + #"<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#
        + #"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#
        + #"<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>"#
        + #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#
        + "</styleSheet>"

    /// `A`, `B`, … `Z`, `AA`…: the name of the 0-based column `i`.
    static func columnName(_ i: Int) -> String {
        var n = i + 1
        var s: [Character] = []
        while n > 0 {
            let r = (n - 1) % 26
            s.insert(Character(Unicode.Scalar(UInt8(65 + r))), at: 0)
            n = (n - 1) / 26
        }
        return String(s)
    }

    /// A sheet name from a record type: at most 31 characters, none of `[]:*?/\`, unique.
    static func sheetName(_ type: String, _ n: Int, taken: [String]) -> String {
        var base = String(type.map { "[]:*?/\\".contains($0) ? "_" : $0 })
        if base.isEmpty { base = "records" }
        var k = n
        while true {
            let suffix = k == 1 ? "" : " \(k)"
            let name = String(base.prefix(31 - suffix.count)) + suffix
            if !taken.contains(where: { $0.lowercased() == name.lowercased() }) { return name }
            k += 1
        }
    }

    static func significantDigits(_ n: String) -> Int {
        var digits = 0
        var leading = true
        for b in n.utf8 {
            if b == 0x65 || b == 0x45 { break }
            guard b >= 0x30 && b <= 0x39 else { continue }
            if leading && b == 0x30 { continue }
            leading = false
            digits += 1
        }
        return digits
    }

    /// The spreadsheet serial of `t` (days since 1899-12-30, ten decimals: 9 µs), or nil before
    /// 1900-03-01, where spreadsheets' calendars disagree.
    static func serial(_ t: UTCTime) -> String? {
        let dayMs: Int64 = 86_400_000
        let total = t.milliseconds + 25_569 * dayMs
        guard total >= 61 * dayMs else { return nil }
        var days = total / dayMs
        let rem = total % dayMs
        var frac = (rem * 10_000_000_000 + dayMs / 2) / dayMs
        if frac >= 10_000_000_000 { days += 1; frac -= 10_000_000_000 }
        guard frac > 0 else { return String(days) }
        var f = String(frac)
        f = String(repeating: "0", count: 10 - f.count) + f
        while f.last == "0" { f.removeLast() }
        return "\(days).\(f)"
    }

    /// Writes `s` escaped for XML character data; characters XML 1.0 does not allow become the
    /// spreadsheet escape `_xHHHH_`, and a literal `_x` that would read as one is escaped.
    static func escape(_ s: String, into out: ByteBuffer) {
        var s = s
        s.withUTF8 { u in
            var i = 0
            while i < u.count {
                let b = u[i]
                switch b {
                case 0x26: out.append(contentsOf: "&amp;".utf8)
                case 0x3C: out.append(contentsOf: "&lt;".utf8)
                case 0x3E: out.append(contentsOf: "&gt;".utf8)
                case 0x09, 0x0A, 0x0D: out.append(b)
                case 0x00..<0x20:
                    out.append(contentsOf: "_x00".utf8)
                    out.append(contentsOf: Hex.byte(b).dropFirst(2).utf8)
                    out.append(0x5F)
                case 0x5F where i + 1 < u.count && u[i + 1] == 0x78:
                    out.append(contentsOf: "_x005F_".utf8)
                default: out.append(b)
                }
                i += 1
            }
        }
    }
}

/// Text escaped for XML attribute values and character data.
public enum XMLText {
    public static func escaped(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// Reads the worksheets of an XLSX workbook (ECMA-376 SpreadsheetML) as rows of typed cells:
/// shared and inline strings as text, numbers with their text as written, booleans, and numbers in
/// a date format as UTC times. Each part is inflated into memory and parsed by `XMLReader` (no
/// entities, no network); a part larger than `maxPartSize` is refused.
public final class XLSXReader {
    public static let maxPartSize: UInt64 = 1 << 31
    private let archive: Archive
    private let name: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// A worksheet: its name (as the workbook lists it) and part path.
    public struct SheetInfo {
        public var name: String
        public var path: String
    }

    public init(path: String) throws {
        name = path
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw Failure(description: "not an XLSX (ZIP) file")
        }
    }

    func part(_ path: String) throws -> Data? {
        guard let entry = archive[path] else { return nil }
        guard UInt64(entry.uncompressedSize) <= XLSXReader.maxPartSize else {
            throw Failure(description: "\(path) inflates to \(entry.uncompressedSize) bytes, more than ami reads")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                data.append(chunk)
                if UInt64(data.count) > XLSXReader.maxPartSize { throw Failure(description: "\(path) is too large") }
            }
        } catch let f as Failure {
            throw f
        } catch {
            throw Failure(description: "\(path): cannot inflate: \(error)")
        }
        return data
    }

    /// The worksheets in workbook order.
    public func sheets() throws -> [SheetInfo] {
        guard let workbook = try part("xl/workbook.xml") else { throw Failure(description: "no xl/workbook.xml: not a workbook") }
        var targets: [String: String] = [:]
        if let rels = try part("xl/_rels/workbook.xml.rels") {
            let r = try XMLReader(rels, name: "xl/_rels/workbook.xml.rels")
            while let n = try r.nextNode() {
                if case .start("Relationship") = n, let id = r.attribute("Id"), let t = r.attribute("Target") {
                    targets[id] = t.hasPrefix("/") ? String(t.dropFirst()) : "xl/" + t
                }
            }
        }
        var out: [SheetInfo] = []
        let r = try XMLReader(workbook, name: "xl/workbook.xml")
        while let n = try r.nextNode() {
            if case .start("sheet") = n, let name = r.attribute("name"),
               let id = r.attribute("r:id") ?? r.attribute("id"), let path = targets[id] {
                out.append(SheetInfo(name: name, path: path))
            }
        }
        return out
    }

    /// The shared strings table.
    func sharedStrings() throws -> [String] {
        guard let data = try part("xl/sharedStrings.xml") else { return [] }
        let r = try XMLReader(data, name: "xl/sharedStrings.xml")
        var out: [String] = []
        var current = ""
        var inT = false
        var phonetic = 0
        while let n = try r.nextNode() {
            switch n {
            case .start("si"): current = ""
            case .end("si"): out.append(current)
            case .start("rPh"): phonetic += 1
            case .end("rPh"): phonetic -= 1
            case .start("t"): inT = phonetic == 0
            case .end("t"): inT = false
            case .text(let s) where inT: current += s
            default: break
            }
        }
        return out
    }

    /// For each cell style index, whether its number format shows a date.
    func dateStyles() throws -> [Bool] {
        guard let data = try part("xl/styles.xml") else { return [] }
        let r = try XMLReader(data, name: "xl/styles.xml")
        var custom: [Int: String] = [:]
        var styles: [Bool] = []
        var inCellXfs = false
        while let n = try r.nextNode() {
            switch n {
            case .start("numFmt"):
                if let id = r.attribute("numFmtId").flatMap({ Int($0) }), let code = r.attribute("formatCode") {
                    custom[id] = code
                }
            case .start("cellXfs"): inCellXfs = true
            case .end("cellXfs"): inCellXfs = false
            case .start("xf") where inCellXfs:
                let id = r.attribute("numFmtId").flatMap { Int($0) } ?? 0
                styles.append((14...22).contains(id) || (45...47).contains(id)
                              || custom[id].map(XLSXReader.isDateFormat) == true)
            default: break
            }
        }
        return styles
    }

    /// Whether a format code shows a date or time: d, m, y, h or s outside quotes and brackets.
    static func isDateFormat(_ code: String) -> Bool {
        var quoted = false, bracket = false, escaped = false
        for ch in code.lowercased() {
            if escaped { escaped = false; continue }
            switch ch {
            case "\\": escaped = true
            case "\"": quoted.toggle()
            case "[" where !quoted: bracket = true
            case "]" where !quoted: bracket = false
            case "d", "m", "y", "h", "s": if !quoted && !bracket { return true }
            default: break
            }
        }
        return false
    }

    /// Reads the rows of a worksheet: `body` gets each row's cells (by column, gaps empty) and
    /// its row number.
    public func rows(_ sheet: SheetInfo, _ body: ([Cell], Int) throws -> Void) throws {
        guard let data = try part(sheet.path) else { throw Failure(description: "\(sheet.path) is missing") }
        let strings = try sharedStrings()
        let dates = try dateStyles()
        let r = try XMLReader(data, name: sheet.path)
        var cells: [Cell] = []
        var rowNumber = 0
        var column = 0
        var type = "n"
        var style = 0
        var value = ""
        var inValue = false
        var phonetic = 0
        while let n = try r.nextNode() {
            switch n {
            case .start("row"):
                rowNumber = r.attribute("r").flatMap { Int($0) } ?? rowNumber &+ 1
                cells.removeAll(keepingCapacity: true)
                column = 0
            case .end("row"):
                try body(cells, rowNumber)
            case .start("c"):
                if let ref = r.attribute("r"), let c = XLSXReader.column(ref) { column = c }
                type = r.attribute("t") ?? "n"
                style = r.attribute("s").flatMap { Int($0) } ?? 0
                value = ""
            case .end("c"):
                while cells.count < column { cells.append(.empty) }
                cells.append(try cell(type: type, value: value, date: style < dates.count && dates[style], strings))
                column += 1
            case .start("v"), .start("t"): inValue = phonetic == 0
            case .end("v"), .end("t"): inValue = false
            case .start("rPh"): phonetic += 1
            case .end("rPh"): phonetic -= 1
            case .text(let s) where inValue: value += s
            default: break
            }
        }
    }

    private func cell(type: String, value: String, date: Bool, _ strings: [String]) throws -> Cell {
        switch type {
        case "s":
            guard let i = Int(value), i >= 0, i < strings.count else {
                throw Failure(description: "shared string \(value) is not in the table")
            }
            return .text(strings[i])
        case "inlineStr", "str", "e": return .text(XLSXReader.unescape(value))
        case "b": return .bool(value == "1" || value == "true")
        case "d":
            guard let t = UTCTime(iso8601: value.hasSuffix("Z") ? value : value + "Z") else { return .text(value) }
            return .time(t)
        default:
            if value.isEmpty { return .empty }
            if date, let t = XLSXReader.time(serial: value) { return .time(t) }
            return .number(value)
        }
    }

    /// The 0-based column of a cell reference (`AB12` → 27).
    static func column(_ ref: String) -> Int? {
        var n = 0
        var any = false
        for (k, b) in ref.utf8.enumerated() {
            guard b >= 65 && b <= 90 else { break }
            guard k < 3 else { return nil }   // XFD, column 16,384, is the last
            n = n * 26 + Int(b - 64)
            any = true
        }
        return any ? n - 1 : nil
    }

    /// The UTC time of a spreadsheet serial (days since 1899-12-30), to the millisecond.
    static func time(serial text: String) -> UTCTime? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let days = Int64(parts[0]), days >= 61, days < 2_958_466 else { return nil }
        var ms = days * 86_400_000
        if parts.count == 2 {
            let digits = parts[1].prefix(10)
            guard !digits.isEmpty, let f = Int64(digits), digits.allSatisfy(\.isNumber) else { return nil }
            var scale: Int64 = 1
            for _ in 0..<digits.count { scale *= 10 }
            ms += (f * 86_400_000 + scale / 2) / scale
        }
        return UTCTime(milliseconds: ms - 25_569 * 86_400_000)
    }

    /// Undoes the `_xHHHH_` escapes of characters XML cannot carry.
    static func unescape(_ s: String) -> String {
        guard s.contains("_x") else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: "_x") {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            let hex = after.prefix(4)
            if hex.count == 4, after.dropFirst(4).first == "_", let v = UInt32(hex, radix: 16), let u = Unicode.Scalar(v) {
                out.unicodeScalars.append(u)
                rest = after.dropFirst(5)
            } else {
                out += "_x"
                rest = after
            }
        }
        return out + rest
    }
}
