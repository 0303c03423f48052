#!/usr/bin/env python3
"""Inputs for bench/store (standard library only).

    make_store_inputs.py METERS DAYS JSONL CSV

Writes 15-minute interval readings of METERS meters over DAYS days from 2026-01-01T00:00:00Z,
day by day and meter by meter (the order a head-end collects daily load profiles in), as
ami-jsonl(5) reading lines to JSONL and the same rows as CSV (meter,quantity,time,value,interval)
to CSV. Values are 50 to 449 Wh, varied by meter, interval and day.
"""
import datetime
import sys


def main():
    meters, days, jsonl, csv = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    step = datetime.timedelta(minutes=15)
    with open(jsonl, "w") as j, open(csv, "w") as c:
        for d in range(days):
            times = [(start + (d * 96 + i + 1) * step).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(96)]
            for m in range(meters):
                meter = "BEN-%08d-01-02" % m
                head = ('{"type":"reading","v":1,"meter":"%s","medium":"electricity","quantity":"energy",'
                        '"obis":"1-0:1.29.0","value":' % meter)
                tail = ',"interval":900,"protocol":"mbus","source":"bench","frame":%d}\n' % d
                values = [50 + (m * 7 + i * 13 + d) % 400 for i in range(96)]
                j.write("".join('%s%d,"unit":"Wh","time":"%s"%s' % (head, v, t, tail) for v, t in zip(values, times)))
                c.write("".join("%s,energy,%s,%d,900\n" % (meter, t, v) for v, t in zip(values, times)))


if __name__ == "__main__":
    main()
