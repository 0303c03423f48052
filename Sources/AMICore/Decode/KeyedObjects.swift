/// Objects a decoder keeps for a stream under 64-bit keys made from the bytes they were made from
/// (`MBusLayoutCache`, the meter heads of M-Bus headers): an open-addressing table of at most
/// `capacity` objects; later ones are not kept. Key 0 is never kept (it marks an empty slot).
/// Used by one decoding thread at a time.
final class KeyedObjects<Entry: AnyObject>: @unchecked Sendable {
    let capacity: Int
    /// The slots are a power of two, at least twice the capacity; a key's slot is the top bits of
    /// its Fibonacci hash.
    private let slotMask: Int
    private let shift: UInt64

    @exclusivity(unchecked) private var keys: [UInt64]
    // Retained here (released in deinit), handed out unretained: a lookup costs no reference count.
    @exclusivity(unchecked) private var entries: [Unmanaged<Entry>?]
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        var bits: UInt64 = 1
        while 1 << bits < 2 * capacity { bits += 1 }
        slotMask = (1 << bits) - 1
        shift = 64 - bits
        keys = [UInt64](repeating: 0, count: slotMask + 1)
        entries = [Unmanaged<Entry>?](repeating: nil, count: slotMask + 1)
    }

    deinit {
        for e in entries { e?.release() }
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> shift)
    }

    /// The object stored under `key`; nil for none (and for key 0). It lives as long as the table.
    @inline(__always)
    subscript(key: UInt64) -> Unmanaged<Entry>? {
        guard key != 0 else { return nil }
        var s = slot(key)
        while keys[s] != 0 {
            if keys[s] == key { return entries[s] }
            s = (s + 1) & slotMask
        }
        return nil
    }

    /// Keeps `entry` under `key` while there is room (and unless the key has one already).
    func insert(_ entry: Entry, key: UInt64) {
        guard key != 0, count < capacity else { return }
        var s = slot(key)
        while keys[s] != 0 {
            if keys[s] == key { return }
            s = (s + 1) & slotMask
        }
        keys[s] = key
        entries[s] = Unmanaged.passRetained(entry)
        count += 1
    }
}
