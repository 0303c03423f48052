#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser

/// Process-wide set-up every tool does first: SIGPIPE ignored (a closed pipe shows up as `EPIPE`
/// and ends the tool quietly), and a C locale so nothing depends on the user's.
public enum ToolMain {
    public static func prepare() {
        signal(SIGPIPE, SIG_IGN)
        setlocale(LC_ALL, "C")
    }

    /// Exits with `status`.
    public static func exit(_ status: ExitStatus) -> Never {
        Glibc.exit(status.rawValue)
    }
}

/// Options every ami tool accepts.
public struct CommonOptions: ParsableArguments {
    @Flag(name: .long, help: "Stop at the first invalid record or frame instead of skipping it (exit 65).")
    public var strict = false

    public init() {}
}
