"""The benchmark plot: augkit's speed over each peer's, per task, from a results file.

    python benchmarks/plot.py benchmarks/results.json -o ratios.png

One line per task and peer, one dot per thread setting, on a log axis with 1 (a tie) marked;
the docs build draws it from ``benchmarks/results.json`` above the table (``docs/hooks.py``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from augkit.viz import blank_figure  # noqa: E402
from benchmarks.harness import Row, read_json  # noqa: E402

MARKERS = ("o", "s", "^", "D")


def ratio_figure(rows: list[Row]):
    """A figure of ``augkit / peer`` images/s for every row with a ratio."""
    compared = [r for r in rows if r.ratio is not None]
    lines = list(dict.fromkeys((r.task, r.library) for r in compared))
    threads = list(dict.fromkeys(r.threads for r in compared))
    figure = blank_figure(12, 0.8 + 0.2 * len(lines))
    ax = figure.subplots()
    position = {line: len(lines) - 1 - i for i, line in enumerate(lines)}
    for k, count in enumerate(threads):
        points = [(r.ratio, position[(r.task, r.library)]) for r in compared if r.threads == count]
        ax.scatter(*zip(*points), marker=MARKERS[k % len(MARKERS)], s=22, zorder=3,
                   label=f"{count} thread{'s' if count != '1' else ''}")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(range(len(lines)), [f"{task}  vs {library}" for task, library in reversed(lines)], fontsize=7)
    ax.set_ylim(-0.7, len(lines) - 0.3)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.grid(axis="y", alpha=0.15)
    ax.set_xlabel("augkit images/s over the peer's (log scale; right of 1: augkit faster)")
    ax.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="a results.json of benchmarks/run.py --out")
    parser.add_argument("-o", "--output", type=Path, default=Path("ratios.png"), help="the PNG to write")
    args = parser.parse_args(argv)
    _, rows = read_json(args.results)
    ratio_figure(rows).savefig(args.output, format="png")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
