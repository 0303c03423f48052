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
/// up to 7 bytes. Used by one decoding thread at a time.
final class MBusLayoutCache: @unchecked Sendable {
    static let capacity = 1024
    private let table = KeyedObjects<MBusRecordLayout>(capacity: capacity)
    /// The meters of the long headers seen so far (CI 0x72, 0x76), by their identification,
    /// manufacturer, version and medium (`MBusDecoder`).
    let meters = KeyedObjects<MeterHead>(capacity: capacity)

    init() {}

    /// How many layouts are kept.
    var count: Int { table.count }

    /// The key of the DIB and VIB starting at `bytes[start]`: their bytes (with the length and text
    /// of a plain-text unit, which follow its VIF) and, in the top byte, their length. A plain-text
    /// unit is read last character first unless `bigEndian` (mode 2): its key then has bit 63 set
    /// too. 0 when they cannot be a key: longer than 7 bytes or running past `end`.
    static func key(_ bytes: [UInt8], at start: Int, end: Int, bigEndian: Bool) -> UInt64 {
        guard start >= 0 else { return 0 }
        let limit = min(end, bytes.count, start + 7)
        // Where they end: the DIF and its DIFEs, the VIF (with a plain-text unit's length and text),
        // its VIFEs; each chain ends at a byte without the extension bit.
        var i = start
        repeat {
            guard i < limit else { return 0 }
            i += 1
        } while bytes[i - 1] & 0x80 != 0
        guard i < limit else { return 0 }
        let vif = bytes[i]
        i += 1
        let text = vif & 0x7F == 0x7C
        if text {
            guard i < limit else { return 0 }
            i += 1 + Int(bytes[i])
        }
        if vif & 0x80 != 0 {
            repeat {
                guard i < limit else { return 0 }
                i += 1
            } while bytes[i - 1] & 0x80 != 0
        }
        guard i <= limit else { return 0 }
        let n = i - start
        // Their bytes, the first lowest: one load when eight bytes are there to read.
        var key: UInt64 = 0
        if start + 8 <= bytes.count {
            let word = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: start, as: UInt64.self) }
            key = UInt64(littleEndian: word) & ((1 &<< UInt64(8 * n)) &- 1)
        } else {
            for j in (start..<i).reversed() { key = key &<< 8 | UInt64(bytes[j]) }
        }
        return key | UInt64(n) << 56 | (text && bigEndian ? 1 << 63 : 0)
    }

    /// The layout stored under `key`; nil for none (and for key 0). It lives as long as the cache.
    @inline(__always)
    subscript(key: UInt64) -> Unmanaged<MBusRecordLayout>? { table[key] }

    /// Keeps `layout` under `key` while there is room, when the key's length is the layout's.
    func insert(_ layout: MBusRecordLayout, key: UInt64) {
        guard Int((key >> 56) & 0x7F) == layout.shape.length else { return }
        table.insert(layout, key: key)
    }
}
