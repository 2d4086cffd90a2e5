"""lint/rules/_source.Hints: one Aho-Corasick pass answers as a test of each word with ``in``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nbprod.lint.rules._source import Hints

_WORDS = ("rand", "seed", "_rng", "api_key", '"""', "'''", "globals()", "ünï")
HINTS = Hints(_WORDS)


@given(st.text(alphabet="ranedsk_gilopb()\"'ïü \n", max_size=60))
def test_hints_find_what_in_finds(text: str) -> None:
    assert HINTS.any(text) == any(word in text for word in _WORDS)
    assert HINTS.found(text) == {word for word in _WORDS if word in text}


def test_overlapping_words_are_all_found() -> None:
    assert HINTS.found("x = seed_rng + rand(seed)") == {"seed", "rand", "_rng"}
    assert HINTS.found('""""') == {'"""'}
    assert not HINTS.any("")
