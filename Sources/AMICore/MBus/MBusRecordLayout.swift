/// What a data record's DIB and VIB say (EN 13757-3 "Data information block", "Value information
/// block"): how to read its data and, as a `ReadingTemplate`, every field of its reading but the
/// value and the time.
final class MBusRecordLayout: Sendable {
    /// What reading the data takes.
    struct Shape {
        /// Bytes of the DIF, DIFEs, VIF and VIB extensions (and a plain-text unit).
        var length: Int
        /// The DIF's data field (EN 13757-3:2018 Table 4).
        var coding: UInt8
        var kind: MBusVIFEntry.Kind
        /// The value is a date or date and time (by the VIF or a combinable VIFE).
        var isDate: Bool
        /// An access code or password: reported as withheld.
        var secret: Bool
        var storage: Int
        var subunit: Int
        /// The value in its base unit is `coded × factor × 10^exponent`.
        var exponent: Int
        var factor: Int64
    }

    let shape: Shape
    /// The note the DIB and VIB give, before what the data or the secret add.
    let headerNote: String?
    let template: ReadingTemplate

    init(_ shape: Shape, headerNote: String?, template: ReadingTemplate) {
        self.shape = shape
        self.headerNote = headerNote
        self.template = template
    }
}

/// The layouts of the DIBs and VIBs seen so far in a stream, by their bytes. A meter sends the same
/// records in every telegram, and a fleet has few kinds of meter, so most records find their
/// layout here instead of being parsed and their reading's JSON fields written anew. The meters of
/// the stream are kept beside them in the same way.
///
/// Holds at most `capacity` layouts (later ones are parsed each time); keys are DIBs and VIBs of
/// up to 7 bytes without a plain-text unit. Used by one decoding thread at a time.
final class MBusLayoutCache: @unchecked Sendable {
    static let capacity = 1024
    private let table = KeyedObjects<MBusRecordLayout>(capacity: capacity)
    /// The meters of the long headers seen so far (CI 0x72, 0x76), by their identification,
    /// manufacturer, version and medium (`MBusDecoder`).
    let meters = KeyedObjects<MeterHead>(capacity: capacity)

    init() {}

    /// How many layouts are kept.
    var count: Int { table.count }

    /// The key of the DIB and VIB starting at `bytes[start]`: their bytes and, in the top byte,
    /// their length. 0 when they cannot be a key: longer than 7 bytes, running past `end`, or with
    /// a plain-text VIF (its text follows the VIF).
    static func key(_ bytes: [UInt8], at start: Int, end: Int) -> UInt64 {
        let limit = min(end, bytes.count, start + 7)
        var i = start
        var key: UInt64 = 0
        var shift: UInt64 = 0
        var inVIB = false
        // The DIF and its DIFEs, then the VIF and its VIFEs: each chain ends at a byte without the
        // extension bit.
        while true {
            guard i >= 0, i < limit else { return 0 }
            let b = bytes[i]
            key |= UInt64(b) << shift
            shift += 8
            i += 1
            if b & 0x80 == 0 {
                if inVIB { break }
                inVIB = true
                guard i < limit else { return 0 }
                let vif = bytes[i]
                if vif & 0x7F == 0x7C { return 0 }      // a plain-text unit follows the VIF
                key |= UInt64(vif) << shift
                shift += 8
                i += 1
                if vif & 0x80 == 0 { break }
            }
        }
        return key | UInt64(i - start) << 56
    }

    /// The layout stored under `key`; nil for none (and for key 0). It lives as long as the cache.
    @inline(__always)
    subscript(key: UInt64) -> Unmanaged<MBusRecordLayout>? { table[key] }

    /// Keeps `layout` under `key` while there is room, when the key's length is the layout's.
    func insert(_ layout: MBusRecordLayout, key: UInt64) {
        guard Int(key >> 56) == layout.shape.length else { return }
        table.insert(layout, key: key)
    }
}
