"""MkDocs hooks of the augkit docs.

- ``<!-- transforms -->`` expands into one section per registered transform: its reference from
  the docstring, headed by its signature (no base classes: they are private helpers, and every
  transform is a ``Transform``), then its gallery image; so the page can't miss one.
- ``<!-- benchmark-results -->`` expands into the machine, the plot of augkit's speed over each
  peer's, the rows where augkit is slower than a peer, and the table, from
  ``benchmarks/results.json`` (``benchmarks/plot.py``); ``<!-- benchmark-previous -->`` into
  augkit's speed over the previous version's, from ``benchmarks/previous.json``;
  ``<!-- fused-decode -->`` into the fused decode's difference to the unfused pipeline per DCT
  scale and the JPEG bindings' speeds, from ``benchmarks/fused_decode.json``
  (``benchmarks/fused_decode.py``).
- ``<!-- compare-results -->`` expands into the results of ``make demo`` (the machine, the table
  with the paired gains and their 95% CIs, the verdict and the shift table) from the committed
  ``docs/compare/summary.json`` (:func:`augkit.experiments.report.summary_markdown`), and
  ``<!-- compare-stability -->`` into the gradient-clipping check of ``docs/compare/stability.json``
  (``scripts/compare_stability.py``); ``scripts/render_compare_results.py`` writes the same verdict
  into the README.
- ``<!-- support-table -->`` expands into what each transform supports: the input kinds, dtypes
  and channel counts of its cases in ``tests/registry.py``, which the contract tests run.
- The gallery images and the figures of other pages (``docs/make_gallery.py``, as
  ``gallery/<name>.png``) and the benchmark plot are rendered into the
  site at every build, never into the source tree.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

import augkit

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS.parent / "benchmarks" / "results.json"
PREVIOUS = DOCS.parent / "benchmarks" / "previous.json"
FUSED_DECODE = DOCS.parent / "benchmarks" / "fused_decode.json"
BENCHMARK_PLOT = "assets/benchmark-ratios.png"
sys.path[:0] = [str(DOCS), str(DOCS.parent)]

import make_gallery  # noqa: E402
from scripts.render_compare_results import compare_results, compare_stability  # noqa: E402
from benchmarks.fused_decode import markdown as fused_decode_tables  # noqa: E402
from benchmarks.harness import markdown as results_table, read_json  # noqa: E402
from benchmarks.plot import ratio_figure  # noqa: E402
from benchmarks.run import compare  # noqa: E402
from tests.registry import CASES  # noqa: E402

KIND_NAMES = {"pil": "PIL", "numpy": "NumPy", "tensor": "tensor"}


def _module_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def on_files(files: Files, config) -> Files:
    for name in [*make_gallery.GALLERY, *make_gallery.FIGURES]:
        files.append(File.generated(config, f"gallery/{name}.png", content=make_gallery.render(name)))
    plot = io.BytesIO()
    ratio_figure(read_json(RESULTS)[1]).savefig(plot, format="png")
    files.append(File.generated(config, BENCHMARK_PLOT, content=plot.getvalue()))
    return files


def _benchmark_results() -> str:
    results, rows = read_json(RESULTS)
    slower = [f"- {r.task} ({r.threads} thread(s)): {r.ratio:.2f}x {r.library}" for r in rows
              if r.ratio is not None and r.ratio < 1.0]
    runs = f", each row the best of {results['merged_runs']} runs" if results.get("merged_runs") else ""
    return (f"Machine: {results['machine']}{runs}\n\nPeers: {results['peers']}\n\n## Results\n\n"
            f"![augkit images/s over each peer's, per task and thread count]({BENCHMARK_PLOT})\n\n"
            f"Rows where augkit is slower than a peer:\n\n" + ("\n".join(slower) or "- none") + "\n\n"
            f"{results_table(rows, results['notes'])}\n")


def _benchmark_previous() -> str:
    if not PREVIOUS.exists():
        return "No previous run is published."
    _, rows = read_json(RESULTS)
    return compare(rows, PREVIOUS).replace(f"augkit against {PREVIOUS}:", "augkit now over the previous version:")


def _covered(cases: list, field: str) -> list:
    """The values of ``field`` over ``cases``, in a stable order."""
    return sorted({value for case in cases for value in getattr(case, field)}, key=str)


def support_table() -> str:
    """One row per registered transform: what its contract-test cases cover, all of them together
    (every case runs per-sample parameters on batches, and CUDA batches on a machine with CUDA)."""
    cases: dict[str, list] = {}
    for case in CASES:
        cases.setdefault(case.id.split("[")[0], []).append(case)
    lines = ["| transform | input kinds | dtypes | channels | tensor devices | batches (BCHW) |",
             "|---|---|---|---|---|---|"]
    for name, cls in augkit.registered_transforms().items():
        if name not in cases:
            continue
        kinds = [kind for kind in KIND_NAMES if kind in _covered(cases[name], "kinds")]
        tensors = "tensor" in kinds
        lines.append(f"| [{name}](transforms.md#{_module_path(cls)}) | {', '.join(KIND_NAMES[k] for k in kinds)} "
                     f"| {', '.join(_covered(cases[name], 'dtypes'))} "
                     f"| {', '.join(map(str, _covered(cases[name], 'channels')))} "
                     f"| {'CPU, CUDA' if tensors else '-'} | {'per-sample parameters' if tensors else '-'} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs signature
    if "<!-- compare-results -->" in markdown:
        markdown = markdown.replace("<!-- compare-stability -->", compare_stability())
        return markdown.replace("<!-- compare-results -->", compare_results())
    if "<!-- support-table -->" in markdown:
        return markdown.replace("<!-- support-table -->", support_table())
    if "<!-- benchmark-results -->" in markdown:
        fused = fused_decode_tables(json.loads(FUSED_DECODE.read_text()))
        markdown = markdown.replace("<!-- fused-decode -->", fused)
        markdown = markdown.replace("<!-- benchmark-previous -->", _benchmark_previous())
        return markdown.replace("<!-- benchmark-results -->", _benchmark_results())
    if "<!-- transforms -->" not in markdown:
        return markdown
    sections = [
        f"::: {_module_path(cls)}\n    options:\n      heading_level: 2\n      show_root_full_path: false\n"
        f"      show_bases: false\n"
        f"      members: false\n\n![{name}: the original, then samples](gallery/{name}.png)\n"
        for name, cls in augkit.registered_transforms().items()
    ]
    return markdown.replace("<!-- transforms -->", "\n".join(sections))
