/// A point on the monotonic clock by which an operation must finish, with the time budget it was
/// made from (for "timed out after 2 s" messages). Immune to wall-clock changes.
public struct Deadline: Sendable {
    /// The instant on `ContinuousClock` (monotonic, keeps counting across suspend).
    public let instant: ContinuousClock.Instant
    /// The budget this deadline was made from.
    public let budget: Duration

    /// The deadline `budget` from now (a negative budget counts as zero).
    public static func after(_ budget: Duration) -> Deadline {
        let b = max(budget, .zero)
        return Deadline(instant: ContinuousClock.now.advanced(by: b), budget: b)
    }

    /// The earlier of this deadline and the one `budget` from now: a per-step limit inside an
    /// overall deadline.
    public func capped(at budget: Duration) -> Deadline {
        let step = Deadline.after(budget)
        return step.instant < instant ? step : self
    }

    /// Time left, zero once passed.
    public var remaining: Duration { max(instant - ContinuousClock.now, .zero) }

    /// True once the deadline has passed.
    public var hasPassed: Bool { ContinuousClock.now >= instant }

    /// Time left in whole milliseconds for poll(2), rounded up so a wait never ends early, and at
    /// most `Int32.max`.
    var pollMilliseconds: Int32 {
        let (seconds, attoseconds) = remaining.components
        let ms = seconds.multipliedReportingOverflow(by: 1000)
        guard !ms.overflow else { return Int32.max }
        let sub = (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        let total = ms.partialValue.addingReportingOverflow(sub)
        guard !total.overflow else { return Int32.max }
        return Int32(clamping: total.partialValue)
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds.multipliedReportingOverflow(by: 1000).partialValue &+ attoseconds / 1_000_000_000_000_000
    }

    /// `2 s`, `250 ms`, `1500 ms`: whole milliseconds, in seconds when exact. For diagnostics.
    public var diagnosticText: String {
        let ms = wholeMilliseconds
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}
