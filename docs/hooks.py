"""MkDocs hooks of the augkit docs.

- ``<!-- transforms -->`` expands into one section per registered transform: its reference from
  the docstring, headed by its signature, then its gallery image; so the page can't miss one.
- The gallery images (``docs/make_gallery.py``) are rendered into the site at every build, never
  into the source tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

import augkit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_gallery  # noqa: E402


def _module_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def on_files(files: Files, config) -> Files:
    for name in make_gallery.GALLERY:
        files.append(File.generated(config, f"gallery/{name}.png", content=make_gallery.render(name)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs signature
    if "<!-- transforms -->" not in markdown:
        return markdown
    sections = [
        f"::: {_module_path(cls)}\n    options:\n      heading_level: 2\n      show_root_full_path: false\n"
        f"      members: false\n\n![{name}: the original, then samples](gallery/{name}.png)\n"
        for name, cls in augkit.registered_transforms().items()
    ]
    return markdown.replace("<!-- transforms -->", "\n".join(sections))
