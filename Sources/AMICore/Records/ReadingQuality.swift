/// A reading-quality code in the IEC 61968-9 form `system.category.index` (IEC 61968-9, annex on
/// reading quality codes): `system` says who set it (1 end device, 2 metering system, 3 meter data
/// management), `category` what kind of quality (0 valid, 4 data collection, 5 reasonability,
/// 6 validation, 7 edited, 8 estimated…), `index` the specific code within it (0 when generic).
public struct ReadingQuality: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var system: UInt16
    public var category: UInt16
    public var index: UInt16

    public init(_ system: UInt16, _ category: UInt16, _ index: UInt16) {
        self.system = system
        self.category = category
        self.index = index
    }

    /// Parses `S.C.I` (three decimal numbers up to 65535); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCII) }),
              let s = UInt16(parts[0]), let c = UInt16(parts[1]), let i = UInt16(parts[2]) else { return nil }
        self.init(s, c, i)
    }

    public static func < (a: ReadingQuality, b: ReadingQuality) -> Bool {
        (a.system, a.category, a.index) < (b.system, b.category, b.index)
    }

    public var description: String { "\(system).\(category).\(index)" }

    /// The most bytes `write(to:)` writes.
    public static let maxTextLength = 17

    /// Writes `S.C.I` at `p` (room for `maxTextLength` bytes) and returns its length.
    public func write(to p: UnsafeMutablePointer<UInt8>) -> Int {
        var k = 0
        for (n, part) in [system, category, index].enumerated() {
            if n > 0 { p[k] = UInt8(ascii: "."); k += 1 }
            k += ExactDecimal(Int64(part)).write(to: p + k)
        }
        return k
    }
}
