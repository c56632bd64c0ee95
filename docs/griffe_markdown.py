"""Griffe extension of the docs build (mkdocs.yml): augkit's docstrings are plain text for
``help()`` and doctest, with some reST in them; this turns that reST into the Markdown that
mkdocstrings renders:

- doctest paragraphs (``>>>`` lines and their output) into ``pycon`` code blocks;
- ``::`` literal blocks into code blocks, simple tables (``====  ====``) into Markdown tables and
  underlined titles into bold lines;
- roles (``:func:`name```, ``:class:`~augkit.X```) into cross-references, resolved where the
  target has an entry in the docs and plain code where it has none.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import griffe

from augkit.commands.specs import REST_ROLE

TABLE_BORDER = re.compile(r"^\s*=+( +=+)+\s*$")
UNDERLINE = re.compile(r"^\s*(-+|=+|~+)\s*$")


def roles_to_references(line: str, resolve: Callable[[str], str]) -> str:
    """``:func:`~augkit.x.f``` -> an optional cross-reference to ``augkit.x.f`` titled ``f``."""
    def reference(match: re.Match) -> str:
        short, name = match.group(1) == "~", match.group(2).strip()
        title = name.rsplit(".", 1)[-1] if short else name
        return f'<autoref identifier="{resolve(name)}" optional><code>{title}</code></autoref>'
    return REST_ROLE.sub(reference, line)


def _table(lines: list[str], resolve: Callable[[str], str]) -> list[str]:
    """A reST simple table (border, header, border, rows, border) as Markdown table rows; a row
    whose first cell is empty continues the row above."""
    border = lines[0]
    starts = [m.start() for m in re.finditer(r"=+", border)]
    bounds = list(zip(starts, starts[1:] + [None]))
    rows: list[list[str]] = []
    for line in lines[1:]:
        if TABLE_BORDER.match(line) or not line.strip():
            continue
        cells = [line[a:b].strip() if b else line[a:].strip() for a, b in bounds]
        if rows and not cells[0]:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    indent = border[: len(border) - len(border.lstrip())]
    cell = lambda text: roles_to_references(text, resolve).replace("|", "\\|")  # noqa: E731
    table = [indent + "| " + " | ".join(map(cell, row)) + " |" for row in rows]
    table.insert(1, indent + "|" + "---|" * len(bounds))
    return ["", *table, ""]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def to_markdown(text: str, resolve: Callable[[str], str] = str) -> str:
    """The Markdown of a docstring written in augkit's plain-text style.

    >>> print(to_markdown("Flip it (:func:`~augkit.flip`).\\n\\n>>> 1 + 1\\n2"))
    Flip it (<autoref identifier="augkit.flip" optional><code>flip</code></autoref>).
    <BLANKLINE>
    ```pycon
    >>> 1 + 1
    2
    ```
    """
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        pad = line[: _indent(line)]
        if line.lstrip().startswith(">>>"):
            out.append(pad + "```pycon")
            while i < len(lines) and lines[i].strip():
                out.append(pad + lines[i][len(pad):])
                i += 1
            out.append(pad + "```")
            continue
        if TABLE_BORDER.match(line):
            end = i + 1
            borders = 1
            while end < len(lines) and borders < 3:
                borders += bool(TABLE_BORDER.match(lines[end]))
                end += 1
            out += _table(lines[i:end], resolve)
            i = end
            continue
        if i + 1 < len(lines) and line.strip() and UNDERLINE.match(lines[i + 1]) \
                and len(lines[i + 1].strip()) == len(line.strip()):
            out.append(f"{pad}**{line.strip()}**")
            i += 2
            continue
        if line.rstrip().endswith("::"):
            body_start = i + 1
            while body_start < len(lines) and not lines[body_start].strip():
                body_start += 1
            if body_start < len(lines) and _indent(lines[body_start]) > _indent(line):
                intro = line.rstrip()[:-2].rstrip()
                if intro.strip():
                    out.append(roles_to_references(intro + ":", resolve))
                end = body_start
                while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > _indent(line)):
                    end += 1
                body = lines[body_start:end]
                while body and not body[-1].strip():
                    body.pop()
                strip = min(_indent(b) for b in body if b.strip())
                out += ["", pad + "```", *(pad + b[strip:] for b in body), pad + "```", ""]
                i = end
                continue
        out.append(roles_to_references(line, resolve))
        i += 1
    return "\n".join(out)


def _resolver(obj: griffe.Object) -> Callable[[str], str]:
    """Full paths of the names of roles, looked up in the scope of ``obj`` and its parents."""
    def resolve(name: str) -> str:
        head, _, rest = name.partition(".")
        scope: griffe.Object | None = obj
        while scope is not None:
            try:
                path = scope.resolve(head)
            except (griffe.NameResolutionError, AttributeError):
                scope = scope.parent
                continue
            return f"{path}.{rest}" if rest else path
        return name
    return resolve


class ReSTToMarkdown(griffe.Extension):
    """Applies :func:`to_markdown` to every docstring."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:  # noqa: ARG002
        self._visit(pkg)

    def _visit(self, obj: griffe.Object) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value, _resolver(obj))
        for member in obj.members.values():
            if not member.is_alias:
                self._visit(member)
