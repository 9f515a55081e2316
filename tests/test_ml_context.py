"""The artist context: leave-one-out means of the artist's other tracks, on the real dataset."""

import numpy as np
import pandas as pd
import pytest

from ml.context import CONTEXT_FEATURES, CONTEXT_OF, ArtistPool
from ml.data import dedupe_tracks, load_labelled_tracks
from tests.support import DATASET_CSV


@pytest.fixture(scope="module")
def tracks():
    return dedupe_tracks(load_labelled_tracks(DATASET_CSV))[0]


def test_context_is_the_mean_of_the_artists_other_tracks(tracks):
    context = ArtistPool(tracks).context(tracks)
    artist = tracks["primary_artist"]
    for row in np.random.default_rng(0).choice(len(tracks), 300, replace=False).tolist():
        others = tracks[(artist == artist.iloc[row]) & (tracks.index != tracks.index[row])]
        assert context["artist_tracks"].iloc[row] == len(others)
        for name in CONTEXT_OF:
            expected = pd.to_numeric(others[name]).mean() if len(others) else np.nan
            got = context[f"artist_{name}"].iloc[row]
            assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)


def test_one_track_reads_the_same_context_as_the_frame(tracks):
    pool = ArtistPool(tracks)
    context = pool.context(tracks)
    for row in np.random.default_rng(1).choice(len(tracks), 200, replace=False).tolist():
        one = pool.track_context(tracks.iloc[row].to_dict(), in_pool=True)
        for name in CONTEXT_FEATURES:
            value = context[name].iloc[row]
            assert (one[name] is None and np.isnan(value)) or one[name] == pytest.approx(value)
    # A track from outside the pool sees all of its artist's tracks, and an unknown artist none.
    outsider = {**tracks.iloc[0].to_dict(), "id": "x"}
    assert pool.track_context(outsider, in_pool=False)["artist_tracks"] == (
        context["artist_tracks"].iloc[0] + 1
    )
    nobody = pool.track_context({"artists": "Nobody At All 1234"}, in_pool=False)
    assert nobody["artist_tracks"] == 0 and nobody["artist_energy"] is None
    assert set(pool.track_context({}, in_pool=False).values()) == {None}
