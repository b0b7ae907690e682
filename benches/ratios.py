#!/usr/bin/env python3
"""Print a criterion group's results as throughput and as ratios to its
`bare_*` baseline measured in the same run.

    cargo bench --bench verify && python3 benches/ratios.py verify
"""
import json
import pathlib
import sys

group = sys.argv[1] if len(sys.argv) > 1 else "verify"
root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion" / group
rows = {}
for estimates in root.glob("*/*/new/estimates.json"):
    bench, size = estimates.parts[-4], int(estimates.parts[-3])
    mean_ns = json.loads(estimates.read_text())["mean"]["point_estimate"]
    rows.setdefault(size, {})[bench] = mean_ns

baselines = [b for b in next(iter(rows.values()), {}) if b.startswith("bare")]
if not baselines:
    sys.exit(f"no results under {root}; run `cargo bench --bench {group}` first")
base = baselines[0]
print(f"| size | bench | mean | throughput | ratio to {base} |")
print("|---:|---|---:|---:|---:|")
for size in sorted(rows):
    for bench, ns in sorted(rows[size].items(), key=lambda kv: kv[1]):
        mib_s = size / (ns / 1e9) / (1 << 20)
        print(f"| {size} B | {bench} | {ns / 1000:.2f} µs | {mib_s:.0f} MiB/s | {ns / rows[size][base]:.3f} |")
