"""Compare people: profiles of the seed playlist's six people and the distances between them."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from api.people import compare_people, normalised
from tests.support import PLAYLIST_CSV, PLAYLIST_PEOPLE, PLAYLIST_TRACKS, PLOTIFY_PLAYLIST_ID


@pytest.fixture(scope="module")
def seed_file() -> pd.DataFrame:
    return pd.read_csv(PLAYLIST_CSV, dtype={"user_id": str})


@pytest.fixture(scope="module")
def body(seed_app):
    """The comparison on the seed playlist alone, so the seed file is the truth to check by."""
    response = seed_app.test_client().get(f"/api/playlists/{PLOTIFY_PLAYLIST_ID}/people")
    assert response.status_code == 200
    return response.get_json()


def test_six_people_with_their_track_counts_and_colours(body, seed_file):
    assert body["playlist"] == PLOTIFY_PLAYLIST_ID
    people = body["people"]
    assert len(people) == PLAYLIST_PEOPLE
    assert sum(p["count"] for p in people) == PLAYLIST_TRACKS
    assert {p["id"]: p["count"] for p in people} == seed_file["user_id"].value_counts().to_dict()
    assert all(p["color"].startswith("#") and p["display_name"] for p in people)
    assert "Pauly Richmeier" in {p["display_name"] for p in people}


def test_every_statistic_is_on_a_0_to_1_scale_and_ordered(body):
    assert {"energy", "tempo", "loudness", "duration_ms", "danceability"} <= set(body["features"])
    assert "key" not in body["features"]
    for person in body["people"]:
        for feature in body["features"]:
            low, high = person["min"][feature], person["max"][feature]
            q1, median, q3 = person["quartiles"][feature]
            assert 0 <= low <= q1 <= median <= q3 <= high <= 1, (person["id"], feature)
            assert low <= person["mean"][feature] <= high and person["std"][feature] >= 0


def test_means_match_the_seed_file(body, seed_file):
    """Energy is on 0–1 already; tempo is min–max rescaled over the playlist's tracks."""
    tempo = seed_file["tempo"]
    scaled_tempo = (tempo - tempo.min()) / (tempo.max() - tempo.min())
    for person in body["people"]:
        mine = seed_file["user_id"] == person["id"]
        assert person["mean"]["energy"] == pytest.approx(seed_file.loc[mine, "energy"].mean(), 1e-3)
        assert person["mean"]["tempo"] == pytest.approx(scaled_tempo[mine].mean(), abs=1e-4)
        assert person["max"]["energy"] == pytest.approx(seed_file.loc[mine, "energy"].max())


def test_distances_form_a_metric_and_name_the_most_alike_pair(body):
    matrix = np.array(body["distances"]["matrix"], dtype=float)
    assert matrix.shape == (PLAYLIST_PEOPLE, PLAYLIST_PEOPLE)
    assert np.allclose(matrix, matrix.T) and np.all(np.diag(matrix) == 0)
    off_diagonal = matrix[~np.eye(PLAYLIST_PEOPLE, dtype=bool)]
    assert np.all((off_diagonal > 0) & (off_diagonal <= 1))
    for i, j, k in itertools.permutations(range(PLAYLIST_PEOPLE), 3):
        assert matrix[i, k] <= matrix[i, j] + matrix[j, k] + 1e-3  # rounded to 4 places
    alike = body["distances"]["most_alike"]
    ids = [p["id"] for p in body["people"]]
    i, j = (ids.index(p) for p in alike["people"])
    assert alike["distance"] == matrix[i, j] == off_diagonal.min()
    names = {p["id"]: p["display_name"] for p in body["people"]}
    assert alike["sentence"].startswith(f"{names[ids[i]]} and {names[ids[j]]} are most alike")
    assert "Wasserstein" in body["distances"]["method"]


def test_the_distance_is_the_mean_earth_movers_distance_over_features():
    """Worked by hand: A's energy is {0, 1}, B's {0.5, 0.5}; moving A's mass to 0.5 costs 0.5.
    Both have danceability 0.2 everywhere: distance 0. The mean over the two features: 0.25."""
    tracks = pd.DataFrame(
        {
            "added_by": ["a", "a", "b", "b", "c", "c"],
            "energy": [0.0, 1.0, 0.5, 0.5, 0.0, 1.0],
            "danceability": [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
        }
    )
    people = [{"id": p, "display_name": p.upper(), "color": "#000000"} for p in "abc"]
    result = compare_people(tracks, people)
    assert result["features"] == ["danceability", "energy"]
    assert result["distances"]["matrix"] == [[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]]
    assert result["distances"]["most_alike"]["people"] == ["a", "c"]
    a = result["people"][0]
    assert a["mean"]["energy"] == 0.5 and a["std"]["energy"] == 0.5
    assert a["quartiles"]["energy"] == [0.25, 0.5, 0.75]


def test_rescaling_maps_the_playlist_range_to_0_1():
    tracks = pd.DataFrame({"tempo": [60.0, 120.0, 180.0], "loudness": [-5.0, -5.0, -5.0]})
    scaled = normalised(tracks, ["tempo", "loudness"])
    assert list(scaled["tempo"]) == [0.0, 0.5, 1.0] and list(scaled["loudness"]) == [0.5] * 3


def test_unknown_playlist_is_a_404(seed_app):
    response = seed_app.test_client().get("/api/playlists/nope/people")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
