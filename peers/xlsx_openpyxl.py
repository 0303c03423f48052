#!/usr/bin/env python3
"""Reads an XLSX workbook with openpyxl (pinned in scripts/requirements-peers.txt) and prints
what a spreadsheet user would get, one JSON line per cell row:

    {"sheet": NAME, "row": N, "cells": [[TYPE, VALUE], ...]}

TYPE is the Python type openpyxl returns: "int", "float", "str", "bool", "datetime" or "none".
VALUE is written without going through JSON floats: an int or str as is, a float as repr()
(the shortest text that reads back as the same double), a datetime as ISO 8601 with "Z"
(openpyxl gives naive datetimes; ami writes UTC). After the rows of each sheet a line
{"sheet": NAME, "frozen": "A2", "filter": "A1:U49", "bold_header": true, "widths": {...}}
describes the layout. Usage: xlsx_openpyxl.py FILE.xlsx
"""
import datetime
import json
import sys

import openpyxl


def cell(v):
    if v is None:
        return ["none", None]
    if isinstance(v, bool):
        return ["bool", v]
    if isinstance(v, int):
        return ["int", str(v)]
    if isinstance(v, float):
        return ["float", repr(v)]
    if isinstance(v, datetime.datetime):
        text = v.isoformat(timespec="milliseconds")
        if text.endswith(".000"):
            text = text[:-4]
        return ["datetime", text + "Z"]
    return [type(v).__name__, str(v)]


def main():
    wb = openpyxl.load_workbook(sys.argv[1])
    for ws in wb.worksheets:
        for n, row in enumerate(ws.iter_rows(values_only=True), start=1):
            print(json.dumps({"sheet": ws.title, "row": n, "cells": [cell(v) for v in row]}))
        widths = {k: d.width for k, d in ws.column_dimensions.items() if d.width}
        print(json.dumps({"sheet": ws.title, "frozen": ws.freeze_panes, "filter": ws.auto_filter.ref,
                          "bold_header": all(c.font.b for c in ws[1] if c.value is not None),
                          "widths": widths}))


if __name__ == "__main__":
    main()
