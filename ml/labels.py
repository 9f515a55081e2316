"""One genre label per track from granular artist-genre lists, by cluster-distinctive keywords."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Tokens that describe no musical style on their own.
STOP_WORDS = frozenset({"and", "n", "of", "the", "music", "y", "de", "la", "s"})


def tag_terms(tags, split_words: bool = True) -> set[str]:
    """The candidate label terms of a track: each tag, plus its words when split_words.

    'dutch deep house' yields itself and 'dutch', 'deep', 'house' (hyphens stay: 'hip-hop',
    'k-pop'): a word shared by many granular tags ('house') is what lets tracks with different tags
    agree on a label.
    """
    terms = set()
    for tag in tags or ():
        tag = str(tag).strip().lower()
        if not tag:
            continue
        terms.add(tag)
        if split_words:
            terms.update(w for w in re.split(r"[\s&/,]+", tag) if w and w not in STOP_WORDS)
    return terms


@dataclass
class LabellingResult:
    """The label per track, which step gave it, each cluster's ranked keywords, and step counts."""

    labels: pd.Series
    step: pd.Series
    keywords: dict
    counts: dict = field(default_factory=dict)

    def report(self) -> str:
        total = len(self.labels)
        lines = [f"{name}: {n:,} tracks ({n / total:.1%})" for name, n in self.counts.items()]
        return "\n".join(lines)


def distinctiveness(term_sets: list[set], clusters: np.ndarray, min_share: float = 0.02) -> dict:
    """Score every (cluster, term): share of the cluster's tracks with the term × rarity elsewhere.

    The seed ranked a cluster's keywords by raw frequency, so broad words ('pop') won everywhere.
    Here the share is multiplied by a smoothed inverse cluster frequency, where a term counts as
    present in a cluster when at least min_share of that cluster's tracks carry it, as in tf-idf
    with clusters as documents.
    """
    sizes = Counter(clusters.tolist())
    counts = defaultdict(Counter)
    for terms, cluster in zip(term_sets, clusters):
        counts[cluster].update(terms)
    share = {c: {t: n / sizes[c] for t, n in counter.items()} for c, counter in counts.items()}
    present_in = Counter(t for c in share for t, s in share[c].items() if s >= min_share)
    n_clusters = len(sizes)
    scores = {}
    for cluster, terms in share.items():
        scores[cluster] = {
            t: s * (math.log((1 + n_clusters) / (1 + present_in.get(t, 0))) + 1)
            for t, s in terms.items()
        }
    return scores


def label_tracks(
    tags: pd.Series,
    clusters,
    features: np.ndarray | None = None,
    keywords_per_cluster: int = 8,
    split_words: bool = True,
    neighbours: int = 7,
) -> LabellingResult:
    """Give each track exactly one label, in four steps (counts of each are reported).

    1. cluster keywords: the most distinctive of the track's own cluster's top keywords that it has;
    2. any keyword: the best-scoring keyword of any cluster that the track has, scored in its
       cluster;
    3. own tags: the track's most distinctive own term, even if it is no cluster's keyword;
    4. neighbours: tracks with no tags take the majority label of their nearest labelled tracks
       in feature space (needs `features`; otherwise they stay unlabelled).
    """
    clusters = np.asarray(clusters)
    term_sets = [tag_terms(t, split_words) for t in tags]
    scores = distinctiveness(term_sets, clusters)
    keywords = {
        c: [t for t, _ in sorted(s.items(), key=lambda kv: (-kv[1], kv[0]))[:keywords_per_cluster]]
        for c, s in scores.items()
    }
    all_keywords = {t for ranked in keywords.values() for t in ranked}
    global_score = Counter()
    for cluster_scores in scores.values():
        for term, score in cluster_scores.items():
            global_score[term] = max(global_score[term], score)

    labels = np.full(len(term_sets), None, dtype=object)
    step = np.full(len(term_sets), "unlabelled", dtype=object)
    for i, (terms, cluster) in enumerate(zip(term_sets, clusters)):
        if not terms:
            continue
        own = [t for t in keywords[cluster] if t in terms]
        if own:
            labels[i], step[i] = own[0], "cluster keywords"
            continue
        shared = [t for t in terms if t in all_keywords]
        candidates, name = (shared, "any keyword") if shared else (list(terms), "own tags")
        cluster_scores = scores[cluster]
        labels[i] = max(candidates, key=lambda t: (cluster_scores.get(t, 0.0), global_score[t], t))
        step[i] = name

    missing = np.flatnonzero(labels == None)  # noqa: E711 (object array comparison)
    if len(missing) and features is not None and len(missing) < len(labels):
        from sklearn.neighbors import NearestNeighbors

        known = np.flatnonzero(labels != None)  # noqa: E711
        index = NearestNeighbors(n_neighbors=min(neighbours, len(known))).fit(features[known])
        _, nearest = index.kneighbors(features[missing])
        for row, hits in zip(missing, nearest):
            votes = Counter(labels[known[hits]])
            labels[row] = votes.most_common(1)[0][0]
            step[row] = "neighbours"

    index = tags.index
    step_series = pd.Series(step, index=index, name="step")
    order = ["cluster keywords", "any keyword", "own tags", "neighbours", "unlabelled"]
    counts = {name: int((step_series == name).sum()) for name in order}
    return LabellingResult(
        pd.Series(labels, index=index, name="label"), step_series, keywords, counts
    )
