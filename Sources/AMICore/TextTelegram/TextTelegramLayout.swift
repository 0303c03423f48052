/// The bytes with a meaning of their own in text telegrams (IEC 62056-21 §6.3, DSMR P1 Companion
/// Standard 5.0.2 §6.2).
enum TextByte {
    static let stx: UInt8 = 0x02
    static let etx: UInt8 = 0x03
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let slash = UInt8(ascii: "/")
    static let bang = UInt8(ascii: "!")
    static let question = UInt8(ascii: "?")
    static let open = UInt8(ascii: "(")
    static let close = UInt8(ascii: ")")
    static let star = UInt8(ascii: "*")

    static func isLineEnd(_ b: UInt8) -> Bool { b == cr || b == lf }
    static func isHexDigit(_ b: UInt8) -> Bool { Hex.nibble(b) != nil }
    static func isLetter(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
    }
    /// Printable ASCII, space included.
    static func isPrintable(_ b: UInt8) -> Bool { b >= 0x20 && b < 0x7F }
}

/// Where the parts of one text telegram lie in a byte array (indices into that array).
///
/// The shapes recognised (IEC 62056-21 §6.3 and the modes of §6.4, DSMR P1 5.0.2 §6.2):
/// - `/XXXZ ident CR LF [CR LF] data-lines ! [CRC] CR LF` — DSMR P1 (CRC16 since DSMR 4) and
///   IEC 62056-21 mode D push telegrams;
/// - `/XXXZ ident CR LF STX data-lines ! CR LF ETX BCC` — the mode C/E readout, and the same data
///   message without the identification line;
/// - `/?[address]! CR LF` — the HHU's sign-on request, echoed into many captures;
/// - CR and LF bytes alone — idle line between telegrams.
///
/// CR and LF bytes before a telegram belong to it (at the end of the input, they are an idle frame
/// of their own). A telegram with a CRC or BCC ends there; after one that has neither, nothing marks
/// the end but the next telegram, so the bytes that follow are waited for: the CR and LF bytes there
/// belong to it, and up to two short lines, taken as a trailer and ignored (EasyMeter Q3D sends
/// `  25818685` and a server-ID line after its `!` line). Where a telegram ends never depends on how
/// the input was cut into chunks.
struct TextTelegramLayout: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case telegram
        /// The sign-on request `/?…!` (IEC 62056-21 §6.3.1).
        case request
        /// Only CR and LF bytes.
        case idle
    }

    var kind: Kind
    /// The first byte of the frame (leading CR/LF included).
    var start: Int
    /// The `/` or STX that starts the telegram proper (`end` for an idle frame).
    var begin: Int
    /// From `/` up to (not including) the line end.
    var identification: Range<Int>?
    var stx: Int?
    /// The data lines, up to (not including) the `!`.
    var data: Range<Int>
    /// The `!` end mark.
    var endMark: Int?
    /// The hex digits after `!` (DSMR 4+ CRC16: 4 digits; one known meter sends 3).
    var crc: Range<Int>?
    var etx: Int?
    /// The block check character after ETX.
    var bcc: Int?
    /// Lines after the end line that are ignored.
    var trailer: Range<Int>?
    /// One past the frame's last byte.
    var end: Int

    enum Located: Sendable, Equatable {
        case found(TextTelegramLayout)
        case needMore
        case invalid(DecodeError)
    }

    /// Longest telegram waited for: a telegram not ended within this many bytes is not one.
    static let maxLength = 16 * 1024
    /// Longest identification line (`/XXXZ` and up to 16 identification characters, with room for
    /// the longer ones DSMR meters send).
    static let maxIdentificationLength = 128
    /// Longest line, and most lines, taken as a trailer after a telegram without CRC or ETX.
    static let maxTrailerLineLength = 80
    static let maxTrailerLines = 2

    /// Finds the telegram starting at `bytes[start]` within `bytes[start..<end]`. `atEnd` says no bytes
    /// follow `end`; else `.needMore` is returned while the end of the telegram is not in view.
    /// Errors are `.framing` errors at indices into `bytes`.
    static func locate(_ bytes: [UInt8], at start: Int, end: Int, atEnd: Bool) -> Located {
        guard start >= 0, start < end, end <= bytes.count else {
            return .invalid(DecodeError(.framing, at: max(start, 0), .malformed, "no bytes to scan"))
        }
        let locator = Locator(bytes: bytes, start: start, end: end, atEnd: atEnd)
        do {
            return .found(try locator.run())
        } catch {
            switch error {
            case .needMore: return .needMore
            case .invalid(let e): return .invalid(e)
            }
        }
    }

    /// The layout of a whole frame as found by `TextTelegramFraming` (line ends after it allowed), for
    /// a decoder: errors are moved to `layer`.
    static func ofFrame(_ frame: [UInt8], layer: DecodeLayer) throws(DecodeError) -> TextTelegramLayout {
        guard !frame.isEmpty else { throw DecodeError(layer, at: 0, .malformed, "empty frame") }
        switch locate(frame, at: 0, end: frame.count, atEnd: true) {
        case .found(let layout):
            guard frame[layout.end...].allSatisfy(TextByte.isLineEnd) else {
                throw DecodeError(layer, at: layout.end, .malformed,
                                  "\(frame.count - layout.end) bytes after the end of the telegram")
            }
            return layout
        case .needMore:
            throw DecodeError(layer, at: 0, .needMore(count: 1), "truncated telegram")
        case .invalid(let e):
            var moved = e
            moved.layer = layer
            throw moved
        }
    }
}

private enum Stop: Error {
    case needMore
    case invalid(DecodeError)
}

private struct Locator {
    let bytes: [UInt8]
    let start: Int
    let end: Int
    let atEnd: Bool

    func invalid(_ at: Int, _ message: String) -> Stop {
        .invalid(DecodeError(.framing, at: at, .malformed, message))
    }

    /// A byte the telegram cannot do without: past the view it is `.needMore` (or, at the end of the
    /// input, a truncated telegram); past `maxLength` the telegram is refused.
    func at(_ i: Int, _ what: @autoclosure () -> String) throws(Stop) -> UInt8 {
        if i - start >= TextTelegramLayout.maxLength {
            throw invalid(start, "no end of telegram within \(TextTelegramLayout.maxLength) bytes")
        }
        if i >= end {
            if atEnd {
                throw Stop.invalid(DecodeError(.framing, at: start, .needMore(count: 1), "truncated telegram: \(what())"))
            }
            throw Stop.needMore
        }
        return bytes[i]
    }

    /// A byte that may follow: nil at the end of the input or past `maxLength`; `.needMore` when it is
    /// not in view yet.
    func peek(_ i: Int) throws(Stop) -> UInt8? {
        if i - start >= TextTelegramLayout.maxLength { return nil }
        if i >= end {
            if atEnd { return nil }
            throw Stop.needMore
        }
        return bytes[i]
    }

    func noBCC(_ etx: Int) -> Stop {
        .invalid(DecodeError(.framing, at: etx, .needMore(count: 1), "truncated telegram: ETX without its BCC"))
    }

    /// The index after the line end (CR LF, LF, or a lone CR) at `i`.
    func afterLineEnd(_ i: Int) throws(Stop) -> Int {
        if bytes[i] == TextByte.lf { return i + 1 }
        if let next = try peek(i + 1), next == TextByte.lf { return i + 2 }
        return i + 1
    }

    func run() throws(Stop) -> TextTelegramLayout {
        var i = start
        while true {
            guard let b = try peek(i) else {
                if i - start >= TextTelegramLayout.maxLength {
                    throw invalid(start, "\(TextTelegramLayout.maxLength) line-end bytes without a telegram")
                }
                return TextTelegramLayout(kind: .idle, start: start, begin: end, identification: nil, stx: nil,
                                          data: end..<end, endMark: nil, crc: nil, etx: nil, bcc: nil,
                                          trailer: nil, end: end)
            }
            if !TextByte.isLineEnd(b) { break }
            i += 1
        }
        let begin = i
        switch bytes[begin] {
        case TextByte.slash:
            if try at(begin + 1, "identification line") == TextByte.question { return try request(begin) }
            return try identified(begin)
        case TextByte.stx:
            return try body(begin: begin, identification: nil, stx: begin, dataStart: begin + 1)
        default:
            throw invalid(begin, "\(Hex.printable(bytes[begin])) after a line end starts no telegram")
        }
    }

    /// `/?[device address]!` CR LF (IEC 62056-21 §6.3.1).
    func request(_ begin: Int) throws(Stop) -> TextTelegramLayout {
        var j = begin + 2
        while true {
            let c = try at(j, "sign-on request")
            if c == TextByte.bang { break }
            guard TextByte.isPrintable(c), c != TextByte.slash, j - begin < 40 else {
                throw invalid(begin, "\"/?\" not followed by a device address and \"!\"")
            }
            j += 1
        }
        var e = j + 1
        if let c = try peek(e), TextByte.isLineEnd(c) { e = try afterLineEnd(e) }
        return TextTelegramLayout(kind: .request, start: start, begin: begin, identification: nil, stx: nil,
                                  data: j..<j, endMark: j, crc: nil, etx: nil, bcc: nil, trailer: nil,
                                  end: e)
    }

    /// `/XXXZ[\W]ident` CR LF, then the data lines or an STX data block.
    func identified(_ begin: Int) throws(Stop) -> TextTelegramLayout {
        var j = begin + 1
        while true {
            let c = try at(j, "identification line")
            if TextByte.isLineEnd(c) { break }
            guard TextByte.isPrintable(c), c != TextByte.slash, c != TextByte.bang else {
                throw invalid(begin, "not an identification line: \(Hex.printable(c)) in it")
            }
            j += 1
            guard j - begin <= TextTelegramLayout.maxIdentificationLength else {
                throw invalid(begin, "identification line longer than \(TextTelegramLayout.maxIdentificationLength) bytes")
            }
        }
        guard j - begin >= 5, TextByte.isLetter(bytes[begin + 1]), TextByte.isLetter(bytes[begin + 2]),
              TextByte.isLetter(bytes[begin + 3]) else {
            throw invalid(begin, "not an identification line: \"/XXXZ\" needs three manufacturer letters and a baud-rate character")
        }
        let identification = begin..<j
        let dataStart = try afterLineEnd(j)
        var k = dataStart
        while TextByte.isLineEnd(try at(k, "no data after the identification line")) { k += 1 }
        if bytes[k] == TextByte.stx {
            return try body(begin: begin, identification: identification, stx: k, dataStart: k + 1)
        }
        return try body(begin: begin, identification: identification, stx: nil, dataStart: dataStart)
    }

    /// The data lines up to `!`, the end line, and what follows it.
    func body(begin: Int, identification: Range<Int>?, stx: Int?, dataStart: Int) throws(Stop) -> TextTelegramLayout {
        var m = dataStart
        var lineStart = true
        while true {
            let c = try at(m, "the input ends before the \"!\" end line")
            if c == TextByte.bang { break }
            if c == TextByte.etx, stx != nil {
                // A data block without "!" (IEC 62056-21 programming-mode data messages end so).
                guard try peek(m + 1) != nil else { throw noBCC(m) }
                return TextTelegramLayout(kind: .telegram, start: start, begin: begin, identification: identification,
                                          stx: stx, data: dataStart..<m, endMark: nil, crc: nil, etx: m, bcc: m + 1,
                                          trailer: nil, end: m + 2)
            }
            if c == TextByte.slash && lineStart {
                throw invalid(begin, "truncated telegram: another one starts \(m - begin) bytes in, before its \"!\" end line")
            }
            lineStart = TextByte.isLineEnd(c)
            m += 1
        }
        let bang = m
        var p = bang + 1
        while p - (bang + 1) < 4, let c = try peek(p), TextByte.isHexDigit(c) { p += 1 }
        let crc: Range<Int>? = p > bang + 1 ? (bang + 1)..<p : nil
        var q = p
        if let c = try peek(q), TextByte.isLineEnd(c) { q = try afterLineEnd(q) }
        var layout = TextTelegramLayout(kind: .telegram, start: start, begin: begin, identification: identification,
                                        stx: stx, data: dataStart..<bang, endMark: bang, crc: crc, etx: nil,
                                        bcc: nil, trailer: nil, end: q)
        if stx != nil {
            var r = q
            while let c = try peek(r), TextByte.isLineEnd(c) { r += 1 }
            if let c = try peek(r), c == TextByte.etx {
                guard try peek(r + 1) != nil else { throw noBCC(r) }
                layout.etx = r
                layout.bcc = r + 1
                layout.end = r + 2
            } else {
                layout.end = r
            }
        } else if crc == nil {
            try takeTrailer(into: &layout)
        }
        return layout
    }

    /// After a telegram with neither CRC nor ETX: the idle bytes and up to two short trailer lines
    /// before the next telegram or the end of the input.
    func takeTrailer(into layout: inout TextTelegramLayout) throws(Stop) {
        var r = layout.end
        var lines = 0
        var trailerStart: Int? = nil
        while true {
            while let c = try peek(r), TextByte.isLineEnd(c) { r += 1 }
            layout.end = r
            guard let first = try peek(r), first != TextByte.slash, first != TextByte.stx,
                  lines < TextTelegramLayout.maxTrailerLines else { break }
            var s = r
            var isLine = false
            while s - r < TextTelegramLayout.maxTrailerLineLength, let c = try peek(s) {
                if c == TextByte.lf { isLine = true; break }
                if c == TextByte.slash || c == TextByte.stx || c == TextByte.open || c == TextByte.close
                    || c == TextByte.bang { break }
                s += 1
            }
            guard isLine else { break }
            if trailerStart == nil { trailerStart = r }
            r = s + 1
            lines += 1
            layout.trailer = (trailerStart ?? r)..<r
        }
    }
}
