"""Text that reaches DOT, SVG, HTML or a terminal: labels, names and numbers as a reader should see them.

A label is any str a user gave a Value, so it may hold a NUL, a terminal escape, a lone surrogate
or a right-to-left override. Graphviz refuses the first ones, UTF-8 cannot encode the surrogates,
and the others hide or reorder what is drawn. `visible` writes each such character as a Python
escape (`a\\x00b`), so the drawing shows it instead of failing; every other character is kept.
"""

from __future__ import annotations

import re
from html import escape

import graphviz

# C0 and C1 controls and DEL; lone surrogates; the marks that reorder text (bidi embeddings,
# overrides, isolates); line and paragraph separators; Unicode's noncharacters (XML forbids
# U+FFFE and U+FFFF, and Graphviz's HTML labels are XML).
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                     "\u2028\u2029\ufdd0-\ufdef\ufffe\uffff"
                     + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
                     + "]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match[0]
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with control characters, lone surrogates and invisible reordering marks written as escapes.

    >>> visible('a\\x00b\\tc'), visible('w5'), visible('\\ud800')
    ('a\\\\x00b\\\\tc', 'w5', '\\\\ud800')
    """
    return _HIDDEN.sub(_escape, text)


def html_text(text: str) -> str:
    """`text` for HTML: visible, with & < > " ' escaped."""
    return escape(visible(text))


def dot_html(text: str) -> str:
    """`text` for a Graphviz HTML-like label, shown literally: as `html_text`, with backslashes doubled.

    Graphviz reads `\\G`, `\\N` and `\\l` in HTML-like labels too, after decoding character
    references (so `&#92;` would not help); a doubled backslash is one backslash.
    """
    return html_text(text).replace("\\", "\\\\")


def dot_string(*lines: str, sep: str = "\\n", end: str = "") -> str:
    """`lines` for a quoted DOT string, shown literally: each visible, with backslashes and & escaped,
    joined by the DOT escape `sep` and ended by `end` (`\\l` ends left-aligned lines).

    Graphviz reads `\\G`, `\\N`, `\\l` and `&amp;` inside quoted strings; the graphviz package adds
    the quotes and escapes the quote characters, and `nohtml` keeps it from taking text that
    starts with < and ends with > for an HTML-like label.
    """
    return graphviz.nohtml(sep.join(visible(line).replace("\\", "\\\\").replace("&", "&amp;")
                                    for line in lines) + end)
