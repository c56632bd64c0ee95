"""Merge repeated runs of the same code into one results file: each row at its best images/s.

    python benchmarks/merge.py runs/new-1/results.json runs/new-2/results.json -o runs/new/results.json

A busy machine only ever slows a run down, so the fastest of a few runs, taken in turns with the
code it is compared with, is the least disturbed measurement of each row. The ratios to the peers
are recomputed from the merged figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import AUGKIT, Row, read_json  # noqa: E402


def best_rows(runs: list[list[Row]]) -> list[Row]:
    """The rows of the first run, each at its highest images/s over ``runs``, with the ratios of
    augkit over the peers recomputed."""
    best: dict[tuple[str, str, str], float] = {}
    for rows in runs:
        for r in rows:
            key = (r.task, r.threads, r.library)
            best[key] = max(best.get(key, 0.0), r.images_per_s)
    merged = []
    for r in runs[0]:
        speed, ours = best[(r.task, r.threads, r.library)], best.get((r.task, r.threads, AUGKIT))
        ratio = None if r.library == AUGKIT or ours is None else ours / speed
        merged.append(Row(r.task, r.library, r.threads, speed, ratio))
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+", help="results.json files of benchmarks/run.py --out")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the merged results.json to write")
    args = parser.parse_args(argv)
    first, _ = read_json(args.runs[0])
    merged = best_rows([read_json(path)[1] for path in args.runs])
    payload = {**first, "rows": [r.__dict__ for r in merged], "merged_runs": len(args.runs)}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.output}: {len(merged)} rows, best of {len(args.runs)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
