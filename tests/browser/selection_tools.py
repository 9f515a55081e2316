"""Browser-test tools for the Playlist tab's selection, filters and table.

Drawing shapes at data values, the expected answers computed here from the API's own columns,
and small screenshots.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs

from tests.browser.helpers import PLAYLIST_ID, ROOT

SCREENS = os.path.join(ROOT, "bench", "results", "screens")


def columns(page, source: str = f"playlist={PLAYLIST_ID}") -> dict:
    """The /api/tracks columns of a source, fetched by the page (as the app sees them)."""
    return page.evaluate(
        """async (query) => {
            const read = async (q) => (await fetch(`/api/tracks?${q}`)).json();
            const body = await read(query);
            // A dataset's or the catalogue's ids come in their own document, row for row.
            if (body.ids?.deferred) {
                const more = query ? `${query}&` : "";
                body.columns.id = (await read(`${more}part=ids&version=${body.ids.version}`)).ids;
            }
            return body.columns;
        }""",
        source,
    )


def inside_polygon(x: float, y: float, polygon: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting, written independently of the page's code."""
    inside = False
    for (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (ay > y) != (by > y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return inside


def near_edge(x: float, y: float, polygon, tolerance: float) -> bool:
    """Whether (x, y) lies within tolerance of the polygon's outline."""
    for (ax, ay), (bx, by) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = 0.0 if length == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length))
        if (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= tolerance * tolerance:
            return True
    return False


def assert_same_but_outline(cols: dict, x: str, y: str, polygon, got: set, expected: set):
    """got == expected except for tracks lying on the outline itself (within 1/100 of a pixel).

    The page tests unzoomed pixel positions (Float32Array), this file data values in doubles: a
    track exactly on an edge (the catalogue's values sit on a 0.001 grid, so many do) may fall
    either way.
    """
    position = {t: (xv, yv) for t, xv, yv in zip(cols["id"], cols[x], cols[y], strict=True)}
    differing = got ^ expected
    assert all(near_edge(*position[t], polygon, 2e-5) for t in differing), sorted(differing)[:5]
    assert len(differing) <= max(2, len(expected) // 500)


def ids_in_polygon(cols: dict, x: str, y: str, polygon) -> set[str]:
    return {
        track_id
        for track_id, xv, yv in zip(cols["id"], cols[x], cols[y], strict=True)
        if xv is not None and yv is not None and inside_polygon(xv, yv, polygon)
    }


def ids_in_box(cols: dict, x: str, y: str, box) -> set[str]:
    x0, y0, x1, y1 = box
    return {
        track_id
        for track_id, xv, yv in zip(cols["id"], cols[x], cols[y], strict=True)
        if xv is not None
        and yv is not None
        and min(x0, x1) <= xv <= max(x0, x1)
        and min(y0, y1) <= yv <= max(y0, y1)
    }


def page_point(page, x: float, y: float) -> tuple[float, float]:
    point = page.evaluate("([x, y]) => window.plotify.scatter.dataToPage(x, y)", [x, y])
    return point["x"], point["y"]


def drag(page, tool: str, data_points, modifier: str | None = None) -> None:
    """Draws a lasso through data points (or a box between two corners) with the mouse."""
    page.click(f"[data-tool='{tool}']")
    screen = [page_point(page, x, y) for x, y in data_points]
    if modifier:
        page.keyboard.down(modifier)
    page.mouse.move(*screen[0])
    page.mouse.down()
    for point in screen[1:] + ([screen[0]] if tool == "lasso" else []):
        page.mouse.move(*point, steps=6)
    page.mouse.up()
    if modifier:
        page.keyboard.up(modifier)


def hash_params(page) -> dict[str, str]:
    hash_ = page.evaluate("() => location.hash")
    assert hash_.startswith("#playlist?"), hash_
    return {k: v[0] for k, v in parse_qs(hash_.split("?", 1)[1]).items()}


def last_shape(page) -> tuple[str, str, list[tuple[float, float]]]:
    """The last shape drawn as the page recorded it: its axes and its data-coordinate points."""
    shape = page.evaluate("() => window.plotify.playlist.shapes.at(-1)")
    values = shape["points"]
    return shape["x"], shape["y"], list(zip(values[::2], values[1::2], strict=True))


def selected_ids(page) -> list[str]:
    return page.evaluate("() => window.plotify.playlist.selectedIds()")


def listed_ids(page) -> list[str]:
    return page.evaluate("() => window.plotify.playlist.listedIds()")


def screen(page, name: str, selector: str | None = None) -> str:
    """A small png of one view for the closing note, under bench/results/screens/."""
    os.makedirs(SCREENS, exist_ok=True)
    path = os.path.join(SCREENS, f"{name}.png")
    target = page.locator(selector).first if selector else page
    target.screenshot(path=path, scale="css", animations="disabled")
    return path
