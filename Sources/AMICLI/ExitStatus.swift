/// Exit statuses shared by every ami tool (sysexits(3) values), documented under EXIT STATUS.
public enum ExitStatus: Int32, Sendable, Comparable {
    case ok = 0
    /// Bad command-line usage.
    case usage = 64
    /// Input records or frames were skipped as invalid (or `--strict` stopped at one).
    case dataError = 65
    /// An input file could not be opened.
    case noInput = 66
    /// A meter or service could not be reached, or did not answer in time.
    case unavailable = 69
    /// An internal error.
    case software = 70
    /// Reading or writing failed (other than a closed output pipe).
    case ioError = 74
    /// A resource is busy for now (another process holds the database's write lock): try again.
    case tempFail = 75
    /// A meter answered with something the protocol does not allow.
    case protocolError = 76
    /// A meter refused access: association rejected, authentication failed, wrong key.
    case noPermission = 77
    /// A configuration file or option value is unusable.
    case config = 78

    /// The more serious of two statuses, so that a run reports the worst thing that happened.
    public static func < (a: ExitStatus, b: ExitStatus) -> Bool { a.severity < b.severity }

    private var severity: Int {
        switch self {
        case .ok: return 0
        case .dataError: return 1
        case .noInput: return 2
        case .unavailable: return 3
        case .protocolError: return 4
        case .noPermission: return 5
        case .config: return 6
        case .usage: return 7
        case .tempFail: return 8
        case .ioError: return 9
        case .software: return 10
        }
    }
}
