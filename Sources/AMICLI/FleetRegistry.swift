import AMICore

/// One meter of a fleet registry (ami-read(1), REGISTRY): a `meter` record as `ami-store registry
/// export` writes it, with what `ami-read` needs to read it: its protocol, its connection in
/// `address` (`tcp://HOST:PORT` or `serial:DEVICE`), groups, and in `read` the long options of
/// `ami-read PROTOCOL` (what to read, protocol addresses, the key file that holds its credentials).
public struct FleetMeter: Sendable, Equatable {
    public var id: String
    public var protocolName: String
    /// `tcp://HOST:PORT` or `serial:DEVICE`; the meters behind one are read one at a time.
    public var address: String
    public var groups: [String]
    /// The hierarchy node (`ACME/North/Feeder 7`), which `--group` also matches by path prefix.
    public var node: String?
    /// The `read` options as arguments, relative file names resolved beside the registry.
    public var options: [String]
    /// `FILE:LINE` of its record, for messages.
    public var origin: String

    public init(id: String, protocolName: String, address: String, groups: [String], node: String?,
                options: [String], origin: String) {
        self.id = id
        self.protocolName = protocolName
        self.address = address
        self.groups = groups
        self.node = node
        self.options = options
        self.origin = origin
    }

    /// The arguments of `ami-read PROTOCOL` that read this meter, with `extra` ones (an action).
    public func arguments(_ extra: [String] = []) -> [String] {
        let connection: [String]
        if address.hasPrefix("tcp://") {
            connection = ["--tcp", String(address.dropFirst(6))]
        } else {
            connection = ["--serial", String(address.dropFirst(7))]
        }
        return connection + ["--meter", id] + options + extra
    }
}

/// Reading registry records, choosing the meters of a run and its shard.
public enum FleetRegistry {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The meter a registry line describes; nil for other records (hierarchy `node`s) and for
    /// meters whose `status` is `inactive` or `removed`, which are not read.
    public static func meter(line: UnsafeBufferPointer<UInt8>, origin: String, folder: String) throws(Failure) -> FleetMeter? {
        let record: JSONValue
        do {
            record = try JSONValue.parse(line)
        } catch {
            throw Failure(description: "\(error)")
        }
        guard case .object(let members) = record else { throw Failure(description: "not a JSON object") }
        guard members["type"]?.stringValue == "meter" else { return nil }
        guard let id = members["meter"]?.stringValue, !id.isEmpty else { throw Failure(description: "a meter without \"meter\"") }
        if let status = members["status"]?.stringValue, status != "active" { return nil }
        guard let protocolName = members["protocol"]?.stringValue, !protocolName.isEmpty else {
            throw Failure(description: "\(id): no \"protocol\"")
        }
        guard let address = members["address"]?.stringValue,
              (address.hasPrefix("tcp://") && address.count > 6) || (address.hasPrefix("serial:") && address.count > 7) else {
            throw Failure(description: "\(id): \"address\" is tcp://HOST:PORT or serial:DEVICE")
        }
        var groups: [String] = []
        switch members["group"] {
        case nil: break
        case .string(let g)?: groups = [g]
        case .array(let items)?:
            groups = items.compactMap(\.stringValue)
            guard groups.count == items.count else { throw Failure(description: "\(id): \"group\" is a string or strings") }
        default: throw Failure(description: "\(id): \"group\" is a string or strings")
        }
        var options: [String] = []
        switch members["read"] {
        case nil: break
        case .object(let read)?:
            for key in ["tcp", "serial", "meter"] where read[key] != nil {
                throw Failure(description: "\(id): \"read\" cannot set \(key) (it comes from \"address\" and \"meter\")")
            }
            do {
                options = try MeterDescription.arguments(read, folder: folder)
            } catch {
                throw Failure(description: "\(id): read: \(error)")
            }
        default: throw Failure(description: "\(id): \"read\" is an object of ami-read options")
        }
        return FleetMeter(id: id, protocolName: protocolName, address: address, groups: groups,
                          node: members["node"]?.stringValue, options: options, origin: origin)
    }
}

/// Which meters of a registry a run reads: by group (or hierarchy node and what is below it), by
/// identity, and `--shard K/N` so that N hosts share a fleet, each meter in exactly one shard.
public struct FleetSelection: Sendable {
    public var groups: [String] = []
    public var meters: [String] = []
    /// (K, N), 1 ≤ K ≤ N.
    public var shard: (index: Int, count: Int)?

    public init() {}

    public func includes(_ m: FleetMeter) -> Bool {
        if !meters.isEmpty, !meters.contains(m.id) { return false }
        if !groups.isEmpty, !groups.contains(where: { g in
            m.groups.contains(g) || m.node.map { $0 == g || $0.hasPrefix(g + "/") } == true
        }) { return false }
        if let shard, FleetSelection.shard(of: m.id, count: shard.count) != shard.index { return false }
        return true
    }

    /// The shard (1…count) of a meter identity: FNV-1a (64 bit) of its UTF-8 bytes modulo
    /// `count`, plus 1 — the same on every host and for any order of the registry.
    public static func shard(of id: String, count: Int) -> Int {
        Int(fnv1a(id) % UInt64(count)) + 1
    }

    /// FNV-1a, 64 bit, of the UTF-8 bytes of `text`.
    public static func fnv1a(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h &*= 0x0000_0100_0000_01B3
        }
        return h
    }

    /// `K/N` as written on the command line.
    public static func parseShard(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(k) else { return nil }
        return (k, n)
    }
}

extension FleetRegistry {
    /// The active meters of registry files (JSON lines), in order, `defaults` (options for every
    /// meter) before each one's own options, which win. A bad record is reported with its line and
    /// skipped (status 65; `strict` stops there), as is a meter listed twice.
    public static func load(_ inputs: [InputFile], defaults: [String] = [], strict: Bool,
                            diagnostics: Diagnostics) -> ([FleetMeter], ExitStatus) {
        var meters: [FleetMeter] = []
        var seen: [String: String] = [:]
        var status = ExitStatus.ok
        let read = LineSplitter.numberedLines(of: inputs, diagnostics: diagnostics) { line, location, input in
            let folder = input.isStdin ? "" : MeterDescription.folder(of: input.path)
            do throws(Failure) {
                guard var m = try meter(line: line, origin: location, folder: folder) else { return true }
                m.options = defaults + m.options
                if let first = seen[m.id] { throw Failure(description: "\(m.id): already in the registry at \(first)") }
                seen[m.id] = location
                meters.append(m)
                return true
            } catch {
                diagnostics.report(location, error.description)
                status = max(status, .dataError)
                return !strict
            }
        }
        return (meters, max(status, read))
    }
}
