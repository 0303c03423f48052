/// One value group `(value*unit)` of a data set.
struct ValueGroup: Sendable, Equatable {
    /// The text before `*` (all of it when there is no `*`), as sent.
    var value: String
    /// The text after `*` with spaces trimmed; nil when there is none or it is empty.
    var unit: String?
    /// Index of the `(` in the frame.
    var offset: Int
}

/// One data set: an address and its value groups (IEC 62056-21 data sets `address(value*unit)`, DSMR P1
/// 5.0.2 COSEM objects `A-B:C.D.E(value*unit)(…)`). A data set may hold several groups, and a
/// line that starts with `(` continues the data set before it (DSMR 2.2/3 hourly gas value).
struct DataSet: Sendable, Equatable {
    /// The address as written.
    var address: String
    /// Index of the address's first byte in the frame.
    var offset: Int
    var groups: [ValueGroup]
}

/// Splits the data lines of a text telegram into data sets. Shared by the DSMR and IEC 62056-21
/// decoders.
///
/// A piece that is not a data set (text without `(`, a group without `)`, control bytes in an
/// address) is left out with a warning at its offset, and the data sets around it are kept: one bad
/// line does not cost the telegram.
enum DataSetParser {
    static let maxAddressLength = 64

    static func parse(_ bytes: [UInt8], _ range: Range<Int>, layer: DecodeLayer) -> (sets: [DataSet], warnings: [DecodeError]) {
        let r = range.clamped(to: 0..<bytes.count)
        var sets: [DataSet] = []
        var warnings: [DecodeError] = []
        var i = r.lowerBound
        let e = r.upperBound
        // Whether a line starting with "(" continues the last data set.
        var mayContinue = false

        func restOfLine(_ k: Int) -> Int {
            var j = k
            while j < e && !TextByte.isLineEnd(bytes[j]) { j += 1 }
            return j
        }
        func skipPiece(from k: Int, to j: Int, _ why: String) {
            let n = j - k
            warnings.append(DecodeError(layer, at: k, .malformed,
                                        "skipped \(n) byte\(n == 1 ? "" : "s") that are not a data set: \(why)"))
            mayContinue = false
        }
        /// Reads the groups at `k`; on a group that is not closed, nil and why, with `k` at the end of
        /// its line.
        func groups(at k: inout Int) -> (groups: [ValueGroup]?, problem: String) {
            var out: [ValueGroup] = []
            while k < e && bytes[k] == TextByte.open {
                var j = k + 1
                var star: Int? = nil
                while j < e {
                    let c = bytes[j]
                    if c == TextByte.close || c == TextByte.open || TextByte.isLineEnd(c) || c < 0x20 || c == 0x7F { break }
                    if c == TextByte.star && star == nil { star = j }
                    j += 1
                }
                guard j < e, bytes[j] == TextByte.close else {
                    let problem = j < e && !TextByte.isLineEnd(bytes[j])
                        ? "\(Hex.printable(bytes[j])) inside a value group" : "value group without \")\""
                    k = restOfLine(j)
                    return (nil, problem)
                }
                let valueEnd = star ?? j
                var unit: String? = nil
                if let s = star {
                    let u = latin1(bytes, (s + 1)..<j).trimmingSpaces
                    unit = u.isEmpty ? nil : u
                }
                out.append(ValueGroup(value: latin1(bytes, (k + 1)..<valueEnd), unit: unit, offset: k))
                k = j + 1
            }
            return (out, "")
        }

        while i < e {
            let c = bytes[i]
            if TextByte.isLineEnd(c) || c == 0x20 || c == 0x09 {
                i += 1
                continue
            }
            if c == TextByte.open {
                let at = i
                let (read, problem) = groups(at: &i)
                guard let more = read else {
                    skipPiece(from: at, to: i, problem)
                    continue
                }
                if mayContinue, !sets.isEmpty {
                    sets[sets.count - 1].groups.append(contentsOf: more)
                } else {
                    skipPiece(from: at, to: i, "value group without an address")
                }
                continue
            }
            let start = i
            while i < e && bytes[i] != TextByte.open && !TextByte.isLineEnd(bytes[i]) { i += 1 }
            var addressEnd = i
            while addressEnd > start && bytes[addressEnd - 1] == 0x20 { addressEnd -= 1 }
            let addressBytes = bytes[start..<addressEnd]
            if i == e || bytes[i] != TextByte.open {
                skipPiece(from: start, to: i, "no \"(\"")
                continue
            }
            if addressBytes.count > maxAddressLength
                || !addressBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != TextByte.close }) {
                let stop = restOfLine(i)
                skipPiece(from: start, to: stop, addressBytes.count > maxAddressLength
                          ? "address longer than \(maxAddressLength) bytes" : "address with bytes that are not printable")
                i = stop
                continue
            }
            let (read, problem) = groups(at: &i)
            guard let gs = read else {
                skipPiece(from: start, to: i, problem)
                continue
            }
            sets.append(DataSet(address: latin1(bytes, start..<addressEnd), offset: start, groups: gs))
            mayContinue = true
        }
        return (sets, warnings)
    }
}

/// Text of bytes read as ISO-8859-1 (each byte one character), as P1 telegrams are.
func latin1(_ bytes: [UInt8], _ range: Range<Int>) -> String {
    let slice = bytes[range.clamped(to: 0..<bytes.count)]
    if slice.allSatisfy({ $0 < 0x80 }) { return String(decoding: slice, as: UTF8.self) }
    var s = ""
    s.unicodeScalars.append(contentsOf: slice.map { Unicode.Scalar($0) })
    return s
}

extension String {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        guard let first = firstIndex(where: { $0 != " " }), let last = lastIndex(where: { $0 != " " }) else { return "" }
        return String(self[first...last])
    }
}
