#!/usr/bin/env python3
"""Wraps the text lines of mdoc pages at 80 columns (macro lines are left alone)."""
import sys, textwrap

for path in sys.argv[1:]:
    out = []
    in_literal = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.startswith(".Bd"):
            in_literal = True
        if line.startswith(".Ed"):
            in_literal = False
        if in_literal or line.startswith((".", "'")) or len(line) <= 80:
            out.append(line)
            continue
        parts = textwrap.wrap(line, 80, break_long_words=False, break_on_hyphens=False)
        fixed = []
        for p in parts:
            if fixed and p.startswith((".", "'")):
                fixed[-1] += " " + p.split(" ", 1)[0]
                rest = p.split(" ", 1)[1] if " " in p else ""
                if rest:
                    fixed.append(rest)
            else:
                fixed.append(p)
        out.extend(fixed)
    open(path, "w", encoding="utf-8").write("\n".join(out))
