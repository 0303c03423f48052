import CLibXML2
import Foundation

/// A pull reader over an XML document in memory (libxml2's xmlTextReader), set up for hostile
/// input: no entity substitution (XML_PARSE_NOENT off), no external DTD loaded, no network
/// (XML_PARSE_NONET), libxml2's default size limits kept (no XML_PARSE_HUGE). Only elements and
/// their text are looked at.
public final class XMLReader {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let reader: xmlTextReaderPtr
    private let data: Data
    private var errors: [String] = []

    /// The parser options: network off, no entities expanded, no DTD loaded, errors collected
    /// (not printed).
    static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    public init(_ data: Data, name: String) throws {
        self.data = data
        let r = data.withUnsafeBytes { b -> xmlTextReaderPtr? in
            xmlReaderForMemory(b.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(b.count), name, nil,
                               XMLReader.options)
        }
        guard let r else { throw Failure(description: "libxml2 could not read \(name)") }
        reader = r
        xmlTextReaderSetParserProp(r, Int32(XML_PARSER_LOADDTD.rawValue), 0)
        xmlTextReaderSetParserProp(r, Int32(XML_PARSER_SUBST_ENTITIES.rawValue), 0)
        xmlTextReaderSetParserProp(r, Int32(XML_PARSER_VALIDATE.rawValue), 0)
        let context = Unmanaged.passUnretained(self).toOpaque()
        xmlTextReaderSetStructuredErrorHandler(r, { context, error in
            guard let context, let error else { return }
            let me = Unmanaged<XMLReader>.fromOpaque(context).takeUnretainedValue()
            let message = error.pointee.message.map { String(cString: $0) } ?? "error"
            me.errors.append("line \(error.pointee.line): " + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }, context)
    }

    deinit { xmlFreeTextReader(reader) }

    public enum Node {
        case start(String)
        case end(String)
        case text(String)
    }

    /// The next element start, end or text; nil at the end of the document.
    private func next() throws -> Node? {
        while true {
            let rc = xmlTextReaderRead(reader)
            if rc < 0 { throw Failure(description: errors.first ?? "not well-formed XML") }
            if rc == 0 {
                if let e = errors.first { throw Failure(description: e) }
                return nil
            }
            let type = xmlTextReaderNodeType(reader)
            switch type {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                let name = String(cString: xmlTextReaderConstLocalName(reader))
                let empty = xmlTextReaderIsEmptyElement(reader) == 1
                if empty { pendingEnd = name }
                return .start(name)
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                return .end(String(cString: xmlTextReaderConstLocalName(reader)))
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                guard let v = xmlTextReaderConstValue(reader) else { continue }
                return .text(String(cString: v))
            case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
                throw Failure(description: "entity reference &\(String(cString: xmlTextReaderConstLocalName(reader)));: entities are not expanded")
            default:
                continue
            }
        }
    }

    /// An empty element (`<a/>`) has no end node of its own: `nextNode` hands one out after it.
    private var pendingEnd: String?

    /// `next`, with an end for each empty element.
    public func nextNode() throws -> Node? {
        if let e = pendingEnd {
            pendingEnd = nil
            return .end(e)
        }
        return try next()
    }

    /// The value of an attribute of the element just started.
    public func attribute(_ name: String) -> String? {
        guard let v = xmlTextReaderGetAttribute(reader, name) else { return nil }
        // libxml2 allocates with malloc (its default xmlMalloc, which ami never replaces).
        defer { free(v) }
        return String(cString: v)
    }
}
