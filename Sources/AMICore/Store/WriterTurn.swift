#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Fair turns at a database's write lock between processes. SQLite's busy handler polls, sleeping
/// up to 100 ms between tries, while an ingest commits and begins its next transaction within
/// microseconds, so a second writer (an overlapping cron run) could wait out its whole busy timeout
/// without finding the lock free once. A connection waiting for the lock holds a shared `flock` on
/// the file `DB-turn` beside the database; after a commit, an ingest that finds it held pauses
/// long enough for the waiter's next try (`yieldIfWaitedFor`).
final class WriterTurn {
    /// Longer than the longest sleep between two tries of the busy handler.
    static let pause: useconds_t = 150_000
    /// SQLite's own schedule of sleeps between tries (sqlite3_busy_timeout), in milliseconds.
    private static let delays: [Int32] = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100]

    private let fd: Int32
    private let timeout: Int32
    private var waited: Int32 = 0
    /// True from the first try that found the lock taken until the statement that waited returns.
    private(set) var waiting = false

    /// Nil when the turn file cannot be opened (a read-only folder): the connection then waits as
    /// SQLite's busy timeout does, without taking turns.
    init?(databasePath: String, timeout milliseconds: Int32) {
        let fd = open(databasePath + "-turn", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        self.fd = fd
        timeout = milliseconds
    }

    deinit { close(fd) }

    /// The busy handler: marks the wait, sleeps as SQLite's busy timeout would, and gives up
    /// (returns 0) once `timeout` milliseconds have been slept.
    func busy(tries: Int32) -> Int32 {
        if tries == 0 {
            waited = 0
            if !waiting {
                flock(fd, LOCK_SH)
                waiting = true
            }
        }
        guard waited < timeout else { return 0 }
        let delay = min(Self.delays[min(Int(tries), Self.delays.count - 1)], timeout - waited)
        usleep(useconds_t(delay) * 1000)
        waited += delay
        return 1
    }

    /// The statement that waited has returned.
    func stopWaiting() {
        flock(fd, LOCK_UN)
        waiting = false
    }

    /// After a commit: when another connection waits for the lock, pauses so that it gets it.
    func yieldIfWaitedFor() {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
        } else {
            usleep(Self.pause)
        }
    }
}
