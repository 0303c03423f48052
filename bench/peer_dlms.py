#!/usr/bin/env python3
"""Benchmark body for the Python DLMS peers (run by bench/run with the .venv-dlms python).

    peer_dlms.py {gurux|dlms-cosem} APDUS.hex KEYFILE STATS.json

Decodes every line of APDUS.hex (one bare xDLMS or ACSE APDU a line, as bench/make_inputs.py
writes them from the DLMS corpus) and writes each APDU's decoded form to stdout (bench/run sends
it to /dev/null), so the work matches ``ami-decode --protocol dlms > /dev/null``: decipher where
needed, decode, serialise.

Ciphered service APDUs (glo- tags 0xC8-0xCF, general-glo-ciphering 0xDB) are deciphered first,
with the ek and ak of KEYFILE (``name = value`` lines, the format of ami's key files) and the
sender's system title: the one in a general-glo-ciphering APDU, else the calling AP title of the
last AARQ for requests and the responding AP title of the last AARE for responses, as ami-decode
does. AARQ, AARE and releases are decoded as they are (ami-decode does not decipher their
initiate either).

* gurux: ``GXCiphering.decrypt`` (gurux-dlms 1.0.203) for ciphered APDUs, then
  ``GXDLMSTranslator(SIMPLE_XML).pduToXml``, the library's own XML of the APDU (data values
  decoded).
* dlms-cosem: ``dlms_cosem.security.decrypt`` (dlms-cosem 25.1.0) for ciphered APDUs; their
  security header is split off here, since the library parses general-glo-ciphering but not the
  service-specific glo- APDUs. Then ``XDlmsApduFactory.apdu_from_bytes`` and the ``repr`` of the
  parsed APDU (attrs classes: every field). The library keeps the data of GET responses and SET
  and ACTION requests as bytes; ``dlms_cosem.utils.parse_as_dlms_data`` decodes it here, as the
  other decoders do.

Both: the raw data of GET responses with data blocks is joined here, and the library's data
decoder (gurux ``dataToXml``, dlms-cosem ``parse_as_dlms_data``) decodes it at the last block,
as ami-decode does. dlms-cosem 25.1.0 cannot decipher APDUs protected
  with authentication only (security control 0x10: it takes the plaintext for ciphertext) and
  cannot parse GET requests with an entry descriptor; those count as failed.

An APDU the peer rejects (an exception) is counted, not fatal. STATS.json gets frames (APDUs),
records (APDUs decoded), deciphered, failed, failed_frames ({"tag 0xTT Exception": {count,
error}}) and loop_seconds (the decode loop only, without start-up).
"""
import json
import sys
import time

GLO_REQUEST_TAGS = {0xC8, 0xC9, 0xCA, 0xCB}
GLO_RESPONSE_TAGS = {0xCC, 0xCD, 0xCE, 0xCF}
GENERAL_GLO = 0xDB


def read_keys(path):
    keys = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            keys[name.strip().lower()] = bytes.fromhex(value.strip())
    return keys["ek"], keys["ak"]


def ap_title(apdu, tag):
    """The AP title (BER element `tag`, holding an octet string) of an AARQ (0xA6) or AARE (0xA4)."""
    i = 2
    while i + 2 <= len(apdu):
        t, n = apdu[i], apdu[i + 1]
        if t == tag and n >= 2 and apdu[i + 2] == 0x04:
            return bytes(apdu[i + 4:i + 4 + apdu[i + 3]])
        i += 2 + n
    return None


def security_header(apdu):
    """(system title or None, security control, invocation counter, ciphertext with tag) of a
    glo- or general-glo-ciphering APDU (A-XDR lengths, DLMS UA 1000-2 §9.2.7.2)."""
    i = 1
    title = None
    if apdu[0] == GENERAL_GLO:
        n, i = axdr_length(apdu, i)
        title = bytes(apdu[i:i + n])
        i += n
    n, i = axdr_length(apdu, i)
    body = apdu[i:i + n]
    return title, body[0], int.from_bytes(body[1:5], "big"), bytes(body[5:])


def axdr_length(apdu, i):
    """An A-XDR length at apdu[i]: (length, index after it)."""
    n = apdu[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(apdu[i + 1:i + 1 + k], "big"), i + 1 + k


def data_block(apdu):
    """(last block, raw data) of a get-response-with-datablock carrying raw data, else None
    (tag, choice, invoke-id-and-priority, last-block, block-number, raw-data choice 0)."""
    if len(apdu) > 9 and apdu[0] == 0xC4 and apdu[1] == 0x02 and apdu[8] == 0x00:
        n, i = axdr_length(apdu, 9)
        return apdu[3] != 0, apdu[i:i + n]
    return None


def main():
    lib, apdus_path, key_path, stats_path = sys.argv[1:5]
    ek, ak = read_keys(key_path)
    write = sys.stdout.write

    if lib == "gurux":
        from gurux_dlms import GXByteBuffer, GXDLMSSettings, GXDLMSTranslator
        from gurux_dlms.AesGcmParameter import AesGcmParameter
        from gurux_dlms.GXCiphering import GXCiphering
        from gurux_dlms.enums import TranslatorOutputType

        translator = GXDLMSTranslator(TranslatorOutputType.SIMPLE_XML)
        translator.comments = False

        def decipher(apdu, title):
            settings = GXDLMSSettings(False, None)
            settings.cipher = GXCiphering(bytearray(title))
            settings.cipher.blockCipherKey = bytearray(ek)
            settings.cipher.authenticationKey = bytearray(ak)
            settings.sourceSystemTitle = bytearray(title)
            p = AesGcmParameter(0, bytearray(title), settings.cipher.blockCipherKey, settings.cipher.authenticationKey)
            return bytes(GXCiphering.decrypt(settings, p, GXByteBuffer(bytearray(apdu))))

        def decode(apdu):
            write(translator.pduToXml(GXByteBuffer(bytearray(apdu))))
            write("\n")

        def decode_data(data):
            write(translator.dataToXml(GXByteBuffer(bytearray(data))))
            write("\n")
    elif lib == "dlms-cosem":
        from dlms_cosem.connection import XDlmsApduFactory
        from dlms_cosem.protocol.xdlms import ActionRequestNormal, GetResponseNormal, SetRequestNormal
        from dlms_cosem.security import SecurityControlField, decrypt
        from dlms_cosem.utils import parse_as_dlms_data

        with_data = (GetResponseNormal, SetRequestNormal, ActionRequestNormal)

        def decipher(apdu, title):
            _, control, counter, text = security_header(apdu)
            return decrypt(SecurityControlField.from_bytes(bytes([control])), title, counter, ek, text, ak)

        def decode(apdu):
            parsed = XDlmsApduFactory.apdu_from_bytes(bytes(apdu))
            write(repr(parsed))
            write("\n")
            if isinstance(parsed, with_data) and parsed.data:
                decode_data(parsed.data)

        def decode_data(data):
            write(repr(parse_as_dlms_data(bytes(data))))
            write("\n")
    else:
        sys.exit("peer_dlms: unknown library %s (gurux or dlms-cosem)" % lib)

    frames = records = deciphered = failed = 0
    failed_frames = {}
    client_title = server_title = None
    blocks = bytearray()
    start = time.perf_counter()
    for line in open(apdus_path):
        line = line.strip()
        if not line:
            continue
        frames += 1
        try:
            apdu = bytes.fromhex(line)
            tag = apdu[0]
            if tag == 0x60:
                client_title = ap_title(apdu, 0xA6) or client_title
            elif tag == 0x61:
                server_title = ap_title(apdu, 0xA4) or server_title
            elif tag == GENERAL_GLO or tag in GLO_REQUEST_TAGS or tag in GLO_RESPONSE_TAGS:
                title = security_header(apdu)[0] if tag == GENERAL_GLO else \
                    client_title if tag in GLO_REQUEST_TAGS else server_title
                apdu = decipher(apdu, title)
                deciphered += 1
            decode(apdu)
            block = data_block(apdu)
            if block:
                blocks += block[1]
                if block[0]:
                    joined = bytes(blocks)
                    blocks.clear()
                    decode_data(joined)
            records += 1
        except Exception as e:
            failed += 1
            name = "tag 0x%s %s" % (line[:2], type(e).__name__)
            entry = failed_frames.setdefault(name, {"count": 0, "error": "%s: %s" % (type(e).__name__, e)})
            entry["count"] += 1
    stats = {"frames": frames, "records": records, "deciphered": deciphered, "failed": failed,
             "failed_frames": failed_frames, "loop_seconds": round(time.perf_counter() - start, 3)}
    with open(stats_path, "w") as f:
        json.dump(stats, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
