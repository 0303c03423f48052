import Foundation

/// A device profile: the register map of one kind of Modbus device, as documented in
/// ami-modbus-profile(5). It says which registers to read (function, address, type, word order),
/// what each one is (quantity, unit, scale, OBIS code), how many registers one read may ask for, and
/// which writes carry out commands.
public struct ModbusProfile: Sendable, Equatable {
    /// One register (or run of registers holding one value).
    public struct Register: Sendable, Equatable {
        public var name: String
        public var function: ModbusFunction
        public var address: UInt16
        public var type: ModbusDataType
        public var order: ModbusWordOrder
        /// The raw value is multiplied by this exactly, before the unit is converted.
        public var scale: ExactDecimal
        /// The unit the value is in after scaling, as written in the profile (`kWh`, `V`, `min`).
        public var unit: String?
        public var quantity: Quantity
        public var obis: String?
        public var note: String?
        public var readingFunction: RecordFunction?

        /// The registers the value spans.
        public var span: Range<Int> { Int(address)..<(Int(address) + type.registers) }

        /// The reading's value and unit for the registers read: decoded, times `scale`, in the base
        /// unit of ami-jsonl(5).
        public func value(_ registers: ArraySlice<UInt16>) throws(ModbusValueError) -> (ExactDecimal, Unit?) {
            let raw = try ModbusRawValue(registers, type: type, order: order).decimal()
            guard let scaled = raw.multiplied(by: scale) else { throw .outOfRange("\(raw) times \(scale)") }
            guard let unit else { return (scaled, nil) }
            guard let converted = Register.convert(scaled, unit) else { throw .outOfRange("\(scaled) \(unit)") }
            return converted
        }

        /// `value` in `unit` (those of text telegrams, and `deg` and `ms`) in a base unit; nil when
        /// the unit is unknown or the value would overflow.
        static func convert(_ value: ExactDecimal, _ unit: String) -> (ExactDecimal, Unit?)? {
            switch unit {
            case "deg": return (value, .degree)
            case "ms": return (value.scaled(byPowerOfTen: -3), .second)
            default: return TextUnit.convert(value, unit).map { ($0.0, $0.1) }
            }
        }
    }

    /// One register write of a command.
    public struct Write: Sendable, Equatable {
        public var address: UInt16
        public var type: ModbusDataType
        public var order: ModbusWordOrder
        /// The value written; nil for `set_clock`'s time.
        public var value: ExactDecimal?

        /// The registers to write: `value` (or `clock`, Unix seconds, for a write without one) in
        /// the type and order given; nil when it does not fit the type.
        public func registers(clock: Int64) -> [UInt16]? {
            let bytes: [UInt8]
            switch type {
            case .float32:
                guard let v = value, let f = Float(v.description), f.isFinite else { return nil }
                bytes = ModbusProfile.bigEndian(UInt64(f.bitPattern), count: 4)
            case .float64:
                guard let v = value, let f = Double(v.description), f.isFinite else { return nil }
                bytes = ModbusProfile.bigEndian(f.bitPattern, count: 8)
            default:
                let n: Int64
                if let v = value {
                    guard let i = v.integer(atScale: 0) else { return nil }
                    n = i
                } else {
                    n = clock
                }
                let width = type.registers * 16
                let signed = type == .int16 || type == .int32 || type == .int64
                if width < 64 {
                    let range: ClosedRange<Int64> = signed ? -(1 << (width - 1))...((1 << (width - 1)) - 1) : 0...((1 << width) - 1)
                    guard range.contains(n) else { return nil }
                } else if !signed && n < 0 {
                    return nil
                }
                bytes = ModbusProfile.bigEndian(UInt64(bitPattern: n), count: type.registers * 2)
            }
            return order.registers(bytes)
        }
    }

    /// The commands a profile can define.
    public enum Command: String, Sendable, CaseIterable {
        case disconnect, reconnect
        case setClock = "set_clock"
    }

    public var name: String
    public var description: String?
    /// Where the register map comes from (a datasheet, its version).
    public var source: String?
    public var medium: String?
    /// Most registers one read asks for (1 to 125).
    public var maxRegisters: Int
    /// Most unused registers a read may span between two registers it wants.
    public var maxGap: Int
    public var registers: [Register]
    /// The register whose value names the meter (`NAME-VALUE`), if any.
    public var identity: Register?
    public var commands: [Command: [Write]]

    /// The built-in profiles by name, in the file format.
    public static var builtInNames: [String] { ModbusBuiltInProfiles.all.map(\.name).sorted() }

    /// The built-in profile `name`, or the profile file at `name` (a path: it has a `/` or ends
    /// in `.json`).
    public static func named(_ name: String) throws(ModbusProfileError) -> ModbusProfile {
        if let text = ModbusBuiltInProfiles.all.first(where: { $0.name == name })?.json {
            return try parse(Array(text.utf8), origin: name)
        }
        guard name.contains("/") || name.hasSuffix(".json") else {
            throw ModbusProfileError("\(name): no such built-in profile (\(builtInNames.joined(separator: ", "))) and not a file name")
        }
        guard let data = FileManager.default.contents(atPath: name) else {
            throw ModbusProfileError("\(name): cannot read the profile file")
        }
        return try parse(Array(data), origin: name)
    }

    /// Parses a profile file; `origin` names it in errors.
    public static func parse(_ bytes: [UInt8], origin: String) throws(ModbusProfileError) -> ModbusProfile {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw ModbusProfileError("\(origin): byte \(error.offset): \(error.message)")
        }
        var r = ProfileReader(origin: origin)
        return try r.profile(json)
    }

    /// The reads that cover every register: runs of one function, in address order, each at most
    /// `maxRegisters` long and without gaps longer than `maxGap`. The block holding the identity
    /// register comes first.
    public var reads: [ModbusRequest] {
        var out: [ModbusRequest] = []
        for f in [ModbusFunction.readInputRegisters, .readHoldingRegisters] {
            let spans = registers.filter { $0.function == f }.map(\.span).sorted { $0.lowerBound < $1.lowerBound }
            var start = -1, end = -1
            for s in spans {
                if start >= 0, s.upperBound - start <= maxRegisters, s.lowerBound - end <= maxGap {
                    end = max(end, s.upperBound)
                    continue
                }
                if start >= 0 { out.append(.read(f, address: UInt16(start), count: UInt16(end - start))) }
                start = s.lowerBound
                end = s.upperBound
            }
            if start >= 0 { out.append(.read(f, address: UInt16(start), count: UInt16(end - start))) }
        }
        if let id = identity, let i = out.firstIndex(where: { $0.covers(id) }) {
            out.insert(out.remove(at: i), at: 0)
        }
        return out
    }

    /// The registers of the profile a read answered with `values` holds whole, with their values.
    public func registers(in request: ModbusRequest) -> [Register] {
        registers.filter { request.covers($0) }
    }

    static func bigEndian(_ v: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: v >> UInt64(8 * (count - 1 - $0))) }
    }
}

extension ModbusRequest {
    /// True when this is a read of the register's function that spans it whole.
    public func covers(_ r: ModbusProfile.Register) -> Bool {
        guard case .read(let f, let address, let count) = self, f == r.function else { return false }
        return r.span.lowerBound >= Int(address) && r.span.upperBound <= Int(address) + Int(count)
    }
}

/// A profile that cannot be used: the message says where and why.
public struct ModbusProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Reads the members of a profile file, naming the place of each problem.
private struct ProfileReader {
    let origin: String

    func fail(_ message: String) -> ModbusProfileError { ModbusProfileError("\(origin): \(message)") }

    func string(_ v: JSONValue?, _ what: String) throws(ModbusProfileError) -> String? {
        guard let v else { return nil }
        guard let s = v.stringValue else { throw fail("\(what) must be a string") }
        return s
    }

    func integer(_ v: JSONValue?, _ what: String, _ range: ClosedRange<Int>) throws(ModbusProfileError) -> Int? {
        guard let v else { return nil }
        var n: Int? = nil
        if let t = v.numberText { n = Int(t) }
        if let s = v.stringValue, s.hasPrefix("0x") || s.hasPrefix("0X") { n = Int(s.dropFirst(2), radix: 16) }
        guard let n, range.contains(n) else { throw fail("\(what) must be an integer from \(range.lowerBound) to \(range.upperBound) (or \"0x…\" hex)") }
        return n
    }

    func decimal(_ v: JSONValue?, _ what: String) throws(ModbusProfileError) -> ExactDecimal? {
        guard let v else { return nil }
        guard let t = v.numberText ?? v.stringValue, let d = ExactDecimal(t) else {
            throw fail("\(what) must be a decimal number")
        }
        return d
    }

    func order(_ v: JSONValue?, _ what: String) throws(ModbusProfileError) -> ModbusWordOrder? {
        guard let s = try string(v, what) else { return nil }
        guard let o = ModbusWordOrder(rawValue: s.lowercased()) else { throw fail("\(what) must be abcd, cdab, badc or dcba") }
        return o
    }

    func type(_ v: JSONValue?, _ what: String) throws(ModbusProfileError) -> ModbusDataType {
        guard let s = try string(v, what), let t = ModbusDataType(rawValue: s) else {
            throw fail("\(what) must be one of \(ModbusDataType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return t
    }

    /// Refuses members other than `allowed` (a misspelt one would otherwise pass unnoticed).
    func only(_ allowed: Set<String>, in value: JSONValue, _ what: String) throws(ModbusProfileError) {
        guard case .object(let members) = value else { throw fail("\(what) must be an object") }
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw fail("\(what): unknown member \"\(unknown)\"")
        }
    }

    mutating func profile(_ json: JSONValue) throws(ModbusProfileError) -> ModbusProfile {
        try only(["profile", "description", "source", "medium", "word_order", "max_registers", "max_gap", "identity",
                  "registers", "commands"], in: json, "the profile")
        guard let name = try string(json["profile"], "\"profile\""), !name.isEmpty else {
            throw fail("\"profile\" (the profile's name) is missing")
        }
        let order = try self.order(json["word_order"], "\"word_order\"") ?? .abcd
        let maxRegisters = try integer(json["max_registers"], "\"max_registers\"", 1...ModbusRequest.maxReadCount) ?? ModbusRequest.maxReadCount
        let maxGap = try integer(json["max_gap"], "\"max_gap\"", 0...ModbusRequest.maxReadCount) ?? 0
        guard case .array(let list)? = json["registers"], !list.isEmpty else {
            throw fail("\"registers\" must be a non-empty array")
        }
        var registers: [ModbusProfile.Register] = []
        for (i, item) in list.enumerated() {
            let r = try register(item, index: i, defaultOrder: order)
            guard r.type.registers <= maxRegisters else { throw fail("registers[\(i)] is wider than \"max_registers\"") }
            guard r.span.upperBound <= 0x10000 else { throw fail("registers[\(i)] runs past register 65535") }
            if let other = registers.first(where: { $0.name == r.name }) {
                throw fail("registers[\(i)]: the name \"\(other.name)\" is used twice")
            }
            registers.append(r)
        }
        var identity: ModbusProfile.Register? = nil
        if let id = try string(json["identity"], "\"identity\"") {
            guard let r = registers.first(where: { $0.name == id }) else { throw fail("\"identity\": no register named \"\(id)\"") }
            identity = r
        }
        var commands: [ModbusProfile.Command: [ModbusProfile.Write]] = [:]
        if let c = json["commands"] {
            guard case .object(let members) = c else { throw fail("\"commands\" must be an object") }
            for (key, value) in members {
                guard let command = ModbusProfile.Command(rawValue: key) else {
                    throw fail("commands: unknown command \"\(key)\" (disconnect, reconnect, set_clock)")
                }
                guard case .array(let writes) = value, !writes.isEmpty else { throw fail("commands.\(key) must be a non-empty array of writes") }
                var list: [ModbusProfile.Write] = []
                for (i, w) in writes.enumerated() {
                    let at = "commands.\(key)[\(i)]"
                    try only(["address", "type", "word_order", "value"], in: w, at)
                    guard let address = try integer(w["address"], "\(at).address", 0...0xFFFF) else {
                        throw fail("\(at).address is missing")
                    }
                    let write = ModbusProfile.Write(
                        address: UInt16(address), type: try type(w["type"], "\(at).type"),
                        order: try self.order(w["word_order"], "\(at).word_order") ?? order,
                        value: try decimal(w["value"], "\(at).value"))
                    if write.value == nil {
                        guard command == .setClock, ![.float32, .float64, .int16, .uint16].contains(write.type) else {
                            throw fail("\(at).value is missing (only set_clock writes the time, as a 32- or 64-bit integer)")
                        }
                    }
                    guard write.registers(clock: 0) != nil else { throw fail("\(at).value does not fit \(write.type.rawValue)") }
                    list.append(write)
                }
                commands[command] = list
            }
        }
        return ModbusProfile(
            name: name, description: try string(json["description"], "\"description\""),
            source: try string(json["source"], "\"source\""), medium: try string(json["medium"], "\"medium\""),
            maxRegisters: maxRegisters, maxGap: maxGap, registers: registers, identity: identity, commands: commands)
    }

    func register(_ item: JSONValue, index i: Int, defaultOrder: ModbusWordOrder) throws(ModbusProfileError) -> ModbusProfile.Register {
        let at = "registers[\(i)]"
        try only(["name", "address", "function", "type", "word_order", "scale", "unit", "quantity", "obis", "note",
                  "reading_function"], in: item, at)
        guard let name = try string(item["name"], "\(at).name"), !name.isEmpty else { throw fail("\(at).name is missing") }
        guard let address = try integer(item["address"], "\(at).address", 0...0xFFFF) else { throw fail("\(at).address is missing") }
        let code = try integer(item["function"], "\(at).function", 3...4) ?? 4
        guard let quantity = try string(item["quantity"], "\(at).quantity"), !quantity.isEmpty,
              quantity.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
            throw fail("\(at).quantity must be a name from the vocabulary of ami-jsonl(5)")
        }
        let unit = try string(item["unit"], "\(at).unit")
        if let unit, ModbusProfile.Register.convert(ExactDecimal(1), unit) == nil {
            throw fail("\(at).unit \"\(unit)\" is not one ami knows (Wh, kWh, W, kW, varh, kvarh, VA, V, A, Hz, s, min, %, deg…)")
        }
        var function: RecordFunction? = nil
        if let f = try string(item["reading_function"], "\(at).reading_function") {
            guard let rf = RecordFunction(rawValue: f), rf == .maximum || rf == .minimum else {
                throw fail("\(at).reading_function must be maximum or minimum")
            }
            function = rf
        }
        return ModbusProfile.Register(
            name: name, function: ModbusFunction(rawValue: UInt8(code))!, address: UInt16(address),
            type: try type(item["type"] ?? .string("float32"), "\(at).type"),
            order: try order(item["word_order"], "\(at).word_order") ?? defaultOrder,
            scale: try decimal(item["scale"], "\(at).scale") ?? ExactDecimal(1),
            unit: unit, quantity: Quantity(rawValue: quantity),
            obis: try string(item["obis"], "\(at).obis"), note: try string(item["note"], "\(at).note"),
            readingFunction: function)
    }
}
