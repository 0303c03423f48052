#!/usr/bin/env python3
"""The Python side of bench/export: the same reading rows written by Python's csv module and by
XlsxWriter in constant_memory mode (rows streamed to disk, the way ami-export streams).

    peer_export.py csv|xlsx IN.jsonl OUT

Reads ami-jsonl(5) reading lines and writes the columns ami-export writes for readings, in the
same order: numbers as numbers, times as date cells (XLSX, format yyyy-mm-dd hh:mm:ss) or ISO
text (CSV), a bold frozen header with an autofilter (XLSX). json.loads reads numbers as Python
int or float, which is what either library is given in practice.
"""
import csv
import datetime
import json
import sys

COLUMNS = ["type", "v", "meter", "medium", "quantity", "obis", "value", "text", "unit", "time", "interval",
           "storage", "tariff", "subunit", "function", "record", "note", "quality", "protocol", "source", "frame"]


def rows(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def write_csv(src, dst):
    with open(dst, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows(src):
            q = r.get("quality")
            if q is not None:
                r["quality"] = " ".join(q)
            w.writerow(["" if r.get(c) is None else r[c] for c in COLUMNS])


def write_xlsx(src, dst):
    import xlsxwriter
    wb = xlsxwriter.Workbook(dst, {"constant_memory": True})
    ws = wb.add_worksheet("reading")
    bold = wb.add_format({"bold": True})
    date = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.freeze_panes(1, 0)
    for i, c in enumerate(COLUMNS):
        ws.write_string(0, i, c, bold)
    n = 0
    for n, r in enumerate(rows(src), start=1):
        for i, c in enumerate(COLUMNS):
            v = r.get(c)
            if v is None:
                continue
            if c == "time":
                t = datetime.datetime.strptime(v[:19], "%Y-%m-%dT%H:%M:%S")
                ws.write_datetime(n, i, t, date)
            elif c == "quality":
                ws.write_string(n, i, " ".join(v))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                ws.write_number(n, i, v)
            else:
                ws.write_string(n, i, str(v))
    ws.autofilter(0, 0, n, len(COLUMNS) - 1)
    wb.close()


if __name__ == "__main__":
    {"csv": write_csv, "xlsx": write_xlsx}[sys.argv[1]](sys.argv[2], sys.argv[3])
