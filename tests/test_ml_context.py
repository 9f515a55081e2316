"""The artist context: what the artist's other tracks sound like, on the real dataset."""

import numpy as np
import pandas as pd
import pytest

from ml.context import CONTEXT_OF, ArtistPool
from ml.data import dedupe_tracks, load_labelled_tracks
from ml.features import ARTIST_TRACKS, MODEL_FEATURES, FeatureEncoder
from tests.support import DATASET_CSV


@pytest.fixture(scope="module")
def tracks():
    return dedupe_tracks(load_labelled_tracks(DATASET_CSV))[0]


@pytest.fixture(scope="module")
def pool(tracks):
    return ArtistPool(tracks)


@pytest.fixture(scope="module")
def encoder(tracks, pool):
    return FeatureEncoder(MODEL_FEATURES, context=True).fit(
        tracks.assign(**{ARTIST_TRACKS: pool.others()}).iloc[:20_000]
    )


def _others(tracks, row):
    artist = tracks["primary_artist"]
    return tracks[(artist == artist.iloc[row]) & (tracks.index != tracks.index[row])]


def test_raw_means_are_the_mean_of_the_artists_other_tracks(tracks, pool):
    means, others = pool.raw_means(), pool.others()
    for row in np.random.default_rng(0).choice(len(tracks), 300, replace=False).tolist():
        other = _others(tracks, row)
        assert others[row] == len(other)
        for name in CONTEXT_OF:
            expected = pd.to_numeric(other[name]).mean() if len(other) else np.nan
            got = means[f"artist_{name}"].iloc[row]
            assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)


def test_the_networks_context_is_the_mean_of_the_other_tracks_encoded_rows(tracks, pool, encoder):
    block = pool.context(encoder)
    width = len(encoder.context_columns())
    assert block.shape == (len(tracks), width + 1)
    # Popularity is not part of it: a track marked without popularity must not get it back.
    assert not any("popularity" in c or ARTIST_TRACKS in c for c in encoder.context_columns())
    for row in np.random.default_rng(1).choice(len(tracks), 200, replace=False).tolist():
        other = _others(tracks, row)
        if len(other):
            expected = encoder.context_part(other).mean(axis=0)
            assert np.allclose(block[row, :width], expected, atol=1e-6)
            assert block[row, width] == 0.0
        else:
            assert not block[row, :width].any() and block[row, width] == 1.0
        # One track (a web request's dict), left out of its own context, reads the same.
        one, count = pool.track_context(encoder, tracks.iloc[row].to_dict(), leave_out=row)
        assert count == len(other) == pool.others_of(tracks.iloc[row].to_dict(), leave_out=row)
        assert np.allclose(one[0], block[row], atol=1e-6)
    # The same from the rows' own encoded columns, as the catalogue's batch ranking takes it.
    assert np.array_equal(block, pool.context(encoder, encoded=encoder.transform(tracks)))
    # In the full input the context follows the track's own columns.
    x = encoder.transform(tracks.iloc[:5], block[:5])
    assert x.shape == (5, encoder.n_outputs) and np.array_equal(x[:, -width - 1 :], block[:5])


def test_a_track_from_outside_the_pool_sees_all_its_artists_tracks(tracks, pool, encoder):
    busy = int(np.argmax(pool.others()))
    outsider = {**tracks.iloc[busy].to_dict(), "id": "x"}
    one, count = pool.track_context(encoder, outsider)
    assert count == pool.others()[busy] + 1 == pool.others_of(outsider)
    everyone = tracks[tracks["primary_artist"] == tracks["primary_artist"].iloc[busy]]
    assert np.allclose(one[0, :-1], encoder.context_part(everyone).mean(axis=0), atol=1e-6)
    # An artist the pool does not know, or no artist at all: no context, flagged as such.
    for nobody in ({"artists": "Nobody At All 1234"}, {}):
        one, count = pool.track_context(encoder, nobody)
        assert count == 0 and np.array_equal(one, encoder.no_context(1))
        assert one[0, -1] == 1.0 and not one[0, :-1].any()


def test_a_pool_without_artists_gives_every_track_no_context(tracks, encoder):
    anonymous = ArtistPool(tracks.drop(columns=["artists"]).iloc[:500])
    assert not anonymous.others().any() and not anonymous.raw_means().notna().any().any()
    assert np.array_equal(anonymous.context(encoder), encoder.no_context(500))
