#!/usr/bin/env python3
"""Inputs for bench/bill (standard library only).

    make_bill_inputs.py METERS DAYS POPULATE_SQL SQL_BILL

Writes POPULATE_SQL, which fills an ami-store database (schema 2, made by ami-bill) with METERS
meters, one 15-minute energy channel each (Wh) and DAYS days of interval readings from
2026-06-01T00:00:00+02:00 (local midnight in Europe/Amsterdam), values 50 to 449 Wh as bench/store
makes them, and a postpaid account per meter on tariff home-tou (samples/tariffs/home-tou.json).

Writes SQL_BILL: the same monthly bill as one SQL query for the sqlite3 CLI. The time-of-use
calendar (which quarter-hour is day or night in Europe/Amsterdam, DST included) is a table made
here with zoneinfo; the query sums each meter's Wh by period and prices them as ami-bill does:
day 0.30 and night 0.20 EUR/kWh, each line rounded half up to cents, 0.50 a day standing charge,
VAT 21 % of the subtotal rounded half up. It prints meter and total (cents).
"""
import datetime
import sys
import zoneinfo


def main():
    meters, days, populate, bill = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    zone = zoneinfo.ZoneInfo("Europe/Amsterdam")
    start_local = datetime.datetime(2026, 6, 1, tzinfo=zone)
    start = int(start_local.timestamp() * 1000)
    end_local = (start_local + datetime.timedelta(days=days)).replace(tzinfo=None).replace(tzinfo=zone)
    end = int(end_local.timestamp() * 1000)
    slots = (end - start) // 900_000
    with open(populate, "w") as p:
        p.write(f"""PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
PRAGMA cache_size=-262144;
BEGIN;
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i + 1 < {meters})
INSERT INTO meter(id, identity, medium, registered) SELECT i + 1, printf('BEN-%08d-01-02', i), 'electricity', 'import' FROM m;
INSERT INTO channel(id, meter, quantity, obis, unit, interval, exponent)
    SELECT id, id, 'energy', '1-0:1.29.0', 'Wh', 900, 0 FROM meter;
INSERT INTO account(name, meter, tariff, mode, opened) SELECT identity, id, 'home-tou', 'postpaid', {start} FROM meter;
WITH RECURSIVE s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k + 1 < {slots})
INSERT INTO reading(channel, time, value, exponent, quality)
    SELECT c.id, {start} + (s.k + 1) * 900000, 50 + ((c.id - 1) * 7 + (s.k % 96) * 13 + s.k / 96) % 400, 0, 0
    FROM channel c, s ORDER BY c.id, s.k;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
""")
    with open(bill, "w") as b:
        b.write("CREATE TEMP TABLE slot(start INTEGER PRIMARY KEY, day INTEGER NOT NULL) WITHOUT ROWID;\nBEGIN;\n")
        for k in range(slots):
            t = start + k * 900_000
            local = datetime.datetime.fromtimestamp(t / 1000, zone)
            day = 1 if local.weekday() < 5 and 7 <= local.hour < 23 else 0
            b.write(f"INSERT INTO slot VALUES ({t}, {day});\n")
        b.write(f"""COMMIT;
.mode csv
SELECT meter, subtotal + (subtotal * 21 + 50) / 100 AS total FROM (
    SELECT m.identity AS meter,
           (sum(CASE WHEN s.day = 1 THEN r.value ELSE 0 END) * 30 + 500) / 1000
         + (sum(CASE WHEN s.day = 0 THEN r.value ELSE 0 END) * 20 + 500) / 1000
         + {days} * 50 AS subtotal
    FROM reading r JOIN channel c ON c.id = r.channel JOIN meter m ON m.id = c.meter
    JOIN slot s ON s.start = r.time - c.interval * 1000
    WHERE c.quantity = 'energy' AND c.interval > 0 AND r.time > {start} AND r.time <= {end}
    GROUP BY m.id
) ORDER BY meter;
""")


if __name__ == "__main__":
    main()
