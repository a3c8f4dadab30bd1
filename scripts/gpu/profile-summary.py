#!/usr/bin/env python3
"""Summarizes ORT profile JSON files: time per op type and the slowest nodes (per file)."""
import collections, json, sys
for path in sys.argv[1:]:
    ev = json.load(open(path))
    by_op, by_node, total = collections.Counter(), collections.Counter(), 0
    runs = [e for e in ev if e.get("name") == "model_run"]
    for e in ev:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            by_op[op] += e["dur"]; by_node[(op, e["name"][:-12], e.get("args", {}).get("provider", ""))] += e["dur"]; total += e["dur"]
    print(f"== {path}: {len(runs)} runs, model_run us {[r['dur'] for r in runs]}, kernel total us {total}")
    for op, d in by_op.most_common(25): print(f"  {op:28s} {d/1000:10.1f} ms")
    print("  -- slowest nodes")
    for (op, n, prov), d in by_node.most_common(15): print(f"  {d/1000:10.1f} ms  {op:20s} {prov:22s} {n[:90]}")
