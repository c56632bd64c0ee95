"""Run every ```python block of Markdown pages, each on its own in a fresh namespace and an empty
working folder, as a user who copies one block would.

    python scripts/run_code_blocks.py README.md docs/*.md   # exit status 1 if a block fails

The wheel smoke test (cibuildwheel's test command) runs it on README.md against the installed
wheel; tests/test_docs.py runs it on every page.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def code_blocks(page: Path) -> list[str]:
    """The ```python blocks of ``page``, in order."""
    return BLOCK.findall(page.read_text(encoding="utf-8"))


def run_block(code: str, name: str) -> None:
    """Execute ``code`` alone, in a fresh namespace and a temporary working folder."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            exec(compile(code, name, "exec"), {"__name__": "__main__"})
        finally:
            os.chdir(here)


def main(argv: list[str] | None = None) -> int:
    failed = []
    for page in map(Path, argv if argv is not None else sys.argv[1:]):
        for i, code in enumerate(code_blocks(page)):
            name = f"{page.name}[block {i}]"
            try:
                run_block(code, name)
            except Exception:  # noqa: BLE001 - report every failing block
                traceback.print_exc()
                failed.append(name)
            print(f"{'FAILED' if failed and failed[-1] == name else 'ok':6}  {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
