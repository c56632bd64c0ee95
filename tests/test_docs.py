"""The docs can't rot: every Python block in README.md and docs/*.md runs on its own, and the site
builds with `mkdocs build --strict`."""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import augkit

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(f"_scripts_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BLOCKS = _load_script("run_code_blocks")
CASES = [(page, i, code) for page in PAGES for i, code in enumerate(BLOCKS.code_blocks(page))]


@pytest.mark.parametrize(("page", "index", "code"), CASES, ids=[f"{p.name}[{i}]" for p, i, _ in CASES])
def test_each_code_block_runs_on_its_own(page, index, code):
    """Users copy one block at a time: each runs alone, in a fresh namespace and folder."""
    BLOCKS.run_block(code, f"{page.name}[block {index}]")


CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|exc|obj):`")


@pytest.mark.slow
def test_site_builds_strictly_and_renders(tmp_path):
    """The built site as a reader sees it: doctests in code blocks, no reST roles, a signature and
    one contents entry per transform, no private bases, the gallery and the benchmark plot."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    pages = {path.relative_to(tmp_path).as_posix(): path.read_text() for path in tmp_path.rglob("*.html")}
    for name, html in pages.items():
        prose = CODE.sub("", html)
        assert "&gt;&gt;&gt;" not in prose, f"{name}: a doctest outside a code block"
        assert not ROLE.search(html), f"{name}: a raw role {ROLE.search(html).group()}"
        assert "<blockquote>\n<blockquote>" not in html, f"{name}: nested quotes"
        assert not re.search(r'Bases: (<code>.*?</code>, )*<code><[^>]*title="[\w.]*\._', html), f"{name}: a private base"
    transforms = pages["transforms/index.html"]
    for name, cls in augkit.registered_transforms().items():
        anchor = f'id="{cls.__module__}.{cls.__qualname__}"'
        assert transforms.count(anchor) == 1, name
        heading = transforms[transforms.index(anchor):]
        signature = heading[heading.index("doc-signature"):heading.index("</pre>")]
        assert heading.index("doc-signature") < heading.index("</h2>") + 200, f"{name}: no signature"
        parameters = re.findall(r'<span class="n">(\w+)</span><span class="p">:', signature)
        assert parameters == list(inspect.signature(cls).parameters), f"{name}: signature {parameters}"
        assert f'src="../gallery/{name}.png"' in transforms and (tmp_path / "gallery" / f"{name}.png").is_file()
    toc = transforms[transforms.index('md-nav--secondary'):]
    toc = toc[:toc.index("</nav>")]
    assert len(re.findall(r'class="md-nav__link"', toc)) == len(augkit.registered_transforms())
    with_examples = [cls for cls in augkit.registered_transforms().values() if ">>>" in (cls.__doc__ or "")]
    prompts = re.findall(r'<div class="highlight"><pre><span></span><code><span class="gp">&gt;&gt;&gt;', transforms)
    assert len(prompts) >= len(with_examples) > 0, "doctests not rendered as code blocks"
    benchmarks = pages["benchmarks/index.html"]
    assert benchmarks.index("benchmark-ratios.png") < benchmarks.index("<table>", benchmarks.index("Results"))
    assert (tmp_path / "assets" / "benchmark-ratios.png").stat().st_size > 10_000
    assert "changelog/index.html" in pages and "<loc>https://" in (tmp_path / "sitemap.xml").read_text()




COMPARE = _load_script("render_compare_results")
# a measured figure: a decimal number followed by %, ±, "points" or the end of a [low, high]
# interval, or following ± or the start of one
FIGURE = re.compile(r"(?<![\w.])[+-]?\d+\.\d+(?=\s*(?:%|±|points|test points|\]|,\s*[+-]?\d+\.\d+\]))"
                    r"|(?<=± )\d+\.\d+|(?<=\[)[+-]?\d+\.\d+")


def _figures(markdown: str) -> set[str]:
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)
    return {figure.lstrip("+") for figure in FIGURE.findall(prose)}


def test_figure_pattern_catches_hand_typed_results():
    typed = ("the best recipe beats no augmentation by 6.1 test points (none 74.88 ± 1.69, randaugment "
             "79.58%, 95% CI [3.1, 6.3])")
    assert _figures(typed) == {"6.1", "74.88", "1.69", "79.58", "3.1", "6.3"}
    assert _figures("lr 0.05, factors 0.4, 0.3, zoom 1.1-1.5") == set()


def test_compare_figures_come_from_the_committed_results_file():
    """Every result README.md and docs/compare.md quote is in what the committed results files
    (docs/compare/summary.json, stability.json) render into; the README's block is current."""
    readme = (ROOT / "README.md").read_text()
    assert readme == COMPARE.render_readme(readme), \
        "the README's compare-results block is stale: run python scripts/render_compare_results.py"
    rendered = _figures(COMPARE.compare_results() + "\n" + COMPARE.compare_stability() + "\n" + COMPARE.readme_block())
    section = readme[readme.index("## Which recipe helps"):readme.index("## Sample images")]
    for name, text in (("README.md", section), ("docs/compare.md", (ROOT / "docs" / "compare.md").read_text())):
        missing = sorted(_figures(text) - rendered)
        assert not missing, f"{name} quotes figures that are not in docs/compare/*.json: {missing}"
