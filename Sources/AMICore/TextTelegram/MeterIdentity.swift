/// Which data set names the meter a telegram comes from.
enum MeterIdentity {
    /// The equipment identifier among `sets` (the electricity meter's, not an M-Bus channel's), in
    /// order of preference: 96.1.1 (DSMR equipment identifier), 96.1.0 and `C.1.0`/`C.1` (serial
    /// number), other 96.1.x (`0-0:96.1.255*255`), then the device address 0.0.x (`0.0.0`, `0.0`,
    /// `1-0:0.0.0*255`). Empty values are passed over. `value` gives a data set's identifier text.
    static func choose(_ sets: [(set: DataSet, code: OBISAddress?)], value: (DataSet) -> String?) -> String? {
        var best: (rank: Int, id: String)? = nil
        for (set, code) in sets {
            guard let o = code, o.a == nil || o.a == 0 || o.a == 1, o.b == nil || o.b == 0 else { continue }
            let rank: Int
            switch (o.c, o.d, o.e) {
            case (96, 1, 1?): rank = 0
            case (96, 1, 0?), (96, 1, nil): rank = 1
            case (96, 1, 4?): continue
            case (96, 1, _): rank = 2
            case (0, 0, _): rank = 3
            default: continue
            }
            if let b = best, b.rank <= rank { continue }
            guard let id = value(set), !id.isEmpty else { continue }
            best = (rank, id)
        }
        return best?.id
    }
}
