import Glibc

/// Line settings of a serial port: baud rate, data bits, parity, stop bits.
public struct SerialSettings: Sendable, Equatable, CustomStringConvertible {
    public enum Parity: String, Sendable, Equatable {
        case none = "N", even = "E", odd = "O"
    }

    public var baudRate: Int
    /// 5 to 8.
    public var dataBits: Int
    public var parity: Parity
    /// 1 or 2.
    public var stopBits: Int

    public init(baudRate: Int, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1) {
        self.baudRate = baudRate
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }

    /// 9600 8N1: DLMS HDLC over an optical probe or RS-485 (IEC 62056-46 after the mode E switch).
    public static let hdlc = SerialSettings(baudRate: 9600)
    /// 2400 8E1: wired M-Bus (EN 13757-2).
    public static let mbus = SerialSettings(baudRate: 2400, parity: .even)

    /// `9600 8N1`.
    public var description: String { "\(baudRate) \(dataBits)\(parity.rawValue)\(stopBits)" }

    /// The termios speed constant for a baud rate, or nil.
    static func speed(_ baud: Int) -> speed_t? {
        let speeds: [Int: Int32] = [
            300: B300, 600: B600, 1200: B1200, 2400: B2400, 4800: B4800, 9600: B9600, 19200: B19200,
            38400: B38400, 57600: B57600, 115200: B115200, 230400: B230400, 460800: B460800, 921600: B921600,
        ]
        return speeds[baud].map { speed_t($0) }
    }
}

/// A transport whose line speed can change while it is open (a serial port), as IEC 62056-21
/// modes B and C switch speed after the identification message (§6.4.2, §6.4.3).
public protocol LineSpeedSwitching: AnyObject {
    /// The speed now.
    var baudRate: Int { get }
    /// Waits (up to `deadline`) until what was written has left, then changes the speed.
    func switchBaudRate(to baud: Int, deadline: Deadline) throws(TransportError)
}

/// A serial port (`/dev/ttyUSB0`, an optical probe, an RS-485 or M-Bus level converter) in raw
/// mode: no echo, no line editing, no flow control, no character translation, reads return
/// whatever arrived (VMIN 0, VTIME 0, with poll(2) waits).
public final class SerialTransport: DescriptorTransport, LineSpeedSwitching {
    public private(set) var settings: SerialSettings

    public var baudRate: Int { settings.baudRate }

    /// Opens `path` and applies `settings`; pending input and output are discarded.
    public init(path: String, settings: SerialSettings) throws(TransportError) {
        self.settings = settings
        guard let speed = SerialSettings.speed(settings.baudRate) else {
            throw .unsupported("baud rate \(settings.baudRate) is not one of 300 to 921600 the system knows")
        }
        let sizes: [Int: tcflag_t] = [5: tcflag_t(CS5), 6: tcflag_t(CS6), 7: tcflag_t(CS7), 8: tcflag_t(CS8)]
        guard let size = sizes[settings.dataBits] else {
            throw .unsupported("\(settings.dataBits) data bits (5 to 8 are possible)")
        }
        guard settings.stopBits == 1 || settings.stopBits == 2 else {
            throw .unsupported("\(settings.stopBits) stop bits (1 or 2 are possible)")
        }
        let fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .failed(.open, errno: errno, address: path) }
        do throws(TransportError) {
            try SerialTransport.configure(fd, settings: settings, speed: speed, size: size, path: path)
        } catch {
            Glibc.close(fd)
            throw error
        }
        super.init(endpoint: "serial:" + path, fd: fd, isSocket: false)
    }

    /// Raw mode with the line settings; pending input and output discarded.
    private static func configure(_ fd: Int32, settings: SerialSettings, speed: speed_t, size: tcflag_t,
                                  path: String) throws(TransportError) {
        var t = termios()
        guard tcgetattr(fd, &t) == 0 else { throw .failed(.configure, errno: errno, address: path) }
        cfmakeraw(&t)
        t.c_cflag &= ~(tcflag_t(CSIZE) | tcflag_t(PARENB) | tcflag_t(PARODD) | tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        t.c_cflag |= size | tcflag_t(CLOCAL) | tcflag_t(CREAD)
        switch settings.parity {
        case .none: break
        case .even: t.c_cflag |= tcflag_t(PARENB)
        case .odd: t.c_cflag |= tcflag_t(PARENB) | tcflag_t(PARODD)
        }
        if settings.stopBits == 2 { t.c_cflag |= tcflag_t(CSTOPB) }
        t.c_iflag &= ~(tcflag_t(IXON) | tcflag_t(IXOFF) | tcflag_t(IXANY))
        withUnsafeMutableBytes(of: &t.c_cc) { cc in
            cc[Int(VMIN)] = 0
            cc[Int(VTIME)] = 0
        }
        guard cfsetispeed(&t, speed) == 0, cfsetospeed(&t, speed) == 0, tcsetattr(fd, TCSANOW, &t) == 0 else {
            throw .failed(.configure, errno: errno, address: path)
        }
        _ = tcflush(fd, TCIOFLUSH)
    }

    /// Waits until the output queue is empty (polled with TIOCOUTQ up to `deadline`, so a pty
    /// nobody reads cannot hang it), lets the UART finish the last characters (tcdrain), then sets
    /// the new speed for both directions; pending input is kept.
    public func switchBaudRate(to baud: Int, deadline: Deadline) throws(TransportError) {
        guard let speed = SerialSettings.speed(baud) else {
            throw .unsupported("baud rate \(baud) is not one of 300 to 921600 the system knows")
        }
        guard fd >= 0 else { throw .notOpen }
        var queued: Int32 = 0
        while ioctl(fd, UInt(TIOCOUTQ), &queued) == 0, queued > 0 {
            if deadline.hasPassed { throw .timedOut(.write, after: deadline.budget) }
            usleep(5_000)
        }
        _ = tcdrain(fd)
        var t = termios()
        guard tcgetattr(fd, &t) == 0, cfsetispeed(&t, speed) == 0, cfsetospeed(&t, speed) == 0,
              tcsetattr(fd, TCSANOW, &t) == 0 else {
            throw .failed(.configure, errno: errno, address: String(endpoint.dropFirst("serial:".count)))
        }
        settings.baudRate = baud
    }
}
