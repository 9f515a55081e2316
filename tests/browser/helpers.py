"""Shared pieces of the browser tests: ids from the real data and page helpers.

Canvas marks need test hooks.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from tests.support import PLAYLIST_TRACKS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "browser")
PLAYLIST_ID = "0fCFwL8LJE99raQb1g2YvF"
PLAYLIST_SIZE = PLAYLIST_TRACKS
CHARLES = "1221063701"  # one of the six people of the Plotify playlist (36 tracks)

# wait_for_function gets arrow functions only: Playwright evals bare expressions, which the CSP
# forbids.


def api_json(base_url: str, path: str) -> dict:
    """The JSON body of a successful GET on the live server."""
    with urllib.request.urlopen(base_url + path, timeout=60) as response:
        return json.loads(response.read())


def api_status(base_url: str, path: str) -> int:
    """HTTP status of a GET on the live server."""
    try:
        with urllib.request.urlopen(base_url + path, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def open_playlist(page) -> None:
    """Opens the page and waits for the Plotify playlist's scatter plot."""
    page.goto("/")
    page.wait_for_function(
        "() => window.plotify && window.plotify.scatter && window.plotify.scatter.pointCount > 0"
    )


def wait_still(page) -> None:
    """Waits for the points to finish gliding to new axes."""
    page.wait_for_function("() => !window.plotify.scatter.isAnimating")


def isolated_track(page, min_gap_px: float = 14.0, within_height: float = 1e9) -> str:
    """Id of a drawn track with no other drawn track within min_gap_px: unambiguous to point at
    (and, with within_height, inside the window's top within_height pixels)."""
    return page.evaluate(
        """([gap, height]) => {
            const s = window.plotify.scatter;
            const ids = [].concat(...s.categories().map((c) => s.idsInCategory(c.key)));
            const points = ids.map((id) => [id, s.positionOf(id)]).filter(([, p]) => p);
            for (const [id, p] of points) {
                if (p.y < 8 || p.y > height - 8) continue;
                if (points.every(([other, q]) => other === id"""
        """ || Math.hypot(p.x - q.x, p.y - q.y) > gap)) return id;
            }
            return null;
        }""",
        [min_gap_px, within_height],
    )


def playlist_track(page, track_id: str) -> dict:
    """Name, artists and adding person of a playlist track, as the API reports them."""
    return page.evaluate(
        """async ([playlist, id]) => {
            const reply = await (await fetch(`/api/tracks?playlist=${playlist}`)).json();
            const i = reply.columns.id.indexOf(id);
            return {name: reply.columns.name[i], artists: reply.columns.artists[i],"""
        """ person: reply.columns.added_by[i]};
        }""",
        [PLAYLIST_ID, track_id],
    )


def contract_track(page) -> dict:
    """The first Plotify track with every field, as the API reports it."""
    return page.evaluate(
        """async (playlist) => {
            const reply = await (await fetch(`/api/tracks?playlist=${playlist}`)).json();
            const track = {};
            for (const [name, values] of Object.entries(reply.columns)) track[name] = values[0];
            return track;
        }""",
        PLAYLIST_ID,
    )
