"""Typo-tolerant track search: the index (one per catalogue) and the resolver predict uses."""

from __future__ import annotations

import threading
from array import array
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from api.folding import Folded, core_title, fold, grams

# How a result matched, best first; the tier decides the order before the score does.
KINDS = ("exact", "prefix", "words", "fuzzy")
# Below this a fuzzy candidate is noise ("qzxqzx vlorp" scores about 40 against anything).
FUZZY_MIN = 62.0
# predict takes a fuzzy best match at or above this score; below it answers "did you mean".
STRONG = 85.0
# Candidates the trigram stage hands to rapidfuzz: enough that the intended track survives a
# typo in a common word, few enough that scoring them stays well under a millisecond.
CANDIDATES = 60
# Postings the trigram stage adds up: the query's rarest grams first, until this many. Common
# grams (' lo', 'the') add tens of thousands of rows each and barely change the ranking: on 1,500
# misspelled queries, counting every gram took 2.1 ms a query for 96.0% top-1, this 1.1 for 96.5%.
POSTINGS_BUDGET = 8000
# ... but never fewer grams than this, so one typo (which spoils up to three) cannot empty it.
MIN_GRAMS = 8
# An artist-only query lists the artist's most popular tracks, not all of them.
PER_ARTIST = 60
# A known artist with a word of the title: this many of the artist's most popular tracks are
# checked for the word (the busiest artist of the 114k catalogue has 332).
ARTIST_SCAN = 2000


@dataclass(frozen=True)
class Hit:
    """One search result: an index row, how it matched and its similarity (0–100)."""

    row: int
    kind: str
    score: float


class SearchIndex:
    """The searchable text of every stored track, with a trigram index for candidate look-up."""

    def __init__(self, ids, names, artists, genres, popularity):
        # The catalogue's own column lists when given them (no second copy in every worker).
        self.ids = ids if isinstance(ids, list) else list(ids)
        self.names = names if isinstance(names, list) else list(names)
        self.artists = [a if isinstance(a, str) else "" for a in artists]
        self.genres = genres if isinstance(genres, list) else list(genres)
        self.popularity = np.nan_to_num(np.asarray(popularity, dtype=float))
        n = len(self.ids)
        folded = Folded()
        self.full = [folded.fold(t) for t in self.names]
        self.core = [folded.core_title(t) for t in self.names]
        # One tuple per distinct artists text, shared by its tracks: a list per track took 11 MB
        # of every worker for the demo catalogue, these 3.
        keys_of: dict[str, tuple[str, ...]] = {}
        self.artist_keys = [
            keys_of.get(a)
            or keys_of.setdefault(a, tuple(filter(None, map(folded.fold, a.split(";")))))
            for a in self.artists
        ]
        del folded, keys_of
        by_title: dict[str, list[int]] = {}
        by_artist: dict[str, list[int]] = {}
        # Most popular first, so that every list below is already in tie-break order.
        order = np.argsort(-self.popularity, kind="stable")
        for row in order.tolist():
            for key in {self.full[row], self.core[row]}:
                if key:
                    by_title.setdefault(key, []).append(row)
            for key in self.artist_keys[row]:
                by_artist.setdefault(key, []).append(row)
        # Kept as tuples: a list grown by appends holds room for more (5 MB over the two).
        self.by_title = {key: tuple(rows) for key, rows in by_title.items()}
        del by_title
        self.by_artist = {key: tuple(rows) for key, rows in by_artist.items()}
        del by_artist
        # The trigram index as one sorted array of rows per gram (compressed sparse rows): far
        # smaller than a dict of Python lists, which matters at a million tracks.
        gram_ids: dict[str, int] = {}
        of_word: dict[str, frozenset[int]] = {}  # words repeat far more than tracks do
        gram_of, row_of = array("i"), array("i")
        lengths = np.zeros(n)
        for row in range(n):
            words = set(self.core[row].split()) | set(self.full[row].split())
            for key in self.artist_keys[row]:
                words.update(key.split())
            mine: set[int] = set()
            for word in words:
                known = of_word.get(word)
                if known is None:
                    known = of_word[word] = frozenset(
                        gram_ids.setdefault(g, len(gram_ids)) for g in grams(word)
                    )
                mine |= known
            gram_of.extend(mine)
            row_of.extend([row] * len(mine))
            lengths[row] = len(mine)
        self.gram_ids = gram_ids
        gram_column = np.frombuffer(gram_of, np.int32) if gram_of else np.zeros(0, np.int32)
        rows = np.frombuffer(row_of, dtype=np.int32) if row_of else np.zeros(0, np.int32)
        by_gram = np.argsort(gram_column, kind="stable")
        self.postings = rows[by_gram]
        counts = np.bincount(gram_column, minlength=len(gram_ids))
        self.offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        # Rare grams say more than common ones; long texts share more grams by chance.
        self.weight = np.log((n + 1) / (counts + 1)) + 0.05
        self.norm = 1.0 / np.sqrt(np.maximum(lengths, 1.0))
        # A millionth of a point per popularity unit: breaks ties between equal overlaps only.
        self.bias = self.popularity * 1e-6

    def __len__(self) -> int:
        return len(self.ids)

    def brief(self, hit: Hit) -> dict:
        row = hit.row
        return {
            "id": self.ids[row],
            "name": self.names[row],
            "artists": self.artists[row],
            "genre": self.genres[row],
            "popularity": float(self.popularity[row]),
            "match": hit.kind,
            "score": round(hit.score, 1),
            "source": "catalogue",
        }

    # -- candidates ----------------------------------------------------------------------------

    def _trigram_candidates(self, text: str) -> list[int]:
        known = [self.gram_ids[g] for g in grams(text, open_end=True) if g in self.gram_ids]
        if not known or not len(self):
            return []
        known_ids = np.asarray(known)
        starts, ends = self.offsets[known_ids], self.offsets[known_ids + 1]
        lengths = ends - starts
        order = np.argsort(lengths, kind="stable")
        kept = np.cumsum(lengths[order]) <= POSTINGS_BUDGET
        kept[:MIN_GRAMS] = True
        chosen = order[kept]
        known_ids, starts, ends = known_ids[chosen], starts[chosen], ends[chosen]
        rows = np.concatenate([self.postings[s:e] for s, e in zip(starts, ends)])
        weights = np.repeat(self.weight[known_ids], ends - starts)
        # Summed over the rows found only: a catalogue-long count would cost more than the
        # few thousand postings it adds up.
        hit, slot = np.unique(rows, return_inverse=True)
        overlap = np.bincount(slot, weights=weights, minlength=len(hit))
        scores = overlap * self.norm[hit] + self.bias[hit]
        if len(hit) > CANDIDATES:
            hit = hit[np.argpartition(-scores, CANDIDATES - 1)[:CANDIDATES]]
        return hit.tolist()

    def _exact_candidates(self, words: list[str], artist: str, title: str) -> list[int]:
        """Rows found by whole-key look-ups, which the trigram stage could miss among
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
        for i in range(1, len(words)):
            left, right = " ".join(words[:i]), " ".join(words[i:])
            for who, what in ((left, right), (right, left)):
                if who in self.by_artist:
                    found += [r for r in self.by_title.get(what, ()) if who in self.artist_keys[r]]
        return found

    def _artist_word_candidates(self, words: list[str], artist: str, title: str) -> list[int]:
        """A known artist's tracks whose title holds the other words typed ('burna boy' and
        'hand'): common grams would hide them from the trigram stage."""
        if artist or title:
            pairs = [(artist, title)] if artist and title else []
        else:
            pairs = []
            for i in range(1, len(words)):
                left, right = " ".join(words[:i]), " ".join(words[i:])
                pairs += [(left, right), (right, left)]
        found: list[int] = []
        for who, what in pairs:
            typed = what.split()
            head, last = set(typed[:-1]), typed[-1]
            found += [
                r
                for r in self.by_artist.get(who, ())[:ARTIST_SCAN]
                if _words_in(head, last, f"{self.full[r]} {self.core[r]}")
            ]
        return found

    # -- scoring -------------------------------------------------------------------------------

    def search(self, q=None, artist=None, track=None, limit: int = 10) -> list[Hit]:
        """Tracks matching one box (q: 'artist title' in either order, or either alone) or two
        (artist, track), best first: by kind (exact, prefix, words, fuzzy), then score, then
        popularity; one result per distinct title and artists."""
        if q is not None:
            query, artist_key, title_key = fold(q), "", ""
            title_core = core_title(q)
        else:
            artist_key, title_key = fold(artist), fold(track)
            title_core = core_title(track)
            query = f"{artist_key} {title_key}".strip()
        if not query:
            return []
        words = query.split()
        exact = self._exact_candidates(words, artist_key, title_key)
        by_artist = self._artist_word_candidates(words, artist_key, title_key)
        rows = list(dict.fromkeys(exact + by_artist + self._trigram_candidates(query)))
        if not rows:
            return []
        if q is not None:
            hits = self._score_one_box(rows, query, title_core, set(exact))
        else:
            hits = self._score_two_boxes(rows, artist_key, title_key, title_core)
        rank = {kind: i for i, kind in enumerate(KINDS)}
        popularity = self.popularity
        # Scores are compared in whole points: closer than that is a tie, and popularity decides.
        hits.sort(key=lambda h: (rank[h.kind], -round(h.score), -popularity[h.row]))
        seen, unique = set(), []
        for hit in hits:
            key = (self.core[hit.row], self.artist_keys[hit.row])
            if key not in seen:
                seen.add(key)
                unique.append(hit)
                if len(unique) == limit:
                    break
        return unique

    def _score_one_box(self, rows, query: str, query_core: str, exact: set[int]) -> list[Hit]:
        full = [self.full[r] for r in rows]
        core = [self.core[r] for r in rows]
        artists = [self.artist_keys[r] for r in rows]
        everyone = [" ".join(a) for a in artists]
        primary = [a[0] if a else "" for a in artists]
        both = [f"{p} {c}" for p, c in zip(primary, core)]
        all_core = [f"{e} {c}" for e, c in zip(everyone, core)]

        def scores(text, choices, scorer):
            return process.cdist([text], choices, scorer=scorer, workers=1)[0]

        # 100 when one word set holds the other (either way): a cheap filter before the
        # "words" kind's own check that every query word is among the track's.
        subset = scores(query, [f"{a} {f}" for a, f in zip(all_core, full)], fuzz.token_set_ratio)
        similarity = np.max(
            [
                scores(query_core, core, fuzz.ratio),
                scores(query, full, fuzz.ratio),
                scores(query, primary, fuzz.ratio),
                scores(query, both, fuzz.token_sort_ratio),
                scores(query, all_core, fuzz.token_sort_ratio),
                # Some of the words, typed well (a partial artist, a title fragment).
                subset * 0.8,
            ],
            axis=0,
        )
        words = query.split()
        head, last = set(words[:-1]), words[-1]
        hits = []
        for i, row in enumerate(rows):
            score = float(similarity[i])
            # The look-ups found it by a whole key (title, artist, artist + title either way).
            if row in exact or query == full[i] or query == core[i]:
                hits.append(Hit(row, "exact", 100.0))
            elif len(query) >= 2 and (
                full[i].startswith(query)
                or both[i].startswith(query)
                or everyone[i].startswith(query)
                or f"{everyone[i]} {full[i]}".startswith(query)
            ):
                hits.append(Hit(row, "prefix", score))
            elif subset[i] >= 50 and _words_in(head, last, f"{all_core[i]} {full[i]}"):
                hits.append(Hit(row, "words", score))
            elif score >= FUZZY_MIN:
                hits.append(Hit(row, "fuzzy", score))
        return hits

    def _score_two_boxes(self, rows, artist: str, title: str, title_core: str) -> list[Hit]:
        full = [self.full[r] for r in rows]
        core = [self.core[r] for r in rows]
        artists = [self.artist_keys[r] for r in rows]
        everyone = [" ".join(a) for a in artists]
        primary = [a[0] if a else "" for a in artists]

        def scores(text, choices, scorer):
            return process.cdist([text], choices, scorer=scorer, workers=1)[0]

        if artist:
            artist_score = np.maximum(
                scores(artist, primary, fuzz.ratio), scores(artist, everyone, fuzz.token_set_ratio)
            )
        if title:
            title_score = np.maximum(
                scores(title_core, core, fuzz.ratio), scores(title, full, fuzz.ratio)
            )
        if artist and title:
            similarity = 0.35 * artist_score + 0.65 * title_score
        else:
            similarity = artist_score if artist else title_score
        hits = []
        for i, row in enumerate(rows):
            names = artists[i]
            artist_words = set(everyone[i].split())
            title_words = set(full[i].split()) | set(core[i].split())
            artist_exact = not artist or artist in names or artist == everyone[i]
            title_exact = not title or title in (full[i], core[i]) or title_core == core[i]
            if artist_exact and title_exact:
                hits.append(Hit(row, "exact", 100.0))
                continue
            artist_prefix = not artist or any(a.startswith(artist) for a in names)
            title_prefix = not title or full[i].startswith(title) or core[i].startswith(title)
            if len(artist) + len(title) >= 2 and artist_prefix and title_prefix:
                hits.append(Hit(row, "prefix", float(similarity[i])))
                continue
            title_words_typed = title.split()
            if set(artist.split()) <= artist_words and (
                not title_words_typed
                or _words_in(
                    set(title_words_typed[:-1]), title_words_typed[-1], " ".join(title_words)
                )
            ):
                hits.append(Hit(row, "words", float(similarity[i])))
            elif similarity[i] >= FUZZY_MIN:
                hits.append(Hit(row, "fuzzy", float(similarity[i])))
        return hits

    def artists_matching(self, hits: list[Hit], query: str, limit: int = 5) -> list[dict]:
        """Artists among the hits whose name is close to the query, with their track counts."""
        found: dict[str, dict] = {}
        for hit in hits:
            names = self.artists[hit.row].split(";")
            for name, key in zip(names, self.artist_keys[hit.row]):
                score = fuzz.ratio(query, key)
                if key.startswith(query) or score >= STRONG:
                    kind = (
                        "exact" if key == query else "prefix" if key.startswith(query) else "fuzzy"
                    )
                    if key not in found:
                        found[key] = {
                            "name": name,
                            "tracks": len(self.by_artist.get(key, ())),
                            "match": kind,
                            "score": round(max(score, 0.0), 1),
                        }
        ranked = sorted(found.values(), key=lambda a: (KINDS.index(a["match"]), -a["tracks"]))
        return ranked[:limit]


def _words_in(head: set[str], last: str, text: str) -> bool:
    """Every word is one of text's; the last may be the start of one (it is still being typed)."""
    mine = set(text.split())
    return head <= mine and any(w.startswith(last) for w in mine)


def build_index(catalogue) -> SearchIndex:
    """The index of a Catalogue, read from its plain columns (the store's read API filled them)."""
    columns = catalogue.columns if len(catalogue) else {}
    return SearchIndex(
        columns.get("id", []),
        columns.get("name", []),
        columns.get("artists", []),
        columns.get("genre", []),
        [p if p is not None else 0 for p in columns.get("popularity", [])],
    )


_index_lock = threading.Lock()


def index_for(catalogue) -> SearchIndex:
    """The search index of a catalogue, built once and kept on it.

    A catalogue is replaced (in the background) whenever the store's data version changes, and
    the app builds the new one's index before swapping it in, so the index always matches the
    catalogue it is read beside and never holds a request up after the first.
    """
    index = getattr(catalogue, "search_index", None)
    if index is None:
        with _index_lock:
            index = getattr(catalogue, "search_index", None)
            if index is None:
                index = build_index(catalogue)
                catalogue.search_index = index
    return index


@dataclass(frozen=True)
class Resolution:
    """What predict's text resolves to: the chosen hit (None when weak or absent) and the rest."""

    best: Hit | None
    hits: list[Hit]

    @property
    def weak(self) -> bool:
        return self.best is None and bool(self.hits)


def resolve(index: SearchIndex, artist: str | None, title: str | None, limit: int = 6):
    """The track predict should use for the text, or None with the near misses when no match
    is good enough: exact, prefix and word matches always are, fuzzy ones from STRONG up."""
    hits = index.search(artist=artist, track=title, limit=limit)
    if not _good(hits) and artist and title:
        # The boxes may hold 'artist title' in one of them, or the two swapped: read them as
        # one box and keep whichever reading matched better.
        joined = index.search(q=f"{artist} {title}", limit=limit)
        if _good(joined) or (joined and (not hits or joined[0].score > hits[0].score)):
            hits = joined
    return Resolution(hits[0] if _good(hits) else None, hits)


def _good(hits: list[Hit]) -> bool:
    return bool(hits) and (hits[0].kind != "fuzzy" or hits[0].score >= STRONG)
