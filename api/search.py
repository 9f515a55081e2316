"""Typo-tolerant track search: the index (one per catalogue) and the resolver predict uses."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

import numpy as np
from rapidfuzz import fuzz, process

from api.folding import Folded, core_title, fold
from api.lookups import CLOSE, KeyLookups, words_in
from api.word_index import WordIndex

# How a result matched, best first; the tier decides the order before the score does.
KINDS = ("exact", "prefix", "words", "fuzzy")
# Below this a fuzzy candidate is noise ("qzxqzx vlorp" scores about 40 against anything).
FUZZY_MIN = 62.0
# predict takes a fuzzy best match at or above this score; below it answers "did you mean". The
# look-ups read half of a text as a title or an artist from the same closeness.
STRONG = CLOSE
# Candidates the word look-up hands to rapidfuzz: enough that the intended track survives a
# typo in a common word (40 keep 96% top-1 on 1,000 misspelled one-box queries, as 60 did).
CANDIDATES = 40
# Rows scored with rapidfuzz's batch scorer rather than one call a pair above this many.
BATCH_FROM = 8


@dataclass(frozen=True)
class Hit:
    """One search result: an index row, how it matched and its similarity (0–100)."""

    row: int
    kind: str
    score: float


class SearchIndex(KeyLookups):
    """The searchable text of every stored track, with a word index for candidate look-up."""

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
        # Every artist of the track as one text, shared like the keys.
        text_of = {keys: " ".join(keys) for keys in keys_of.values()}
        self.artist_text = [text_of[keys] for keys in self.artist_keys]
        del folded, keys_of, text_of
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
        self.title_keys = sorted(self.by_title)  # for titles beginning with the text typed
        self.by_artist = {key: tuple(rows) for key, rows in by_artist.items()}
        del by_artist
        # Fuzzy candidates come from each track's words (api/word_index.py).
        rows_words = (
            (
                row,
                set(self.core[row].split()).union(
                    self.full[row].split(), *(key.split() for key in self.artist_keys[row])
                ),
            )
            for row in order.tolist()
        )
        self.words = WordIndex(rows_words, n)

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

    # -- ranking -------------------------------------------------------------------------------

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
        # Each tier runs only when those before it found nothing: text that names tracks by a
        # whole title or artist, mended or not, needs no ranking of every track sharing a word.
        # An artist's titles holding the words typed come with the exact matches ('be still'
        # with 'still' for 'hillsong worship still').
        exact = self._exact_candidates(words, artist_key, title_key)
        named = exact + self._artist_word_candidates(words, artist_key, title_key)
        readings = None
        if not named:
            readings = self.words.readings(words)
            named = self._mended_candidates(words, readings) or self._half_known_candidates(words)
        rows = named + self._prefix_candidates(query if q is not None else title_key)
        if q is not None:
            score_rows = partial(
                self._score_one_box, query=query, query_core=title_core, exact=set(exact)
            )
        else:
            score_rows = partial(
                self._score_two_boxes, artist=artist_key, title=title_key, title_core=title_core
            )
        hits = []
        if named:
            hits = score_rows(list(dict.fromkeys(rows)))
        if not hits:
            # Nothing named (or all of it too far from the text typed): rows by shared words.
            if readings is None:
                readings = self.words.readings(words)
            readings = self.words.widen(words, readings)
            rows += self.words.candidates(readings, CANDIDATES, self.popularity)
            hits = score_rows(list(dict.fromkeys(rows))) if rows else []
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
        everyone = [self.artist_text[r] for r in rows]
        primary = [keys[0] if keys else "" for keys in map(self.artist_keys.__getitem__, rows)]
        both = [f"{p} {c}" for p, c in zip(primary, core)]
        turned = [f"{c} {p}" for p, c in zip(primary, core)]
        all_core = [f"{e} {c}" for e, c in zip(everyone, core)]
        similarity = _best_scores(
            (query_core, core, fuzz.ratio),
            (query, full, fuzz.ratio),
            (query, primary, fuzz.ratio),
            # Word order kept, as typed in one box: a token sort would move a misspelled first
            # letter ('oholigang') away from its place.
            (query, both, fuzz.ratio),
            (query, turned, fuzz.ratio),
            (query, all_core, fuzz.token_sort_ratio),
        )
        for i, score in enumerate(similarity):
            # Some of the words, typed well (a partial artist, a title fragment): at most 80, so
            # only worth computing where the whole-text scores are lower.
            if score < 80.0:
                text = f"{all_core[i]} {full[i]}"
                similarity[i] = max(score, 0.8 * fuzz.token_set_ratio(query, text))
        words = query.split()
        head, last = set(words[:-1]), words[-1]
        hits = []
        for i, row in enumerate(rows):
            score = similarity[i]
            text = f"{everyone[i]} {full[i]}"
            # The look-ups found it by a whole key (title, artist, artist + title either way).
            if row in exact or query == full[i] or query == core[i]:
                hits.append(Hit(row, "exact", 100.0))
            elif len(query) >= 2 and (
                full[i].startswith(query) or both[i].startswith(query) or text.startswith(query)
            ):
                hits.append(Hit(row, "prefix", score))
            # A row's core words are among its full title's, so text holds its words.
            elif words_in(head, last, text):
                hits.append(Hit(row, "words", score))
            elif score >= FUZZY_MIN:
                hits.append(Hit(row, "fuzzy", score))
        return hits

    def _score_two_boxes(self, rows, artist: str, title: str, title_core: str) -> list[Hit]:
        full = [self.full[r] for r in rows]
        core = [self.core[r] for r in rows]
        artists = [self.artist_keys[r] for r in rows]
        everyone = [self.artist_text[r] for r in rows]
        primary = [a[0] if a else "" for a in artists]

        if artist:
            artist_score = _best_scores(
                (artist, primary, fuzz.ratio), (artist, everyone, fuzz.token_set_ratio)
            )
        if title:
            title_score = _best_scores((title_core, core, fuzz.ratio), (title, full, fuzz.ratio))
        if artist and title:
            similarity = [0.35 * a + 0.65 * t for a, t in zip(artist_score, title_score)]
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
                hits.append(Hit(row, "prefix", similarity[i]))
                continue
            title_words_typed = title.split()
            if set(artist.split()) <= artist_words and (
                not title_words_typed
                or words_in(
                    set(title_words_typed[:-1]), title_words_typed[-1], " ".join(title_words)
                )
            ):
                hits.append(Hit(row, "words", similarity[i]))
            elif similarity[i] >= FUZZY_MIN:
                hits.append(Hit(row, "fuzzy", similarity[i]))
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


def _best_scores(*measures) -> list[float]:
    """Per choice, the best of several (text, choices, scorer) similarities: rapidfuzz's batch
    scorer for many choices, plain calls for a few (one batch call costs some six plain ones)."""
    if len(measures[0][1]) > BATCH_FROM:
        scores = [
            process.cdist([t], c, scorer=s, workers=1, dtype=np.float64)[0] for t, c, s in measures
        ]
        return np.max(scores, axis=0).tolist()
    return [
        max(scorer(text, choices[i]) for text, choices, scorer in measures)
        for i in range(len(measures[0][1]))
    ]


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
