import Foundation
@testable import AMICore

enum DLMSTest {
    /// `../shared/corpus/dlms` beside the package.
    static let corpus = MBusTest.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpus/dlms")
    static let framesFile = corpus.appendingPathComponent("frames.jsonl")
    static let corpusExists = FileManager.default.fileExists(atPath: framesFile.path)

    /// The corpus README's public test keys and system titles.
    static let ek = DLMSKey(hex: "000102030405060708090A0B0C0D0E0F")!
    static let ak = DLMSKey(hex: "D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")!
    static let serverTitle = bytes("4D4D4D0000BC614E")
    static let guruxClientTitle = bytes("4D4D4D0000000001")

    static func bytes(_ hex: String) -> [UInt8] { MBusTest.bytes(hex) }

    static func hex(_ bytes: [UInt8]) -> String { Hex.string(bytes).uppercased() }

    /// One APDU record of `frames.jsonl`.
    struct Frame {
        var session: String
        var seq: Int
        var isRequest: Bool
        var pdu: [UInt8]
        var expectedXML: String
        var ciphered: Bool
        var plain: [UInt8]?
        var plainXML: String?

        var name: String { "\(session)#\(seq)" }
    }

    /// The records that carry a complete APDU, in capture order.
    static func frames() throws -> [Frame] {
        let text = try String(contentsOf: framesFile, encoding: .utf8)
        var out: [Frame] = []
        for line in text.split(separator: "\n") {
            guard let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let pdu = r["pdu_hex"] as? String, let xml = r["expected_xml"] as? String else { continue }
            out.append(Frame(session: r["session"] as? String ?? "", seq: r["seq"] as? Int ?? -1,
                             isRequest: (r["direction"] as? String) == "request", pdu: bytes(pdu), expectedXML: xml,
                             ciphered: r["ciphered"] as? Bool ?? false, plain: (r["plain_pdu_hex"] as? String).map(bytes),
                             plainXML: r["plain_xml"] as? String))
        }
        return out
    }
}

/// Gurux's translator XML (`GXDLMSTranslator`, SIMPLE_XML) flattened to its opening tags with their
/// attributes, in document order (`Tag Attr=Value`), and the same list built from a parsed APDU.
/// Comparing the two lists compares kinds, invoke ids, descriptors, every data value (type and
/// value; Gurux writes integers in hex), results and diagnostics.
enum GuruxXML {
    /// The opening tags of `xml` with their attributes. Closing tags are ignored, so Gurux's
    /// mismatched `<ProposedConformance>…</NegotiatedConformance>` in RLREs does not matter.
    static func elements(_ xml: String) -> [String] {
        var out: [String] = []
        let scalars = Array(xml.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "<", i + 1 < scalars.count, scalars[i + 1] != "/", scalars[i + 1] != "?" else {
                i += 1
                continue
            }
            var j = i + 1
            while j < scalars.count, scalars[j] != ">" { j += 1 }
            var inside = String(String.UnicodeScalarView(scalars[(i + 1)..<j]))
            if inside.hasSuffix("/") { inside.removeLast() }
            // `Name Attr="v" Attr2="w"` → `Name Attr=v Attr2=w`.
            let name = String(inside.prefix { $0 != " " })
            var attrs: [String] = []
            var k = inside.firstIndex(of: " ") ?? inside.endIndex
            while let eq = inside[k...].firstIndex(of: "=") {
                let key = inside[k..<eq].trimmingCharacters(in: .whitespaces)
                guard let open = inside[eq...].firstIndex(of: "\""),
                      let close = inside[inside.index(after: open)...].firstIndex(of: "\"") else { break }
                attrs.append("\(key)=\(inside[inside.index(after: open)..<close])")
                k = inside.index(after: close)
            }
            out.append(([name] + attrs).joined(separator: " "))
            i = j + 1
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String { DLMSTest.hex(bytes) }

    static func hex<T: FixedWidthInteger>(_ v: T) -> String {
        var b: [UInt8] = []
        b.appendBigEndian(v)
        return hex(b)
    }

    /// Gurux's elements for `apdu`.
    static func elements(_ apdu: APDU) -> [String] {
        var out: [String] = []
        switch apdu {
        case .aarq(let a):
            out.append("AssociationRequest")
            out.append("ApplicationContextName Value=" + context(a.applicationContext))
            if let t = a.calling.apTitle { out.append("CallingAPTitle Value=" + hex(t)) }
            if let r = a.calling.acseRequirements { out.append("SenderACSERequirements Value=" + (r ? "1" : "0")) }
            if let m = a.calling.mechanism { out.append("MechanismName Value=" + mechanism(m)) }
            if let v = a.calling.authenticationValue { out.append("CallingAuthentication Value=" + hex(v.bytes)) }
            if let u = a.userInformation { out += user(u, inRelease: false) }
        case .aare(let a):
            out.append("AssociationResponse")
            out.append("ApplicationContextName Value=" + context(a.applicationContext))
            out.append("AssociationResult Value=" + hex(a.result.rawValue))
            out.append("ResultSourceDiagnostic")
            switch a.diagnostic {
            case .serviceUser(let v): out.append("ACSEServiceUser Value=" + hex(v))
            case .serviceProvider(let v): out.append("ACSEServiceProvider Value=" + hex(v))
            }
            if let t = a.responding.apTitle { out.append("RespondingAPTitle Value=" + hex(t)) }
            if let r = a.responding.acseRequirements { out.append("ResponderACSERequirement Value=" + (r ? "1" : "0")) }
            if let m = a.responding.mechanism { out.append("MechanismName Value=" + mechanism(m)) }
            if let v = a.responding.authenticationValue { out.append("RespondingAuthentication Value=" + hex(v.bytes)) }
            if let u = a.userInformation { out += user(u, inRelease: false) }
        case .releaseRequest(let r), .releaseResponse(let r):
            if case .releaseRequest = apdu { out.append("ReleaseRequest") } else { out.append("ReleaseResponse") }
            if let reason = r.reason { out.append("Reason Value=" + (reason == 0 ? "Normal" : hex(reason))) }
            if let u = r.userInformation { out += user(u, inRelease: true) }
        case .initiateRequest(let r): out += initiate(r)
        case .initiateResponse(let r): out += initiate(r, inRelease: false)
        case .getRequest(let g):
            out.append("GetRequest")
            switch g {
            case .normal(let i, let attribute, let access):
                out += ["GetRequestNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue)]
                out += descriptor(attribute) + selection(access)
            case .next(let i, let block):
                out += ["GetRequestForNextDataBlock", "InvokeIdAndPriority Value=" + hex(i.rawValue), "BlockNumber Value=" + hex(block)]
            case .withList(let i, let list):
                out += ["GetRequestWithList", "InvokeIdAndPriority Value=" + hex(i.rawValue), "AttributeDescriptorList Qty=" + qty(list.count)]
                for s in list { out += ["AttributeDescriptorWithSelection"] + descriptor(s.attribute) + selection(s.access) }
            }
        case .getResponse(let g):
            out.append("GetResponse")
            switch g {
            case .normal(let i, let result):
                out += ["GetResponseNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue), "Result"] + getResult(result)
            case .withDataBlock(let i, let block):
                out += ["GetResponsewithDataBlock", "InvokeIdAndPriority Value=" + hex(i.rawValue), "Result",
                        "LastBlock Value=" + (block.lastBlock ? "01" : "00"), "BlockNumber Value=" + hex(block.blockNumber), "Result"]
                switch block.content {
                case .rawData(let raw): out.append("RawData Value=" + hex(raw))
                case .error(let e): out.append("DataAccessError Value=" + accessResult(e))
                }
            case .withList(let i, let results):
                out += ["GetResponseWithList", "InvokeIdAndPriority Value=" + hex(i.rawValue), "Result Qty=" + qty(results.count)]
                for r in results { out += getResult(r) }
            }
        case .setRequest(.normal(let i, let attribute, let access, let value)):
            out += ["SetRequest", "SetRequestNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue)]
            out += descriptor(attribute) + selection(access) + ["Value"] + data(value)
        case .setResponse(.normal(let i, let result)):
            out += ["SetResponse", "SetResponseNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue),
                    "Result Value=" + accessResult(result)]
        case .actionRequest(.normal(let i, let method, let parameters)):
            out += ["ActionRequest", "ActionRequestNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue), "MethodDescriptor",
                    "ClassId Value=" + hex(method.classID), "InstanceId Value=" + hex(method.instance.bytes),
                    "MethodId Value=" + hex(UInt8(bitPattern: method.methodID))]
            if let p = parameters { out += ["MethodInvocationParameters"] + data(p) }
        case .actionResponse(.normal(let i, let outcome)):
            out += ["ActionResponse", "ActionResponseNormal", "InvokeIdAndPriority Value=" + hex(i.rawValue),
                    "Result Value=" + (outcome.result == .success ? "Success" : hex(outcome.result.rawValue))]
            if let r = outcome.returnParameters { out += ["ReturnParameters"] + getResult(r) }
        case .ciphered(let x):
            out.append(gloName(x.tag) + " Value=" + hex(x.content.bytes))
        case .generalCiphered(let g):
            out += [g.isDedicated ? "GeneralDedCiphering" : "GeneralGloCiphering", "SystemTitle Value=" + hex(g.systemTitle),
                    "CipheredService Value=" + hex(g.content.bytes)]
        default:
            out.append("(not in the corpus: \(apdu.kindName))")
        }
        return out
    }

    static func qty(_ n: Int) -> String { n < 256 ? hex(UInt8(n)) : hex(UInt16(n)) }

    static func context(_ c: ApplicationContextName) -> String {
        switch c {
        case .logicalName: "LN"
        case .logicalNameWithCiphering: "LN_WITH_CIPHERING"
        case .shortName: "SN"
        default: "SN_WITH_CIPHERING"
        }
    }

    static func mechanism(_ m: MechanismName) -> String {
        switch m {
        case .lowest: "None"
        case .low: "Low"
        case .high: "High"
        case .highGMAC: "HighGmac"
        default: "mechanism \(m.rawValue)"
        }
    }

    /// Gurux's names of data-access results that occur in the corpus.
    static func accessResult(_ r: DataAccessResult) -> String {
        switch r {
        case .success: "Success"
        case .objectUndefined: "UndefinedObject"
        default: hex(r.rawValue)
        }
    }

    static func gloName(_ tag: CipheredServiceTag) -> String {
        let plain: String = switch tag.plaintextTag {
        case 1: "InitiateRequest"
        case 8: "InitiateResponse"
        case 192: "GetRequest"
        case 193: "SetRequest"
        case 195: "ActionRequest"
        case 196: "GetResponse"
        case 197: "SetResponse"
        case 199: "ActionResponse"
        default: "tag\(tag.rawValue)"
        }
        return (tag.isDedicated ? "ded_" : "glo_") + plain
    }

    static func user(_ u: UserInformation, inRelease: Bool) -> [String] {
        switch u {
        case .initiateRequest(let r): initiate(r)
        case .initiateResponse(let r): initiate(r, inRelease: inRelease)
        case .confirmedServiceError(let e): ["ConfirmedServiceError \(e)"]
        case .ciphered(let x): [gloName(x.tag) + " Value=" + hex(x.content.bytes)]
        }
    }

    /// Gurux spells conformance bits in CamelCase: `block-transfer-with-get-or-read` → `BlockTransferWithGetOrRead`.
    static func conformance(_ c: Conformance) -> [String] {
        c.names.map { name in
            "ConformanceBit Name=" + name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        }
    }

    static func initiate(_ r: InitiateRequest) -> [String] {
        ["InitiateRequest", "ProposedDlmsVersionNumber Value=" + hex(r.dlmsVersion), "ProposedConformance"]
            + conformance(r.conformance) + ["ProposedMaxPduSize Value=" + hex(r.maxReceivePDUSize)]
    }

    /// Gurux names the conformance of an InitiateResponse inside an RLRE `ProposedConformance`.
    static func initiate(_ r: InitiateResponse, inRelease: Bool) -> [String] {
        ["InitiateResponse", "NegotiatedDlmsVersionNumber Value=" + hex(r.dlmsVersion),
         inRelease ? "ProposedConformance" : "NegotiatedConformance"]
            + conformance(r.conformance)
            + ["NegotiatedMaxPduSize Value=" + hex(r.maxReceivePDUSize), "VaaName Value=" + hex(r.vaaName)]
    }

    static func descriptor(_ a: AttributeDescriptor) -> [String] {
        ["AttributeDescriptor", "ClassId Value=" + hex(a.classID), "InstanceId Value=" + hex(a.instance.bytes),
         "AttributeId Value=" + hex(UInt8(bitPattern: a.attributeID))]
    }

    static func selection(_ s: SelectiveAccess?) -> [String] {
        guard let s else { return [] }
        return ["AccessSelection", "AccessSelector Value=" + hex(s.selector), "AccessParameters"] + data(s.parameters)
    }

    static func getResult(_ r: GetDataResult) -> [String] {
        switch r {
        case .data(let d): ["Data"] + data(d)
        case .error(let e): ["DataAccessError Value=" + accessResult(e)]
        }
    }

    static func data(_ d: DLMSData) -> [String] {
        switch d {
        case .null: ["None"]
        case .array(let e): ["Array Qty=" + qty(e.count)] + e.flatMap(data)
        case .structure(let e): ["Structure Qty=" + qty(e.count)] + e.flatMap(data)
        case .boolean(let b): ["Boolean Value=" + (b ? "True" : "False")]
        case .doubleLong(let v): ["Int32 Value=" + hex(v)]
        case .doubleLongUnsigned(let v): ["UInt32 Value=" + hex(v)]
        case .octetString(let b): ["OctetString Value=" + hex(b)]
        case .visibleString(let b): ["String Value=" + String(decoding: b, as: UTF8.self)]
        case .integer(let v): ["Int8 Value=" + hex(v)]
        case .long(let v): ["Int16 Value=" + hex(v)]
        case .unsigned(let v): ["UInt8 Value=" + hex(v)]
        case .longUnsigned(let v): ["UInt16 Value=" + hex(v)]
        case .long64(let v): ["Int64 Value=" + hex(v)]
        case .long64Unsigned(let v): ["UInt64 Value=" + hex(v)]
        case .enumerated(let v): ["Enum Value=" + hex(v)]
        default: ["(not in the corpus: \(d.type))"]
        }
    }
}
