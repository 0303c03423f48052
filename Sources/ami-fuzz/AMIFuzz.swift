import AMICore
import Foundation

#if FUZZING
/// libFuzzer entry point; the target is chosen by the environment variable AMI_FUZZ_TARGET.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let name = ProcessInfo.processInfo.environment["AMI_FUZZ_TARGET"] ?? "mbus"
    guard let target = FuzzTargets.all[name] else { fatalError("unknown AMI_FUZZ_TARGET \(name)") }
    target(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
#else
/// Without libFuzzer: replays files through a fuzz target (`ami-fuzz TARGET FILE...`), so crash
/// fixtures and seed corpora can be rerun by tests and by hand.
@main
struct AMIFuzz {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let target = FuzzTargets.all[name] else {
            let names = FuzzTargets.all.keys.sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("usage: ami-fuzz TARGET FILE...  (targets: \(names))\n".utf8))
            exit(64)
        }
        var count = 0
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("ami-fuzz: \(path): cannot read\n".utf8))
                exit(66)
            }
            target([UInt8](data))
            count += 1
        }
        print("\(name): \(count) inputs replayed")
    }
}
#endif
