"""Text from a planner's file made safe to show: on a terminal, in a message, on the page.

Workbook text (mission, zone, fund and period names, ids, file names) is untrusted.
Everything the tool shows of it goes through one of three functions:

- :func:`printable` for whatever is printed to a terminal (summaries, problems,
  comparisons, sweeps): control characters (ESC, BEL, carriage return ...), line and
  paragraph separators and the marks that reverse the direction of text are shown
  escaped (``\\x1b``), so a name cannot set the terminal's title or colours, overwrite
  a line or read backwards. Line breaks and tabs of the tool's own text are kept.
- :func:`one_line` for a value quoted inside a one-line message: the same, line breaks
  escaped too, and shortened around a "…".
- :func:`markdown_literal` for the page: Markdown's special characters are escaped so
  that a name shows as typed, never as bold, a formula, a link or an image that the
  browser would fetch (the page sends nothing anywhere).

printable is idempotent: printing escaped text again shows the same characters.
"""

from __future__ import annotations

import re

UNSAFE_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Control characters (C0, DEL, C1), line and paragraph separators, and direction marks."""
_UNSAFE_EXCEPT_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
INVISIBLE_CHARACTERS = re.compile("[\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f"
                                  "\u2028-\u202f\u205f-\u206f\u3000\u3164\ufeff\uffa0]")
"""Characters that show as nothing or as a plain space: zero-width and non-breaking spaces,
joiners, direction marks, the byte-order mark. Shown escaped wherever an id is quoted."""
# Markdown (CommonMark, GitHub's extensions, Streamlit's :emoji:, :color[...] and $math$):
# every ASCII punctuation character may be escaped with a backslash; these are the ones
# that can start or end a construct.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:^=&\"'])")
# GitHub's "autolink literal" rule links addresses found in the text *after* parsing, so
# escaping their punctuation does not stop it: an invisible word joiner after "://", after
# "www" and before "@" does (the text shows the same, and no address is left to link).
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\\?\.)|(?=@)")
WORD_JOINER = "\u2060"


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


def printable(text: object) -> str:
    """``text`` safe to print to a terminal: control and direction characters escaped
    (``"\\x1b]0;owned\\x07"`` shows as those characters), line breaks and tabs kept."""
    return _UNSAFE_EXCEPT_LINES.sub(_escaped, str(text))


def one_line(text: object, limit: int = 60) -> str:
    """Text from a file made safe to show on one line of a message.

    Control characters, direction marks and invisible characters are escaped (``\\n``,
    ``\\u202e``, ``\\u200b``) and text longer than ``limit`` characters keeps its start
    and end around a "…".
    """
    text = UNSAFE_CHARACTERS.sub(_escaped, str(text))
    text = INVISIBLE_CHARACTERS.sub(_escaped, text)
    if len(text) > limit:
        head = max(1, limit * 2 // 3)
        tail = max(0, limit - head - 1)
        text = text[:head] + "…" + (text[-tail:] if tail else "")
    return text


def markdown_literal(text: object) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it exactly as typed.

    ``"**bold** [x](http://h/) ![](http://h/i.png) $x^2$"`` shows those characters,
    not bold, a link, an image or a formula: Markdown's punctuation is escaped with a
    backslash, and a word joiner (U+2060, invisible) breaks every address (after
    ``://`` and ``www``, before ``@``) so that none is linked. Control characters are
    escaped as by :func:`printable` and line breaks become spaces (a name is one line of
    a sentence). Emoji short codes (``:smile:``) still show as emoji.
    """
    flat = UNSAFE_CHARACTERS.sub(lambda m: " " if m.group() in "\r\n\u2028\u2029" else _escaped(m), str(text))
    return _AUTOLINK.sub(WORD_JOINER, _MARKDOWN_SPECIAL.sub(r"\\\1", flat))
