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

    private let db: SQLiteDatabase
    private let condition = NSCondition()
    // Guarded by `condition`:
    /// Commits so far, and how many of them the last finished checkpoint took in.
    private var commits = 0
    private var checkpointed = 0
    /// The log's length in pages after the last checkpoint, and whether it copied all of them.
    private var logPages = 0
    private var complete = true
    private var stopping = false
    private var running = true

    /// Nil when the database cannot be opened a second time.
    init?(path: String) {
        guard let db = try? SQLiteDatabase(path: path) else { return nil }
        self.db = db
        let thread = Thread { [self] in loop() }
        thread.name = "ami-store-checkpoint"
        thread.start()
    }

    /// The writer has committed: the log has more pages to copy.
    func committed() {
        condition.lock()
        commits += 1
        condition.broadcast()
        condition.unlock()
    }

    /// The writer is about to begin a transaction: when the log is long, this waits for the
    /// checkpoint of the last commit, so that the transaction writes the log from its start.
    func beforeBegin() {
        condition.lock()
        defer { condition.unlock() }
        guard logPages >= Self.waitPages else { return }
        while checkpointed < commits && running { condition.wait() }
        // Copied in full (no reader of another process kept old pages): the log starts again.
        if complete { logPages = 0 }
    }

    /// Ends the thread (a checkpoint under way finishes first); what it has not copied is left to
    /// the next checkpoint.
    func stop() {
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
            let result = try? db.checkpoint()
            condition.lock()
            checkpointed = target
            if let result {
                logPages = result.pages
                complete = result.complete
            }
            condition.broadcast()
        }
        running = false
        condition.broadcast()
        condition.unlock()
    }
}
