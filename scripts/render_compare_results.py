"""The results of `make demo` as the docs quote them, from the committed results files:

- ``docs/compare/summary.json``: ``runs/compare/summary.json`` of a full `make demo` (copy it with
  the figures: ``cp runs/compare/{summary.json,curves.png,recipes.png,shift.png} docs/compare/``);
- ``docs/compare/stability.json``: ``scripts/compare_stability.py`` with and without clipping.

docs/compare.md includes them at build time (docs/hooks.py); the README's block between
``<!-- compare-results:start -->`` and ``<!-- compare-results:end -->`` is written by

    python scripts/render_compare_results.py            # rewrite the README block
    python scripts/render_compare_results.py --check    # exit status 1 if it is stale

and tests/test_docs.py fails when a figure of either page is not in these files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUMMARY = ROOT / "docs" / "compare" / "summary.json"
STABILITY = ROOT / "docs" / "compare" / "stability.json"
README = ROOT / "README.md"
START, END = "<!-- compare-results:start -->", "<!-- compare-results:end -->"


def _summary() -> dict:
    return json.loads(SUMMARY.read_text())


def compare_results() -> str:
    """The full results section of docs/compare.md."""
    from augkit.experiments.report import summary_markdown

    summary = _summary()
    return (summary_markdown(summary, title=None)
            + "\n![Learning curves of every recipe](compare/curves.png)\n\n"
            + "![What each recipe does to a few training images](compare/recipes.png)\n\n"
            + ("![Test accuracy per corruption and severity](compare/shift.png)\n"
               if summary["settings"].get("shift") else ""))


def readme_block() -> str:
    """The README's short form: where it ran and the verdict."""
    from augkit.experiments.report import verdict

    summary = _summary()
    done = sum(len(entry["runs"]) for entry in summary["recipes"])
    status = {"complete": "complete", "interrupted": "interrupted",
              "budget": f"stopped by its budget after {done} of {done + len(summary['skipped'])} runs"}
    lines = [f"The last `make demo` run ({status[summary['status']]}, {summary['elapsed_seconds'] / 60:.1f} min; "
             f"machine: {summary['machine']}):", "", *(f"> {line}\n" for line in verdict(summary))]
    return "\n".join(lines)


def compare_stability() -> str:
    """The gradient-clipping check: the lowest and the final validation accuracy of each run."""
    record = json.loads(STABILITY.read_text())
    lines = ["| gradient clipping | recipe | seed | lowest val acc % (epoch) | final val acc % | final test acc % |",
             "|---|---|---:|---:|---:|---:|"]
    for run in record["runs"]:
        epoch, _, low = min((c for c in run["curve"] if c[2] is not None), key=lambda c: c[2])
        clip = "none" if run["clip"] is None else f"norm {run['clip']}"
        lines.append(f"| {clip} | {run['recipe']} | {run['seed']} | {100 * low:.1f} ({epoch}) | "
                     f"{100 * run['val']:.1f} | {100 * run['test']:.1f} |")
    return "\n".join(lines)


def render_readme(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{readme_block()}\n{END}{tail}"


if __name__ == "__main__":
    current = README.read_text()
    wanted = render_readme(current)
    if "--check" in sys.argv[1:]:
        sys.exit(0 if current == wanted else 1)
    README.write_text(wanted)
