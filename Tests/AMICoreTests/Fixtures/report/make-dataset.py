#!/usr/bin/env python3
"""Writes the report test dataset (readings.jsonl, registry.jsonl) beside this script.

The figures the report tests expect are worked out by hand in ReportTests.swift from what is
written here; run this again only together with those expectations.

Hierarchy: ACME (company) > North, South (region) > North/B1 (building).
  E1  North/B1  hourly energy Wh, 2026-01-05 100+h, 2026-01-06 200+h; reactive registers
                1-0:5.8.0 (1000, 1500, 2000) and 1-0:8.8.0 (100, 150, 400) at midnights 5, 6, 7 Jan;
                terminal_cover_opened (tamper) 2026-01-05T13:00Z, power_failure 2026-01-06T02:00Z.
  E2  North     15-minute energy on 2026-01-05: 10 Wh each, 50 in the interval 18:00-18:15,
                10:00-10:30 left out (VEE interpolates them).
  E3  North     energy register at midnights 2025-12-28 .. 2026-01-07: +100 a day, +500 on 6 Jan.
  E4  North     one energy register reading, 2025-12-01 (not read since).
  W1  South     hourly volume m3, 5-7 Jan: 0.005 in the night (intervals starting 01-04 h),
                0.020 otherwise: a leak; permanent_error (fault) 2026-01-06T08:00Z.
  W2  South     hourly volume, 5-7 Jan: 0 at night, 0.010 otherwise, -0.002 at 12:00 on 6 Jan.
  W3  South     hourly volume on 5 Jan, all 0: zero consumption on an active meter.
"""
import datetime
import os

here = os.path.dirname(os.path.abspath(__file__))
out = []


def t(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def reading(meter, quantity, value, unit, time, interval=None, obis=None, protocol="dlms"):
    s = '{"type":"reading","v":1,"meter":"%s","quantity":"%s"' % (meter, quantity)
    if obis:
        s += ',"obis":"%s"' % obis
    s += ',"value":%s,"unit":"%s","time":"%s"' % (value, unit, t(time))
    if interval:
        s += ',"interval":%d' % interval
    s += ',"protocol":"%s","source":"report-dataset","frame":0}' % protocol
    out.append(s)


def event(meter, name, time, code=None, duration=None):
    s = '{"type":"event","v":1,"meter":"%s","event":"%s"' % (meter, name)
    if code:
        s += ',"code":"%s"' % code
    s += ',"time":"%s"' % t(time)
    if duration is not None:
        s += ',"duration":%d' % duration
    out.append(s + ',"protocol":"dlms","source":"report-dataset","frame":0}')


day1 = datetime.datetime(2026, 1, 5)
hour = datetime.timedelta(hours=1)
for d, base in ((0, 100), (1, 200)):
    for h in range(24):
        reading("E1", "energy", base + h, "Wh", day1 + datetime.timedelta(days=d) + (h + 1) * hour, 3600)
for k, (q5, q8) in enumerate(((1000, 100), (1500, 150), (2000, 400))):
    when = day1 + datetime.timedelta(days=k)
    reading("E1", "reactive_energy", q5, "varh", when, obis="1-0:5.8.0")
    reading("E1", "reactive_energy", q8, "varh", when, obis="1-0:8.8.0")
event("E1", "terminal_cover_opened", day1 + 13 * hour, code="0x28")
event("E1", "power_failure", day1 + 26 * hour, duration=60)

quarter = datetime.timedelta(minutes=15)
for i in range(96):
    if i in (40, 41):
        continue
    reading("E2", "energy", 50 if i == 72 else 10, "Wh", day1 + (i + 1) * quarter, 900)

value = 10000
start = datetime.datetime(2025, 12, 28)
for d in range(11):
    if d > 0:
        value += 500 if d == 10 else 100
    reading("E3", "energy", value, "Wh", start + datetime.timedelta(days=d), obis="1-0:1.8.0")
reading("E4", "energy", 4242, "Wh", datetime.datetime(2025, 12, 1, 6), obis="1-0:1.8.0")

for d in range(3):
    for h in range(24):
        night = 1 <= h <= 4
        end = day1 + datetime.timedelta(days=d) + (h + 1) * hour
        reading("W1", "volume", "0.005" if night else "0.020", "m3", end, 3600, protocol="mbus")
        w2 = "0.000" if night else ("-0.002" if (d, h) == (1, 12) else "0.010")
        reading("W2", "volume", w2, "m3", end, 3600, protocol="mbus")
        if d == 0:
            reading("W3", "volume", "0.000", "m3", end, 3600, protocol="mbus")
event("W1", "permanent_error", day1 + 32 * hour, code="0x10")

with open(os.path.join(here, "readings.jsonl"), "w") as f:
    f.write("\n".join(out) + "\n")

registry = [
    '{"type":"node","v":1,"path":"ACME","level":"company"}',
    '{"type":"node","v":1,"path":"ACME/North","level":"region"}',
    '{"type":"node","v":1,"path":"ACME/North/B1","level":"building"}',
    '{"type":"node","v":1,"path":"ACME/South","level":"region"}',
]
for meter, node, medium in (("E1", "ACME/North/B1", "electricity"), ("E2", "ACME/North", "electricity"),
                            ("E3", "ACME/North", "electricity"), ("E4", "ACME/North", "electricity"),
                            ("W1", "ACME/South", "water"), ("W2", "ACME/South", "water"),
                            ("W3", "ACME/South", "water")):
    registry.append('{"type":"meter","v":1,"meter":"%s","medium":"%s","multiplier":1,"status":"active","node":"%s"}'
                    % (meter, medium, node))
with open(os.path.join(here, "registry.jsonl"), "w") as f:
    f.write("\n".join(registry) + "\n")
