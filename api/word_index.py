"""Search's word index: each typed word read as vocabulary words (itself, or the nearest by
shared deletions or trigrams, then rapidfuzz's ratio), and the rows sharing the words read."""

from __future__ import annotations

from array import array

import numpy as np
from rapidfuzz import fuzz

from api.folding import grams

# Postings the look-up adds up, rarest words first: a common word ('love', 'the') adds
# thousands of rows that barely change the ranking. Never fewer words than MIN_WORDS, and of
# a word more common than the budget only its most popular ROW_BUDGET rows (a million-track
# catalogue's 'love' has 30,000).
ROW_BUDGET = 3000
MIN_WORDS = 2
# A word not in the vocabulary stands for up to this many vocabulary words ...
NEAR_WORDS = 4
# ... each at least this close (rapidfuzz ratio): one typo in a 5-letter word scores 80.
NEAR_MIN = 70.0
# Words this short are not corrected through deletions: a 2-letter word's deletions are single
# letters, shared by thousands of words.
DELETE_MIN = 3


def _csr(keys: array, values: array, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """values grouped by key (compressed sparse rows), in the order they came within a key:
    (values in key order, offsets)."""
    key_column = np.frombuffer(keys, np.int32) if keys else np.zeros(0, np.int32)
    value_column = np.frombuffer(values, np.int32) if values else np.zeros(0, np.int32)
    grouped = value_column[np.argsort(key_column, kind="stable")]
    counts = np.bincount(key_column, minlength=n_keys)
    return grouped, np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


class _Keys:
    """Positions of strings, found by their 64-bit hashes: for the 68k words and 31k trigrams
    of the demo catalogue, 0.8 MB of arrays where dicts and the trigram strings held 5 MB in
    every worker."""

    def __init__(self, strings: list[str]):
        hashes = _hashes(strings)
        self.order = np.argsort(hashes, kind="stable").astype(np.int32)
        self.hashes = hashes[self.order]

    def find(self, probes: np.ndarray) -> list[int]:
        """The position in the list given at the start of each string hashed (_hashes), or -1."""
        if not len(self.hashes) or not len(probes):
            return [-1] * len(probes)
        at = np.minimum(np.searchsorted(self.hashes, probes), len(self.hashes) - 1)
        return np.where(self.hashes[at] == probes, self.order[at], -1).tolist()


def _hashes(strings) -> np.ndarray:
    # str hashes are salted per process: the workers fork from the process that built an
    # index, and a rebuilt index is built where it is read.
    strings = list(strings)
    return np.fromiter(map(hash, strings), np.int64, len(strings))


def _short(hashes: np.ndarray) -> np.ndarray:
    return (hashes & 0xFFFFFFFF).astype(np.uint32)


def _deletions(word: str) -> set[str]:
    """word with one letter left out, every way."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class WordIndex:
    """Every row's words (titles and artists, folded), and ways to correct a misspelled one.

    Replaced an index of every row's trigrams (2.6M postings for the demo catalogue, 0.4 ms a
    query): a typo spoils one word, and only that word is corrected, among 68k words, not 92k
    rows. A word one typo away is found through deletions (SymSpell's idea: 'queeen' and 'queen'
    share 'queen' with a letter left out, 'tme' and 'time' share 'tme'), kept as sorted 32-bit
    hashes: 4.0 MB for the demo catalogue's 428k deletions and 68k words, where a dictionary of
    them as strings (symspellpy's form) would take some 30 MB of every worker by Python's object
    sizes. Words further off are looked up by shared trigrams.
    """

    def __init__(self, row_words, n_rows: int):
        """row_words: (row, its words) for every row, most popular first, so that each word's
        rows are stored in that order and a capped look-up keeps the most popular."""
        word_ids: dict[str, int] = {}
        gram_ids: dict[str, int] = {}
        grams_of: list[frozenset[int]] = []  # per word id
        word_column, row_column = array("i"), array("i")
        lengths = np.ones(n_rows)
        for row, words in row_words:
            mine: set[int] = set()
            for word in words:
                wid = word_ids.get(word)
                if wid is None:
                    wid = word_ids[word] = len(word_ids)
                    grams_of.append(
                        frozenset(gram_ids.setdefault(g, len(gram_ids)) for g in grams(word))
                    )
                mine |= grams_of[wid]
                word_column.append(wid)
                row_column.append(row)
            lengths[row] = max(len(mine), 1)
        self.vocabulary = list(word_ids)  # in id order: dicts keep insertion order
        self.word_keys = _Keys(self.vocabulary)
        # Trigrams are looked up by hash alone: two of 31k colliding in 64 bits is a 1 in 10^10
        # chance, and would only add a few words for rapidfuzz to judge.
        self.gram_keys = _Keys(list(gram_ids))
        del word_ids, gram_ids
        self.word_rows, self.word_offsets = _csr(word_column, row_column, len(self.vocabulary))
        del word_column, row_column
        gram_column, gram_word = array("i"), array("i")
        for wid, ids in enumerate(grams_of):
            gram_column.extend(ids)
            gram_word.extend([wid] * len(ids))
        self.gram_words, self.gram_offsets = _csr(gram_column, gram_word, len(self.gram_keys.order))
        self.word_grams = np.fromiter(map(len, grams_of), np.int32, len(grams_of))
        del grams_of, gram_column, gram_word
        self._index_deletions()
        self.counts = np.diff(self.word_offsets).astype(np.int32)
        # Rare words say more than common ones; long texts share more words by chance.
        self.idf = np.log((n_rows + 1) / (self.counts + 1))
        self.norm = 1.0 / np.sqrt(lengths)

    def _index_deletions(self) -> None:
        # Each word is filed under itself too, so that one look-up of a typed word's deletions
        # also finds the words equal to one of them (a letter added: 'queeen').
        shortened, owners = list(self.vocabulary), array("i", range(len(self.vocabulary)))
        for wid, word in enumerate(self.vocabulary):
            if len(word) >= DELETE_MIN:
                mine = _deletions(word)
                shortened += mine
                owners.extend([wid] * len(mine))
        # 32 bits are enough here: a collision only hands rapidfuzz a word to reject.
        keys = _short(_hashes(shortened))
        del shortened
        order = np.argsort(keys, kind="stable")
        self.deletion_keys = keys[order]
        self.deletion_words = np.frombuffer(owners, np.int32)[order] if owners else order
        del owners

    def ids_of(self, words: list[str]) -> list[int | None]:
        """Each word's id, or None for a word not in the vocabulary."""
        found = self.word_keys.find(_hashes(words))
        return [
            wid if wid >= 0 and self.vocabulary[wid] == word else None
            for wid, word in zip(found, words)
        ]

    def readings(self, typed: list[str]) -> list[list[tuple[int, float]]]:
        """Each typed word as vocabulary words, (word id, similarity 0–1) best first: a known
        word is itself alone at 1.0; another, the words one typo away."""
        return [
            [(wid, 1.0)] if wid is not None else self._ranked(word, self._one_typo_away(word))
            for word, wid in zip(typed, self.ids_of(typed))
        ]

    def widen(self, typed: list[str], readings: list[list[tuple[int, float]]]):
        """readings with words two typos away added ('rapsodie' is one from 'rapsodi', two from
        'rhapsody') for every unknown word with fewer than NEAR_WORDS readings."""
        widened = []
        for word, options in zip(typed, readings):
            # Only a known word reads as itself at 1.0 (no other word has a ratio of 100).
            if len(options) < NEAR_WORDS and not (options and options[0][1] == 1.0):
                found = {wid for wid, _ in options}.union(self._sharing_grams(word))
                options = self._ranked(word, list(found))
            widened.append(options)
        return widened

    def _ranked(self, word: str, found: list[int]) -> list[tuple[int, float]]:
        """The NEAR_WORDS of the found words closest to word, from NEAR_MIN up, best first."""
        vocabulary = self.vocabulary
        scored = []
        for wid in found:
            # Plain calls: a word has a few neighbours, and one batch call costs some six of them.
            score = fuzz.ratio(word, vocabulary[wid], score_cutoff=NEAR_MIN)
            if score:
                scored.append((-score, wid))
        scored.sort()
        return [(wid, -score / 100.0) for score, wid in scored[:NEAR_WORDS]]

    def _one_typo_away(self, word: str) -> list[int]:
        """Words a letter dropped, added, changed or two swapped away: those equal to one of
        word's deletions, or having word, or one of its deletions, among their own (none for a
        word shorter than DELETE_MIN)."""
        if len(word) < DELETE_MIN:
            return []
        probes = _short(_hashes([word, *_deletions(word)]))
        starts = np.searchsorted(self.deletion_keys, probes, "left")
        ends = np.searchsorted(self.deletion_keys, probes, "right")
        found: set[int] = set()
        for start, end in zip(starts.tolist(), ends.tolist()):
            if start < end:
                found.update(self.deletion_words[start:end].tolist())
        return list(found)

    def _sharing_grams(self, word: str) -> list[int]:
        """Up to 3 × NEAR_WORDS words sharing the most trigrams with word (Dice overlap)."""
        ids = np.asarray(
            [i for i in self.gram_keys.find(_hashes(grams(word))) if i >= 0], dtype=np.int64
        )
        if not len(ids):
            return []
        starts, ends = self.gram_offsets[ids], self.gram_offsets[ids + 1]
        sharing = np.concatenate([self.gram_words[s:e] for s, e in zip(starts, ends)])
        found, shared = np.unique(sharing, return_counts=True)
        dice = shared / (self.word_grams[found] + len(ids))
        if len(found) > 3 * NEAR_WORDS:
            found = found[np.argpartition(-dice, 3 * NEAR_WORDS - 1)[: 3 * NEAR_WORDS]]
        return found.tolist()

    def candidates(self, readings, limit: int, popularity: np.ndarray) -> list[int]:
        """Up to limit rows sharing the most and rarest of the words read (readings), popularity
        breaking ties."""
        options = [option for options in readings for option in options]
        if not options:
            return []
        options.sort(key=lambda option: self.counts[option[0]])
        postings, weights, sizes, total = [], [], [], 0
        for taken, (wid, similarity) in enumerate(options):
            start, end = int(self.word_offsets[wid]), int(self.word_offsets[wid + 1])
            if taken >= MIN_WORDS and total + (end - start) > ROW_BUDGET:
                break
            end = min(end, start + ROW_BUDGET)  # the most popular rows of a very common word
            postings.append(self.word_rows[start:end])
            weights.append(self.idf[wid] * similarity)
            sizes.append(end - start)
            total += end - start
        if len(postings) == 1:
            rows, overlap = postings[0], np.full(total, weights[0])
        else:
            rows, slot = np.unique(np.concatenate(postings), return_inverse=True)
            overlap = np.bincount(slot, weights=np.repeat(weights, sizes), minlength=len(rows))
        # A millionth of a point per popularity unit: breaks ties between equal overlaps only.
        scores = overlap * self.norm[rows] + popularity[rows] * 1e-6
        if len(rows) > limit:
            rows = rows[np.argpartition(-scores, limit - 1)[:limit]]
        return rows.tolist()
