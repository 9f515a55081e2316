"""Search's look-ups by whole keys: the tracks a text names by title, artist or both, as typed
or with its typos mended."""

from __future__ import annotations

import bisect
from itertools import accumulate

from rapidfuzz import fuzz

from api.folding import core_title, fold

# Titles beginning with the text typed whose tracks are checked as prefix matches.
PREFIX_TITLES = 20
# An artist-only query lists the artist's most popular tracks, not all of them.
PER_ARTIST = 60
# A known artist with a word of the title: this many of the artist's most popular tracks are
# checked for the word (the busiest artist of the 114k catalogue has 332).
ARTIST_SCAN = 2000
# The half of a text not known exactly is read as a track's title or artist from this close
# (rapidfuzz ratio), the score from which predict takes a fuzzy match.
CLOSE = 85.0


class KeyLookups:
    """The look-ups of SearchIndex (api/search.py), which holds what they read: by_title and
    by_artist (rows by folded title and by artist, most popular first), title_keys (by_title's
    keys in order), each row's full and core title, artist_keys and artist_text, and words (the
    WordIndex)."""

    def _exact_candidates(self, words: list[str], artist: str, title: str) -> list[int]:
        """Rows found by whole-key look-ups, which the word look-up could miss among
        thousands of equally good overlaps (every track called 'Intro')."""
        found: list[int] = []
        if artist or title:  # two boxes
            if title:
                for key in {fold(title), core_title(title)}:
                    rows = self.by_title.get(key, ())
                    found += [r for r in rows if not artist or artist in self.artist_keys[r]]
            elif artist:
                found += self.by_artist.get(artist, ())[:PER_ARTIST]
            return found
        text = " ".join(words)
        found += self.by_title.get(text, ())[:PER_ARTIST]
        found += self.by_artist.get(text, ())[:PER_ARTIST]
        # "artist title" or "title artist" in one box: try every split of the words.
        for who, what in _splits(words):
            if who in self.by_artist:
                found += [r for r in self.by_title.get(what, ()) if who in self.artist_keys[r]]
        return found

    def _prefix_candidates(self, text: str) -> list[int]:
        """The most popular tracks of the first PREFIX_TITLES titles beginning with text, which
        the word look-up ranks no higher than any other track holding its words ('1 0')."""
        if len(text) < 2:
            return []
        found: list[int] = []
        start = bisect.bisect_left(self.title_keys, text)
        for key in self.title_keys[start : start + PREFIX_TITLES]:
            if not key.startswith(text):
                break
            found += self.by_title[key][:3]
        return found

    def _artist_word_candidates(self, words: list[str], artist: str, title: str) -> list[int]:
        """A known artist's tracks whose title holds the other words typed ('burna boy' and
        'hand'): common words would hide them from the word look-up."""
        if artist or title:
            pairs = [(artist, title)] if artist and title else []
        else:
            pairs = _splits(words)
        found: list[int] = []
        full = self.full
        for who, what in pairs:
            rows = self.by_artist.get(who)
            if not rows:
                continue
            typed = what.split()
            head, last = set(typed[:-1]), typed[-1]
            # A row's core words are among its full title's (but for a bracket glued to a word).
            # The substring test inline first: it rules out nearly every row at a third of the
            # cost of a call.
            found += [
                r for r in rows[:ARTIST_SCAN] if last in full[r] and words_in(head, last, full[r])
            ]
        return found

    def _mended_candidates(self, words: list[str], readings) -> list[int]:
        """The whole-key look-ups again with the typos mended ('queeen' → 'queen'): every word
        read as its best reading, then each other reading of one word at a time; the rows of
        every try (none when every word is known)."""
        if all(options and options[0][1] == 1.0 for options in readings):
            return []
        vocabulary = self.words.vocabulary
        best = [vocabulary[o[0][0]] if o else word for word, o in zip(words, readings)]
        found = self._exact_candidates(best, "", "") + self._artist_word_candidates(best, "", "")
        for i, options in enumerate(readings):
            for wid, _ in options[1:]:
                tried = [*best[:i], vocabulary[wid], *best[i + 1 :]]
                found += self._exact_candidates(tried, "", "")
        return found

    def _half_known_candidates(self, words: list[str]) -> list[int]:
        """A known artist's tracks whose title is close to the rest typed, or a known title's
        whose artist is: a typo that makes another real word ('spend thee night', 'bbay teeth')
        reads as known, and no respelling mends it."""
        found: list[int] = []
        for who, what in _splits(words):
            for row in self.by_artist.get(who, ())[:ARTIST_SCAN]:
                if _close(what, self.core[row]) or _close(what, self.full[row]):
                    found.append(row)
            for row in self.by_title.get(what, ())[:ARTIST_SCAN]:
                keys = self.artist_keys[row]
                if _close(who, self.artist_text[row]) or (keys and _close(who, keys[0])):
                    found.append(row)
        return found


def _splits(words: list[str]) -> list[tuple[str, str]]:
    """Every way of reading the words as two texts, one of them the artist's, the other the
    title, in either order: (artist, title) pairs."""
    text = " ".join(words)
    pairs = []
    for cut in accumulate(len(word) + 1 for word in words[:-1]):
        left, right = text[: cut - 1], text[cut:]
        pairs += [(left, right), (right, left)]
    return pairs


def _close(text: str, other: str) -> bool:
    return fuzz.ratio(text, other, score_cutoff=CLOSE) > 0


def words_in(head: set[str], last: str, text: str) -> bool:
    """Every word is one of text's; the last may be the start of one (it is still being typed)."""
    # Substring tests first: false for nearly every candidate, they cost a tenth of the split.
    if last not in text or not all(w in text for w in head):
        return False
    mine = set(text.split())
    return head <= mine and any(w.startswith(last) for w in mine)
