"""Normal forms of typed and stored text: folded (case, accents, punctuation) and trigrams."""

from __future__ import annotations

import functools
import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")  # any script's letters and digits are kept
_BRACKETS = re.compile(r"\s*[\(\[\{][^\)\]\}]*[\)\]\}]")
_DASH_SUFFIX = re.compile(r"\s+[-\u2013\u2014]\s+.*$")
_FEATURING = re.compile(r"\s+(?:feat\.?|ft\.|featuring)\s+.*$", re.IGNORECASE)


# Query-time caches: typed text repeats (suggestions as one types, predict after search). Small:
# the index build folds through a dict of its own, which is freed in one piece afterwards, where
# a cache holding every name kept 30 MB of small nodes in each worker; and under varied traffic
# 8,192 entries a function still grew each worker by 4 MB, where 1,024 cover anyone's typing.
@functools.lru_cache(maxsize=1024)
def fold(text) -> str:
    """Case-, accent- and punctuation-free form: 'Beyoncé & JAY-Z' → 'beyonce jay z'."""
    if not isinstance(text, str):
        return ""
    plain = text.casefold()
    if not plain.isascii():  # most typed text is: nothing to decompose (a fifth of the time)
        decomposed = unicodedata.normalize("NFKD", plain)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain).strip()


@functools.lru_cache(maxsize=1024)
def core_title(title) -> str:
    """A title without what people leave off: '(feat. …)', '[Live]', ' - Remastered 2011'."""
    return _core(title, fold)


def _core(title, fold_text) -> str:
    if not isinstance(title, str):
        return ""
    bare = _FEATURING.sub("", _DASH_SUFFIX.sub("", _BRACKETS.sub("", title)))
    return fold_text(bare) or fold_text(title)


class Folded:
    """fold and core_title for one index build: a repeated name folds once, into one string."""

    def __init__(self):
        self.folds: dict = {}
        self.cores: dict = {}

    def fold(self, text) -> str:
        found = self.folds.get(text)
        if found is None:
            found = self.folds[text] = fold.__wrapped__(text)
        return found

    def core_title(self, title) -> str:
        found = self.cores.get(title)
        if found is None:
            found = self.cores[title] = _core(title, self.fold)
        return found


def grams(text: str) -> set[str]:
    """Word trigrams, each word padded with a space on either side."""
    found: set[str] = set()
    for word in text.split():
        padded = f" {word} "
        found.update(padded[j : j + 3] for j in range(len(padded) - 2))
    return found
