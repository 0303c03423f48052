/// The identification message `/XXXZ[\W]Ident` (IEC 62056-21 §6.3.2; the header line of DSMR P1
/// telegrams, DSMR P1 5.0.2 §6.2): three manufacturer characters (FLAG id), the baud-rate character
/// Z, an optional enhanced-capability sequence `\W`, and the identification (up to 16 characters in
/// IEC 62056-21; DSMR meters send longer ones).
struct IdentificationLine: Sendable, Equatable {
    var manufacturer: String
    var baudRate: Character
    /// W of a `\W` sequence after the baud-rate character (e.g. `2` in `/ISK5\2M550T-1012`).
    var enhanced: Character?
    var identification: String

    /// `bytes[range]` runs from `/` up to (not including) the line end; nil when it is too short.
    init?(_ bytes: [UInt8], _ range: Range<Int>) {
        let text = Array(latin1(bytes, range))
        guard text.count >= 5, text[0] == "/" else { return nil }
        manufacturer = String(text[1...3])
        baudRate = text[4]
        var rest = text[5...]
        enhanced = nil
        if rest.count >= 2, rest.first == "\\" {
            enhanced = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        identification = String(rest).trimmingSpaces
    }

    /// `MAN:identification`, the meter name used when the telegram carries no equipment identifier.
    var meterName: String { "\(manufacturer):\(identification)" }
}
