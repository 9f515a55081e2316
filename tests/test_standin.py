"""The Spotify/ReccoBeats stand-in: real data and shapes, absolute paging URLs, faults, counts."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import requests
import spotipy
from spotipy.exceptions import SpotifyException
from spotipy.oauth2 import SpotifyClientCredentials

from tests.standin import CLIENT_ID, CLIENT_SECRET, FaultPlan, load_catalog
from tests.standin.fixtures import standin  # noqa: F401 - pytest fixture
from tests.support import (
    DATASET_GENRES,
    PLAYLIST_CSV,
    PLAYLIST_TRACKS,
    PLOTIFY_PLAYLIST_ID,
    RECOMMENDATIONS,
)


def spotipy_client(server, **options) -> spotipy.Spotify:
    """spotipy pointed at the stand-in the documented way: prefix and the token URL."""
    manager = SpotifyClientCredentials(
        CLIENT_ID, CLIENT_SECRET, cache_handler=spotipy.MemoryCacheHandler()
    )
    manager.OAUTH_TOKEN_URL = server.url + "/api/token"
    client = spotipy.Spotify(auth_manager=manager, **options)
    client.prefix = server.url + "/v1/"
    return client


def first_artist_id(client) -> str:
    return client.playlist(PLOTIFY_PLAYLIST_ID)["items"]["items"][0]["item"]["artists"][0]["id"]


def test_catalog_is_built_from_the_real_data():
    catalog = load_catalog()
    seed = pd.read_csv(PLAYLIST_CSV, index_col=0)
    playlist = catalog.playlists[PLOTIFY_PLAYLIST_ID]
    assert [e.track_id for e in playlist.entries] == list(seed["id"])
    assert [e.added_by for e in playlist.entries] == [str(u) for u in seed["user_id"]]
    assert len(catalog.genre_tracks) == DATASET_GENRES
    assert sum(len(v) for v in catalog.recommendations.values()) == RECOMMENDATIONS
    first = seed.iloc[0]
    assert math.isclose(catalog.features[first["id"]]["energy"], first["energy"])


def test_playlist_pages_follow_absolute_next_urls_to_the_stand_in(standin):
    client = spotipy_client(standin)
    playlist = client.playlist(PLOTIFY_PLAYLIST_ID)
    assert playlist["items"]["total"] == PLAYLIST_TRACKS and len(playlist["items"]["items"]) == 50
    page = client.playlist_items(PLOTIFY_PLAYLIST_ID, limit=50, offset=50)
    seen = [e["item"]["id"] for e in playlist["items"]["items"]]
    while page:
        assert page["next"] is None or page["next"].startswith(standin.url + "/v1/playlists/")
        seen += [e["item"]["id"] for e in page["items"]]
        page = client.next(page)
    assert seen == [e.track_id for e in load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries]
    assert standin.calls["playlist_items"] == 3
    with pytest.raises(SpotifyException) as too_big:
        client.playlist_items(PLOTIFY_PLAYLIST_ID, limit=100)
    assert too_big.value.http_status == 400


def test_removed_endpoints_answer_403_like_development_mode(standin):
    client = spotipy_client(standin, retries=0)
    with pytest.raises(SpotifyException) as old_tracks:
        client._get(f"playlists/{PLOTIFY_PLAYLIST_ID}/tracks")
    assert old_tracks.value.http_status == 403
    artist_id = first_artist_id(client)
    with pytest.raises(SpotifyException) as multi_get:
        client.artists([artist_id])
    assert multi_get.value.http_status == 403
    assert client.artist(artist_id)["name"] == "Bee Gees"


def test_audio_features_null_for_unknown_and_reccobeats_shape(standin):
    client = spotipy_client(standin)
    known = load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[0].track_id
    unknown = "0" * 22
    features = client.audio_features([known, unknown])
    assert features[0]["id"] == known and features[1] is None
    ids = [e.track_id for e in load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[:45]]
    body = requests.get(
        standin.url + "/reccobeats/v1/audio-features",
        params={"ids": ",".join(ids + [unknown])},
        timeout=5,
    ).json()
    assert len(body["content"]) == 40  # extras beyond 40 are dropped, the unknown is absent
    assert all("time_signature" not in item for item in body["content"])
    assert body["content"][0]["href"] == f"https://open.spotify.com/track/{ids[0]}"


def test_429_reason_and_retry_after_survive_only_without_429_in_status_forcelist(standin):
    standin.fault("audio_features", status=429, reason="QUOTA_EXCEEDED", retry_after=0)
    track = load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[0].track_id
    default = spotipy_client(standin, backoff_factor=0)
    with pytest.raises(SpotifyException) as hidden:
        default.audio_features([track])
    # spotipy's default retries turn it into "Max Retries" with no headers and no body reason.
    assert "Max Retries" in hidden.value.msg and not hidden.value.headers
    assert hidden.value.reason != "QUOTA_EXCEEDED"
    visible = spotipy_client(standin, status_forcelist=(500, 502, 503, 504))
    with pytest.raises(SpotifyException) as shown:
        visible.audio_features([track])
    assert shown.value.http_status == 429 and shown.value.reason == "QUOTA_EXCEEDED"
    assert shown.value.headers["Retry-After"] == "0"


def test_faults_apply_per_endpoint_and_calls_are_counted(standin):
    standin.fault("artist", status=500, times=1)
    client = spotipy_client(standin, retries=0, status_forcelist=(599,))
    artist_id = first_artist_id(client)
    with pytest.raises(SpotifyException) as failed:
        client.artist(artist_id)
    assert failed.value.http_status == 500
    assert client.artist(artist_id)["id"] == artist_id  # times=1: the next call is answered
    assert standin.calls["artist"] == 2 and standin.calls["playlist"] == 1
    assert requests.get(standin.url + f"/v1/artists/{artist_id}", timeout=5).status_code == 401


def test_genre_seeds_recommendations_search_and_profiles(standin):
    client = spotipy_client(standin)
    genres = client.recommendation_genre_seeds()["genres"]
    assert len(genres) == 114 and "acoustic" in genres
    by_genre = client.recommendations(seed_genres=["acoustic"], limit=100)["tracks"]
    assert len(by_genre) == 100
    seed = load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[0].track_id
    by_track = client.recommendations(seed_tracks=[seed], limit=5)["tracks"]
    assert [t["id"] for t in by_track] == load_catalog().recommendations[seed][:5]
    found = client.search("Dreams", limit=10)["tracks"]["items"]
    assert any(t["id"] == "0ofHAoxe9vBkTCp2UQIavz" for t in found)
    assert client.user("kukulski.2")["display_name"] == "Matt Kukulski"


def test_broken_answers_reach_the_client_as_resets_cut_bodies_and_bad_json(standin):
    url = standin.url + "/reccobeats/v1/track/recommendation"
    seed = load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[0].track_id
    params = {"seeds": seed, "size": 5}
    standin.fault("rb_recommendation", breaks="reset", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(url, params=params, timeout=5)
    standin.fault("rb_recommendation", breaks="truncated_body", times=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, params=params, timeout=5)
    standin.fault("rb_recommendation", breaks="truncated_json", times=1)
    cut = requests.get(url, params=params, timeout=5)
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        cut.json()
    standin.fault("rb_recommendation", delay=5, times=1)
    with pytest.raises(requests.Timeout):
        requests.get(url, params=params, timeout=0.2)
    standin.release()
    assert len(requests.get(url, params=params, timeout=5).json()["content"]) == 5


def test_null_faults_put_nulls_into_lists_without_touching_the_catalog(standin):
    client = spotipy_client(standin)
    artist_id = first_artist_id(client)
    genres = list(load_catalog().artists[artist_id]["genres"])
    standin.fault("artist", breaks="null", times=1)
    assert client.artist(artist_id)["genres"].count(None) == 1
    assert client.artist(artist_id)["genres"] == genres  # the catalog's own list is intact
    standin.fault("recommendations", breaks="null", times=20)
    seed = load_catalog().playlists[PLOTIFY_PLAYLIST_ID].entries[0].track_id
    for _ in range(20):
        client.recommendations(seed_tracks=[seed], limit=5)
    assert standin.nulls[("artist", "entry")] == 1
    # Both kinds of null appear: whole tracks and single artists of a track.
    assert standin.nulls[("recommendations", "entry")] > 0
    assert standin.nulls[("recommendations", "artist")] > 0


def test_fault_plans_are_seeded_and_respect_their_limits():
    def drawn(seed):
        plan = FaultPlan(seed, probability=0.3, only={"403": frozenset({"playlist"})})
        kinds = [
            (e, getattr(plan.draw(e), "status", None))
            for e in ["playlist", "artist", "audio_features", "token", "user"] * 200
        ]
        return kinds, plan

    first, plan = drawn(5)
    again, _ = drawn(5)
    other, _ = drawn(6)
    assert first == again and first != other
    assert 200 < sum(plan.injected.values()) < 400  # about 30 % of 1,000 calls
    assert set(plan.injected) == set(FaultPlan(0, 0).kinds)  # every kind drawn
    assert all(e == "playlist" for (e, kind) in plan.by_endpoint if kind == "403")
    assert all(e != "token" for (e, kind) in plan.by_endpoint if kind == "null")
    assert FaultPlan(5, probability=0.0).draw("artist") is None
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultPlan(1, 0.5, kinds=("500", "gremlins"))
