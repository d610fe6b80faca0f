"""The lesson markup as Qt rich text: HTML-escaped first, then only **bold**, *italic*, `code`,
subscripts (h_t, W_{hh}), paragraphs and bulleted lists (resources/lessons/README.md)."""
from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_SUB = re.compile(r"(?<=[A-Za-z])_\{([^{}]{1,12})\}|(?<=[A-Za-z])_([A-Za-z0-9]{1,3})(?![A-Za-z0-9_])")


def render_inline(text: str) -> str:
    text = html.escape(text, quote=False)
    codes: list[str] = []

    def keep(m: re.Match) -> str:  # code is shown as typed: no bold/italic/subscripts inside
        codes.append(f"<code>{m.group(1)}</code>")
        return f"\0{len(codes) - 1}\0"

    text = _CODE.sub(keep, text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    text = _SUB.sub(lambda m: f"<sub>{m.group(1) or m.group(2)}</sub>", text)
    return re.sub("\0(\\d+)\0", lambda m: codes[int(m.group(1))], text)


def render_markup(text: str) -> str:
    """The lesson markup as Qt rich text (render_inline: the same for one line). Everything
    is HTML-escaped first; then only:
    **bold**, *italic*, `code`, subscripts h_t / W_{hh}, blank line = new paragraph,
    lines starting with "- " = a bulleted list."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in block.strip().splitlines()]
        if lines and all(ln.startswith("- ") for ln in lines):
            out.append("<ul>" + "".join(f"<li>{render_inline(ln[2:])}</li>" for ln in lines) + "</ul>")
        else:
            out.append("<p>" + "<br>".join(render_inline(ln) for ln in lines) + "</p>")
    return "".join(out)
