#!/usr/bin/env python3
"""Reads a CSV file with Python's csv module (RFC 4180 dialect "excel": comma, double quote,
CRLF) as UTF-8 and prints each record as one JSON array of strings. Usage: csv_read.py FILE.csv
"""
import csv
import json
import sys

with open(sys.argv[1], newline="", encoding="utf-8") as f:
    for record in csv.reader(f, dialect="excel", strict=True):
        print(json.dumps(record, ensure_ascii=False))
