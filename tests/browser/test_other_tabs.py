"""Recommendations, genre predictor, clusters and definitions tabs in Chromium."""

from __future__ import annotations

import pytest

from tests.browser.helpers import CHARLES, api_json, api_status, contract_track

pytestmark = pytest.mark.browser


def test_recommendations_fill_and_sort(page, screenshot):
    page.goto("/#recommendations")
    page.select_option("#rec-person", CHARLES)
    tracks = page.get_by_test_id("person-tracks").locator("button")
    tracks.first.wait_for()
    assert tracks.count() == 36
    tracks.first.click()
    table = page.get_by_test_id("recommendations")
    table.wait_for()
    assert table.locator("tbody tr").count() > 0
    assert (
        table.locator("tbody a")
        .first.get_attribute("href")
        .startswith("https://open.spotify.com/track/")
    )
    table.get_by_role("button", name="Energy").click()
    energies = [
        float(v)
        for v in table.locator("tbody tr td:nth-child(8)").all_inner_texts()
        if v != "\u2014"
    ]
    assert energies == sorted(energies, reverse=True)
    screenshot(page, "recommendations")
    assert page.console.unexpected() == []


def test_predictor_refuses_empty_input_politely(page):
    page.goto("/#predict")
    requests = []
    page.on(
        "request", lambda request: "/api/predict" in request.url and requests.append(request.url)
    )
    page.locator("#predict-track").press("Enter")
    notice = page.get_by_test_id("predict-notice")
    notice.wait_for()
    assert "Type an artist" in notice.inner_text()
    assert requests == []


def test_predictor_returns_a_genre_for_a_catalogue_track(page, live_server, screenshot):
    assert api_status(live_server, "/api/predict?track=Comedy&artist=Gen%20Hoshino") == 200
    page.goto("/#predict")
    page.fill("#predict-artist", "Gen Hoshino")
    page.fill("#predict-track", "Comedy")
    page.locator("#predict-track").press("Enter")
    result = page.get_by_test_id("predict-result")
    result.wait_for()
    assert page.get_by_test_id("predicted-genre").inner_text().strip() not in ("", "\u2014")
    assert page.get_by_test_id("predicted-family").inner_text().strip() not in ("", "\u2014")
    assert "Comedy" in result.locator(".matched-track").inner_text()
    assert result.locator(".bar-chart .bar").count() >= 3
    assert result.locator(".similar-table tbody tr").count() > 0
    # Gen Hoshino has other tracks in the catalogue, which the model heard too.
    others = api_json(live_server, "/api/predict?track=Comedy&artist=Gen%20Hoshino")["features"]
    assert others["artist_tracks"] > 0
    assert (
        f"{others['artist_tracks']} other tracks" in result.locator(".artist-context").inner_text()
    )
    screenshot(page, "predictor")
    assert page.console.unexpected() == []


def test_predictor_shows_an_error_for_nonsense(page):
    page.goto("/#predict")
    page.fill("#predict-artist", "qzxqzx vlorp")
    page.fill("#predict-track", "zzqqxx florb")
    page.locator("#predict-artist").press("Enter")
    error = page.get_by_test_id("predict-error")
    error.wait_for()
    assert error.inner_text().strip()
    # The server's 404 (no match) is expected; nothing else may be logged.
    assert page.console.unexpected(allowed_statuses=(404,)) == []


def test_clusters_render(page, live_server, screenshot):
    assert api_status(live_server, "/api/clusters") == 200
    page.goto("/#clusters")
    bubbles = page.get_by_test_id("cluster-bubbles").locator(".cluster-bubble")
    bubbles.first.wait_for()
    assert bubbles.count() > 1
    second = bubbles.nth(1)
    cluster_id = second.get_attribute("data-cluster")
    second.click()
    details = page.get_by_test_id("cluster-details")
    assert f"Cluster {cluster_id}" in details.inner_text()
    assert details.locator(".bar-chart .bar").count() > 0
    screenshot(page, "clusters")
    assert page.console.unexpected() == []


def test_definitions_and_axis_help(page, screenshot):
    page.goto("/#definitions")
    definitions = page.locator(".definition")
    definitions.first.wait_for()
    assert definitions.count() >= 12
    assert "dance" in page.locator("#definition-danceability").inner_text().lower()
    screenshot(page, "definitions")
    page.get_by_role("tab", name="Playlist").click()
    page.wait_for_function("() => window.plotify && window.plotify.scatter")
    # The same definitions sit under (and as tooltips on) the axis selectors.
    assert "dance" in page.locator("#x-axis-help").inner_text().lower()
    assert page.locator("#x-axis").get_attribute("title")


# ---- the predictor and clusters views against the API contract -----------------------------------
# These run whether or not a model is trained: the API's reply is replaced (page.route) by one built
# from a real playlist track in the documented shape, so every part of the view is checked in every
# run.


def test_predictor_renders_every_part_of_the_contract(page, screenshot):
    page.goto("/#predict")
    track = contract_track(page)
    features = {
        name: track[name]
        for name in ("danceability", "energy", "valence", "acousticness", "tempo", "loudness")
    }
    reply = {
        "match": track,
        "candidates": [
            {"id": track["id"], "name": track["name"], "artists": track["artists"]},
            {
                "id": "0ofHAoxe9vBkTCp2UQIavz",
                "name": "Dreams - 2004 Remaster",
                "artists": "Fleetwood Mac",
            },
        ],
        "prediction": {
            "genres": [
                {"genre": "disco", "probability": 0.41},
                {"genre": "funk", "probability": 0.22},
                {"genre": "soul", "probability": 0.12},
            ],
            "families": [
                {"family": "soul, funk & gospel", "probability": 0.63},
                {"family": "pop", "probability": 0.2},
            ],
        },
        "actual": {"labels": ["disco"], "artist_genres": ["disco", "soft rock"]},
        "features": features,
        "similar": [
            {
                "id": "0ofHAoxe9vBkTCp2UQIavz",
                "name": "Dreams - 2004 Remaster",
                "artists": "Fleetwood Mac",
                "genre": "rock",
                "distance": 0.123,
            }
        ],
        "sources": {
            "track": "catalogue",
            "features": "file:user_song_info.csv",
            "model": "genre-mlp (contract test)",
        },
    }
    page.route("**/api/predict?*", lambda route: route.fulfill(json=reply))
    page.fill("#predict-artist", track["artists"])
    page.fill("#predict-track", track["name"])
    page.locator("#predict-track").press("Enter")
    result = page.get_by_test_id("predict-result")
    result.wait_for()
    assert page.get_by_test_id("predicted-genre").inner_text() == "disco"
    assert page.get_by_test_id("predicted-family").inner_text() == "soul, funk & gospel"
    assert result.locator(".bar-chart").first.locator(".bar").count() == 3
    assert "Dreams - 2004 Remaster" in result.locator(".candidates").inner_text()
    assert "soft rock" in result.locator(".actual-genres").inner_text()
    assert "genre-mlp (contract test)" in result.locator(".sources-list").inner_text()
    assert result.locator(".feature-bars .bar").count() == len(features)
    screenshot(page, "predictor-contract")
    assert page.console.unexpected() == []


def test_clusters_render_the_contract(page, screenshot):
    page.goto("/#definitions")
    track = contract_track(page)
    means = {
        "danceability": 0.6,
        "energy": 0.7,
        "valence": 0.5,
        "acousticness": 0.2,
        "tempo": 118.0,
    }
    reply = {
        "clusters": [
            {
                "id": i,
                "size": size,
                "exemplar": track,
                "genres": [{"genre": genre, "share": 0.5}, {"genre": "pop", "share": 0.3}],
                "mean_features": means,
            }
            for i, (size, genre) in enumerate(
                [(900, "disco"), (400, "metal"), (250, "ambient"), (60, "disco")]
            )
        ],
        "features": list(means),
        "n_tracks": 1610,
    }
    page.route("**/api/clusters", lambda route: route.fulfill(json=reply))
    page.get_by_role("tab", name="Clusters").click()
    bubbles = page.get_by_test_id("cluster-bubbles").locator(".cluster-bubble")
    bubbles.first.wait_for()
    assert bubbles.count() == 4
    page.locator(".cluster-bubble[data-cluster='2']").click()
    details = page.get_by_test_id("cluster-details")
    assert "Cluster 2" in details.inner_text() and "250 tracks" in details.inner_text()
    page.select_option("#cluster-select", "1")
    assert "Cluster 1" in details.inner_text()
    assert track["name"] in details.inner_text()
    screenshot(page, "clusters-contract")
    assert page.console.unexpected() == []
