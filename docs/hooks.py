"""MkDocs hook: expand ``<!-- transforms -->`` into one section per registered transform, with its
gallery image and its reference from the docstring, so the page can't miss a transform."""

from __future__ import annotations

import augkit


def _module_path(cls: type) -> str:
    module = cls.__module__
    return f"{module}.{cls.__qualname__}"


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - MkDocs signature
    if "<!-- transforms -->" not in markdown:
        return markdown
    sections = []
    for name, cls in augkit.registered_transforms().items():
        sections.append(
            f"## {name}\n\n![{name}](gallery/{name}.png)\n\n"
            f"::: {_module_path(cls)}\n    options:\n      show_root_heading: false\n      members: false\n"
        )
    return markdown.replace("<!-- transforms -->", "\n".join(sections))
