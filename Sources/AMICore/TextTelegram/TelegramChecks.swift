extension TextTelegramLayout {
    /// Checks what the telegram carries to be checked: the DSMR CRC16 after `!` and the IEC 62056-21
    /// BCC after ETX. A mismatch throws a `.checksum` error of `layer` at the CRC or BCC, or, with
    /// `ignoreChecksums`, becomes a warning. A data block with STX but no ETX gets a warning that its
    /// BCC could not be checked.
    func verifyChecksums(_ frame: [UInt8], layer: DecodeLayer, options: DecodeOptions,
                         into out: inout DecodeOutput) throws(DecodeError) {
        func mismatch(_ error: DecodeError) throws(DecodeError) {
            if options.ignoreChecksums { out.warnings.append(error) } else { throw error }
        }
        if let crc, let endMark {
            var sent: UInt16 = 0
            for i in crc { sent = sent << 4 | UInt16(Hex.nibble(frame[i]) ?? 0) }
            let computed = DSMRCRC.checksum(frame, begin..<(endMark + 1))
            if sent != computed {
                try mismatch(DecodeError(layer, at: crc.lowerBound, .checksum,
                                         "CRC \(hex16(sent)), computed \(hex16(computed))"))
            }
        }
        if let stx {
            if let etx, let bcc, bcc < frame.count {
                let computed = BlockCheck.bcc(frame, (stx + 1)..<(etx + 1))
                if frame[bcc] != computed {
                    try mismatch(DecodeError(layer, at: bcc, .checksum,
                                             "BCC \(Hex.byte(frame[bcc])), computed \(Hex.byte(computed))"))
                }
            } else {
                out.warnings.append(DecodeError(layer, at: endMark ?? stx, .malformed,
                                                "data block without ETX and BCC: not checked"))
            }
        }
    }

    private func hex16(_ v: UInt16) -> String {
        "0x" + Hex.byte(UInt8(v >> 8)).dropFirst(2) + Hex.byte(UInt8(v & 0xFF)).dropFirst(2)
    }
}
