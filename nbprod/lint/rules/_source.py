"""Cheap views of cell source shared by the rules: no ``ast``, one precompiled regex.

:class:`Hints` tells whether a text holds any of a rule's cheap hint words (a rule looks
closer only then) in one pass over the text, however many words.

:func:`strip_code` blanks comments and the contents of string literals (keeping f-string
placeholders and every newline, so line numbers survive); :func:`string_literals` yields the
literals themselves. Both scan with one regex, so a ``#`` inside a string or a quote inside a
comment is read the way Python reads it. Unterminated strings (an apostrophe in a ``!echo``
line) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from ahocorasick_rs import AhoCorasick

from ...notebook.version import mentions as mentions  # re-exported for the rules

# A string literal (optional prefix, triple or single quoted) or a comment, whichever starts
# first; scanning left to right makes "#" in strings and quotes in comments harmless.
_TOKEN = re.compile(
    r"""(?P<prefix>\b[rRbBuUfF]{1,2})?(?P<string>
          \"\"\"[\s\S]*?\"\"\" | '''[\s\S]*?'''
        | "(?:\\.|[^"\\\n])*" | '(?:\\.|[^'\\\n])*' )
      | (?P<comment>\#[^\n]*)""",
    re.VERBOSE)
_PLACEHOLDER = re.compile(r"(?<!\{)\{([^{}]+)\}")


class Hints:
    """Literal words, one of which a text must hold for a rule to look closer.

    The words are searched together (Aho-Corasick, through ``ahocorasick_rs``): one pass over
    the text, where ``any(word in text for word in words)`` makes one per word. Every
    notebook is tested and most hold none of the words, so the test is what a rule costs:
    one pass takes two fifths of the time of the separate tests for 13 words, a quarter for
    19 (measured on bench/lint.py's notebooks).
    """

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(words)
        self._automaton = AhoCorasick(self.words)

    def any(self, text: str) -> bool:
        """Whether ``text`` holds one of the words."""
        return bool(self._automaton.find_matches_as_indexes(text))

    def found(self, text: str) -> set[str]:
        """The words ``text`` holds."""
        words = self.words
        return {words[index] for index, _start, _end
                in self._automaton.find_matches_as_indexes(text, overlapping=True)}


def _replace(match: re.Match[str]) -> str:
    if match.group("comment") is not None:
        return ""
    literal = match.group("string")
    newlines = "\n" * literal.count("\n")
    prefix = match.group("prefix") or ""
    if "f" in prefix or "F" in prefix:
        fields = " ".join(f.replace("\n", " ") for f in _PLACEHOLDER.findall(literal))
        return f'"" {fields}{newlines}' if fields else f'""{newlines}'
    return f'""{newlines}'


def strip_code(source: str) -> str:
    """``source`` without comments or string contents (f-string placeholders kept).

    ``print("alpha")  # alpha`` becomes ``print("")``; ``f"{alpha:.2f}"`` keeps ``alpha:.2f``.
    Line numbers are unchanged.
    """
    if "#" not in source and '"' not in source and "'" not in source:
        return source
    return _TOKEN.sub(_replace, source)


def string_literals(source: str) -> Iterator[tuple[int, str, str]]:
    """``(line from 1, prefix, text between the quotes as written)`` of each string literal."""
    line, counted = 1, 0
    for match in _TOKEN.finditer(source):
        literal = match.group("string")
        if literal is None:
            continue
        quote = 3 if literal[:3] in ('"""', "'''") else 1
        line += source.count("\n", counted, match.start())  # counted once, left to right
        counted = match.start()
        yield line, match.group("prefix") or "", literal[quote:-quote]


def line_at(text: str, offset: int) -> int:
    """The line number (from 1) of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1
