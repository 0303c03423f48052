import CSQLite
import Foundation

/// Copies the write-ahead log into the database file while an ingest commits one transaction
/// after another, with a connection and a thread of its own. SQLite's automatic checkpoint does
/// that in the committing thread after each commit: it reads back every page the transaction
/// wrote to the log, writes it into the database and waits for the fsyncs of both files. This
/// checkpoint is passive (it never blocks the writer, nor waits for readers), and a checkpoint
/// killed at any point leaves the log to be copied again, as SQLite's own.
///
/// The log is written from its start again when a transaction begins after a checkpoint that
/// copied all of it. So that it stays short, once it holds `waitPages` pages the writer waits
/// before its next transaction for the checkpoint of its last commit.
final class Checkpointer: @unchecked Sendable {
    /// Pages in the log (64 MiB of 4 KiB pages) from which the writer waits for the checkpoint.
    static let waitPages = 16_384

    /// The ingest's connection, whose commits this follows (used on the ingest's thread only).
    private let writer: SQLiteDatabase
    private let db: SQLiteDatabase
    private let condition = NSCondition()
    // Guarded by `condition`:
    /// Commits so far, and how many of them the last finished checkpoint took in.
    private var commits = 0
    private var checkpointed = 0
    /// The log's length in pages after the writer's last commit.
    private var logPages = 0
    private var stopping = false
    private var running = true

    /// Takes over the checkpoints of `writer`; nil when its database cannot be opened a second time.
    init?(for writer: SQLiteDatabase) {
        guard let db = try? SQLiteDatabase(path: writer.path) else { return nil }
        self.writer = writer
        self.db = db
        // SQLite calls this after each commit of the writer, in place of its automatic checkpoint.
        sqlite3_wal_hook(writer.handle, { context, _, _, pages in
            Unmanaged<Checkpointer>.fromOpaque(context!).takeUnretainedValue().committed(logPages: Int(pages))
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
        let thread = Thread { [self] in loop() }
        thread.name = "ami-store-checkpoint"
        thread.start()
    }

    /// The writer has committed; the log now holds `logPages` pages.
    private func committed(logPages pages: Int) {
        condition.lock()
        commits += 1
        logPages = pages
        condition.broadcast()
        condition.unlock()
    }

    /// The writer is about to begin a transaction: when the log is long, this waits for the
    /// checkpoint of the last commit, so that the transaction writes the log from its start (unless
    /// a reader of another process still needs some of it).
    func beforeBegin() {
        condition.lock()
        defer { condition.unlock() }
        guard logPages >= Self.waitPages else { return }
        while checkpointed < commits && running { condition.wait() }
    }

    /// Gives the writer's commits back to SQLite (with no automatic checkpoint until it is set
    /// again) and ends the thread (a checkpoint under way finishes first); what it has not copied
    /// is left to the next checkpoint.
    func stop() {
        sqlite3_wal_hook(writer.handle, nil, nil)
        condition.lock()
        stopping = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            while checkpointed == commits && !stopping { condition.wait() }
            if stopping { break }
            let target = commits
            condition.unlock()
            // A failure (a full disk, another process's checkpoint under way) leaves the pages in
            // the log, which stays correct: the writer goes on and meets a real problem itself.
            _ = try? db.checkpoint()
            condition.lock()
            checkpointed = target
            condition.broadcast()
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
