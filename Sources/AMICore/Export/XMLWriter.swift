import CLibXML2

/// libxml2's xmlTextWriter over a `ByteSink`: elements, attributes and text escaped by libxml2,
/// UTF-8, indented. Sink failures are kept and rethrown by `check`.
public final class XMLWriter {
    private let sink: ByteSink
    private var writer: xmlTextWriterPtr?
    private var failure: Error?

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(sink: ByteSink) throws {
        self.sink = sink
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard let buffer = xmlOutputBufferCreateIO({ context, bytes, count in
            let me = Unmanaged<XMLWriter>.fromOpaque(context!).takeUnretainedValue()
            guard me.failure == nil else { return -1 }
            do {
                try me.sink.write(UnsafeRawBufferPointer(start: bytes, count: Int(count)))
            } catch {
                me.failure = error
                return -1
            }
            return count
        }, nil, context, nil), let w = xmlNewTextWriter(buffer) else {
            throw Failure(description: "libxml2 could not make a writer")
        }
        writer = w
        xmlTextWriterSetIndent(w, 1)
        xmlTextWriterSetIndentString(w, "  ")
        try check(xmlTextWriterStartDocument(w, "1.0", "UTF-8", nil))
    }

    deinit { if let writer { xmlFreeTextWriter(writer) } }

    private func check(_ rc: Int32) throws {
        if let failure { throw failure }
        guard rc >= 0 else { throw Failure(description: "libxml2 could not write the document") }
    }

    public func start(_ name: String, namespace: String? = nil) throws {
        if let namespace {
            try check(xmlTextWriterStartElementNS(writer, nil, name, namespace))
        } else {
            try check(xmlTextWriterStartElement(writer, name))
        }
    }

    public func attribute(_ name: String, _ value: String) throws {
        try check(xmlTextWriterWriteAttribute(writer, name, value))
    }

    public func end() throws { try check(xmlTextWriterEndElement(writer)) }

    /// `<name>text</name>`.
    public func element(_ name: String, _ text: String) throws {
        try check(xmlTextWriterWriteElement(writer, name, XMLWriter.allowed(text)))
    }

    public func text(_ text: String) throws {
        try check(xmlTextWriterWriteString(writer, XMLWriter.allowed(text)))
    }

    /// Ends the document and flushes it to the sink.
    public func finish() throws {
        try check(xmlTextWriterEndDocument(writer))
        try check(xmlTextWriterFlush(writer))
        xmlFreeTextWriter(writer)
        writer = nil
        if let failure { throw failure }
    }

    /// `s` without the control characters XML 1.0 cannot carry (replaced by U+FFFD).
    static func allowed(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else { return s }
        return String(String.UnicodeScalarView(s.unicodeScalars.map {
            $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" ? "\u{FFFD}" : $0
        }))
    }
}

/// The generic XML shape (namespace `urn:ami:export:records:1`, schema `schemas/ami-records.xsd`):
/// `<records>` holding a `<record type="…">` per JSON line, each other member a
/// `<field name="…" kind="number|text|bool|time">value</field>` (nested members as `outer.inner`,
/// absent and null members left out).
public final class GenericXMLWriter {
    public static let namespace = "urn:ami:export:records:1"
    private let xml: XMLWriter

    public init(sink: ByteSink) throws {
        xml = try XMLWriter(sink: sink)
        try xml.start("records", namespace: GenericXMLWriter.namespace)
    }

    public func row(_ row: RecordTable.Row) throws {
        try xml.start("record")
        try xml.attribute("type", row.sheet.type)
        for (i, cell) in row.cells.enumerated() where row.sheet.columns[i] != "type" {
            let kind: String
            switch cell {
            case .empty: continue
            case .number, .decimal, .int: kind = "number"
            case .text: kind = "text"
            case .bool: kind = "bool"
            case .time: kind = "time"
            }
            try xml.start("field")
            try xml.attribute("name", row.sheet.columns[i])
            try xml.attribute("kind", kind)
            try xml.text(cell.text)
            try xml.end()
        }
        try xml.end()
    }

    public func finish() throws {
        try xml.end()
        try xml.finish()
    }
}
