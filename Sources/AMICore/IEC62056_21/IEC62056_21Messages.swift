/// The control characters of IEC 62056-21 messages (§6.3, ISO/IEC 646).
public enum IECControl {
    public static let soh: UInt8 = 0x01
    public static let stx: UInt8 = 0x02
    public static let etx: UInt8 = 0x03
    public static let eot: UInt8 = 0x04
    public static let ack: UInt8 = 0x06
    public static let nak: UInt8 = 0x15
    static let crlf: [UInt8] = [0x0D, 0x0A]
}

/// The protocol modes of IEC 62056-21 §6.4 that a client can read a meter in.
public enum IECProtocolMode: String, Sendable, CaseIterable {
    /// §6.4.1: no speed change, no acknowledgement; the data message follows the identification.
    case a
    /// §6.4.2: both sides change to the identification's speed (A–F), then the data message follows.
    case b
    /// §6.4.3 (and mode E, §6.4.5, in its mode C form): the client acknowledges with an option
    /// select message naming the speed and readout or programming mode.
    case c
}

/// The identification message `/XXXZ[\W]Ident CR LF` (IEC 62056-21 §6.3.2) as a client reads it.
public struct IECIdentification: Sendable, Equatable {
    /// The three-character manufacturer's identification (FLAG id).
    public var manufacturer: String
    /// Z, the baud-rate character.
    public var baudCharacter: Character
    /// W of the enhanced capability sequence `\W`: `2` marks a meter that can do mode E.
    public var enhanced: Character?
    /// The identification proper (at most 16 printable characters by the standard).
    public var identification: String

    /// The mode the baud-rate character stands for (§6.3.14): `0`–`9` mode C (or E), `A`–`I`
    /// mode B, anything else mode A.
    public var mode: IECProtocolMode {
        switch baudCharacter {
        case "0"..."9": .c
        case "A"..."I": .b
        default: .a
        }
    }

    /// The speed the baud-rate character names in `mode` (§6.3.14); nil for reserved characters
    /// (`7`–`9`, `G`–`I`) and for mode A, which has no speed change.
    public func baudRate(in mode: IECProtocolMode) -> Int? {
        guard let ascii = baudCharacter.asciiValue else { return nil }
        switch mode {
        case .a: return nil
        case .b: return (0x41...0x46).contains(ascii) ? 600 << Int(ascii - 0x41) : nil
        case .c: return IECIdentification.modeCRate(ascii)
        }
    }

    /// The mode C/E baud-rate character for a speed, nil when there is none.
    public static func modeCCharacter(for baud: Int) -> UInt8? {
        (UInt8(0x30)...UInt8(0x36)).first { modeCRate($0) == baud }
    }

    private static func modeCRate(_ ascii: UInt8) -> Int? {
        (0x30...0x36).contains(ascii) ? 300 << Int(ascii - 0x30) : nil
    }

    /// The least time the meter needs between a message and the answer to it (§6.3.2, §5.4):
    /// 20 ms when the third manufacturer letter is lower case, else 200 ms.
    public var reactionTime: Duration {
        manufacturer.last?.isLowercase == true ? .milliseconds(20) : .milliseconds(200)
    }

    /// True when the meter offers mode E (HDLC) through `\2`.
    public var offersModeE: Bool { enhanced == "2" }

    /// `MAN:identification`, the meter name the decoder uses when a readout carries no equipment
    /// identifier.
    public var meterName: String { "\(manufacturer):\(identification)" }

    /// Parses a line from `/` up to (not including) CR LF; nil when it is not an identification.
    public init?(line: [UInt8]) {
        guard line.count >= 5, line.count <= 128, line[0] == UInt8(ascii: "/"), line[1] != UInt8(ascii: "?"),
              line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), line.dropFirst().allSatisfy({ $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "!") }),
              let parsed = IdentificationLine(line, 0..<line.count),
              parsed.manufacturer.allSatisfy(\.isLetter) else { return nil }
        manufacturer = parsed.manufacturer
        baudCharacter = parsed.baudRate
        enhanced = parsed.enhanced
        identification = parsed.identification
    }
}

/// Builds the messages a client (HHU) sends (IEC 62056-21 §6.3).
public enum IECMessage {
    /// The request message `/?[device address]!CR LF` (§6.3.1); an empty address is any meter.
    public static func request(address: String) -> [UInt8] {
        Array("/?\(address)!".utf8) + IECControl.crlf
    }

    /// Whether `address` can go in a request: up to 32 characters, digits, letters and spaces (§6.3.1).
    public static func isValidAddress(_ address: String) -> Bool {
        address.utf8.count <= 32 && address.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x20
        }
    }

    /// The acknowledgement/option select message `ACK V Z Y CR LF` (§6.3.3): V `0` normal protocol
    /// procedure, Z the baud-rate character, Y `0` data readout or `1` programming mode.
    public static func optionSelect(baudCharacter: UInt8, programming: Bool) -> [UInt8] {
        [IECControl.ack, UInt8(ascii: "0"), baudCharacter, UInt8(ascii: programming ? "1" : "0")] + IECControl.crlf
    }

    /// A programming command message `SOH C D STX data ETX BCC` (§6.3.7), or `SOH C D ETX BCC`
    /// without data (the break command `B0`).
    public static func command(_ command: String, _ data: String?) -> [UInt8] {
        var m: [UInt8] = [IECControl.soh] + Array(command.utf8)
        if let data { m += [IECControl.stx] + Array(data.utf8) }
        m.append(IECControl.etx)
        m.append(BlockCheck.bcc(m, 1..<m.count))
        return m
    }

    /// Puts an even parity bit into bit 7 of each character, for a line set to 8N1 that must carry
    /// the standard's 7E1 characters (§5.2: 7 data bits, even parity).
    public static func withSoftParity(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { b in
            let c = b & 0x7F
            return c.nonzeroBitCount % 2 == 1 ? c | 0x80 : c
        }
    }

    /// The length of the session message that makes up the whole of `bytes[start..<end]`, or nil:
    /// an ACK or NAK, a command or answer `SOH … ETX|EOT BCC`, or an identification line on its
    /// own. Such messages carry no readings; a session log (`ami-read iec`) holds them as frame
    /// records, which ami-decode takes whole (`DecodeSession`); in other input they are no frames.
    public static func sessionMessageLength(_ bytes: [UInt8], at start: Int, end: Int) -> Int? {
        guard start < end, end <= bytes.count else { return nil }
        switch bytes[start] {
        case IECControl.ack, IECControl.nak:
            return end - start == 1 ? 1 : nil
        case IECControl.soh:
            guard end - start >= 4, bytes[end - 2] == IECControl.etx || bytes[end - 2] == IECControl.eot,
                  !bytes[(start + 1)..<(end - 2)].contains(where: { $0 == IECControl.etx || $0 == IECControl.eot })
            else { return nil }
            return end - start
        case UInt8(ascii: "/"):
            guard end - start >= 7, bytes[end - 2] == 0x0D, bytes[end - 1] == 0x0A,
                  IECIdentification(line: Array(bytes[start..<(end - 2)])) != nil else { return nil }
            return end - start
        default:
            return nil
        }
    }
}
