"""MkDocs hook: expand ``<!-- transforms -->`` into one section per registered transform (its
reference from the docstring, headed by its signature, then its gallery image), so the page can't
miss a transform."""

from __future__ import annotations

import augkit


def _module_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs signature
    if "<!-- transforms -->" not in markdown:
        return markdown
    sections = [
        f"::: {_module_path(cls)}\n    options:\n      heading_level: 2\n      show_root_full_path: false\n"
        f"      members: false\n\n![{name}: the original and samples](gallery/{name}.png)\n"
        for name, cls in augkit.registered_transforms().items()
    ]
    return markdown.replace("<!-- transforms -->", "\n".join(sections))
