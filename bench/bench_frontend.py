"""Scatter-plot benchmark in headless Chromium: canvas renderer vs the seed's SVG circle per track.

The page's canvas renderer is set beside the seed's one-SVG-circle-per-track. For the Plotify
playlist, 10k and 100k tracks it times, in the same browser run, data arrival (parsed JSON in
hand) → first full paint, and one hover look-up (pointer position → nearest track → tooltip
text). At 100k it also times a lasso selection's point-in-polygon and a filter change's redraw
(median of 5 in one page), beside the plain redraw. Results go to bench/results/frontend.json
and frontend.md. Needs `npm run build`
(static/dist/bench.js) and a filled store.

    .venv/bin/python bench/bench_frontend.py [--database instance/plotify.sqlite3] [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import platform
import random
import sys
import tempfile
import threading
import time

from bench.common import ROOT, save_results

PLAYLIST_ID = "0fCFwL8LJE99raQb1g2YvF"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NUMERIC_JITTER = ("danceability", "energy")
GOALS = {"draw_ms_100k": 500.0, "hover_ms": 16.0, "lasso_ms_100k": 50.0, "filter_ms_100k": 100.0}

BENCH_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Plotify scatter benchmark</title>
<style>body{margin:0;background:#191414;color:#fff;font:12px sans-serif}
#stage{position:relative}.scatter-stage{position:relative}\
.scatter-stage svg,.scatter-stage canvas{position:absolute;left:0;top:0}</style>
<script type="module" src="dist/bench.js"></script></head>
<body><div id="stage"></div><div id="tooltip"></div></body></html>
"""


def fetch_payloads(database: str | None) -> dict[str, dict]:
    """The API's own /api/tracks payloads: the playlist, and the catalogue cut to 10k / padded
    to 100k."""
    from app import create_app

    config = {"TESTING": True}
    if database:
        config["DATABASE"] = database
    app = create_app(config)
    client = app.test_client()
    playlist = client.get(f"/api/tracks?playlist={PLAYLIST_ID}")
    catalogue = client.get("/api/tracks")
    if playlist.status_code != 200 or catalogue.status_code != 200:
        raise SystemExit(
            f"the API answered {playlist.status_code}/{catalogue.status_code}: is the store filled?"
        )
    playlist_payload = playlist.get_json()
    people = client.get("/api/playlists").get_json()["playlists"]
    playlist_payload["people"] = next((p["people"] for p in people if p["id"] == PLAYLIST_ID), [])
    full = catalogue.get_json()
    return {
        "plotify": playlist_payload,
        "10k": resize(full, 10_000),
        "100k": resize(full, 100_000),
    }


def resize(payload: dict, size: int) -> dict:
    """The first `size` tracks, or all of them plus jittered copies (distinct points) up to
    `size`."""
    columns = payload["columns"]
    count = payload["count"]
    rng = random.Random(7)
    picks = list(range(min(size, count))) + [
        rng.randrange(count) for _ in range(max(0, size - count))
    ]
    resized = {name: [values[i] for i in picks] for name, values in columns.items()}
    for name in NUMERIC_JITTER:
        values = resized[name]
        for position in range(count, len(picks)):
            if values[position] is not None:
                values[position] = min(1.0, max(0.0, values[position] + rng.uniform(-0.01, 0.01)))
    # The catalogue's ids are deferred (fetched when a track is opened), so only a payload that
    # carries them inline gets distinct ids for its copies.
    if "id" in resized:
        resized["id"] = [
            f"{track_id}-{n}" if n >= count else track_id
            for n, track_id in enumerate(resized["id"])
        ]
    return {**payload, "count": len(picks), "columns": resized}


def serve(directory: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # one line per request would drown the results
        pass


def median_run(runs: list[dict]) -> dict:
    """The run with the median first-full-draw time (so every number in a row comes from one
    run)."""
    ordered = sorted(runs, key=lambda r: r["first_full_draw_ms"])
    return ordered[len(ordered) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="SQLite store to read (default: the app's instance/plotify.sqlite3)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hovers", type=int, default=500)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    bundle = os.path.join(ROOT, "static", "dist", "bench.js")
    if not os.path.isfile(bundle):
        raise SystemExit("static/dist/bench.js is missing: run `npm ci && npm run build` first")

    from playwright.sync_api import sync_playwright

    started = time.time()
    payloads = fetch_payloads(args.database)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        os.symlink(os.path.join(ROOT, "static", "dist"), os.path.join(folder, "dist"))
        with open(os.path.join(folder, "bench.html"), "w", encoding="utf-8") as handle:
            handle.write(BENCH_PAGE)
        for name, payload in payloads.items():
            with open(os.path.join(folder, f"{name}.json"), "w", encoding="utf-8") as handle:
                json.dump(payload, handle, separators=(",", ":"))
        server, base = serve(folder)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=args.chromium, args=CHROMIUM_ARGS
                )
                version = browser.version
                for name in payloads:
                    for kind in ("canvas", "svg"):
                        runs = []
                        for _ in range(args.runs):
                            # A fresh page per run: no warm caches or leftover DOM from the
                            # previous renderer.
                            page = browser.new_page(viewport={"width": 1280, "height": 900})
                            page.goto(f"{base}/bench.html")
                            page.wait_for_function(
                                "window.plotifyBench && window.plotifyBench.ready"
                            )
                            runs.append(
                                page.evaluate(
                                    "([kind, url, options]) => "
                                    "window.plotifyBench.run(kind, url, options)",
                                    [
                                        kind,
                                        f"{name}.json",
                                        {
                                            "xName": "danceability",
                                            "yName": "energy",
                                            "hovers": args.hovers,
                                        },
                                    ],
                                )
                            )
                            page.close()
                        best = median_run(runs)
                        best["first_full_draw_ms_runs"] = [
                            round(r["first_full_draw_ms"], 1) for r in runs
                        ]
                        results.setdefault(name, {})[kind] = best
                        print(
                            f"{name:>7} {kind:>6}: {best['points']:>7,} points, first full draw "
                            f"{best['first_full_draw_ms']:8.1f} ms, "
                            f"hover mean {best['hover']['mean_ms']:.3f} ms "
                            f"p95 {best['hover']['p95_ms']:.1f} ms",
                            flush=True,
                        )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{base}/bench.html")
                page.wait_for_function("window.plotifyBench && window.plotifyBench.ready")
                selection = page.evaluate(
                    "([url, options]) => window.plotifyBench.run('selection', url, options)",
                    ["100k.json", {"xName": "danceability", "yName": "energy", "repeats": 5}],
                )
                page.close()
                results["selection_100k"] = selection
                print(
                    f"   100k selection: redraw {selection['draw_ms']:.1f} ms, lasso "
                    f"{selection['lasso_ms']:.1f} ms ({selection['selected']:,} selected), "
                    f"filter change {selection['filter_redraw_ms']:.1f} ms "
                    f"(to paint {selection['filter_to_paint_ms']:.1f} ms)",
                    flush=True,
                )
                browser.close()
        finally:
            server.shutdown()

    report = {
        "benchmark": "bench/bench_frontend.py",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "chromium": version,
            "flags": CHROMIUM_ARGS,
        },
        "method": {
            "data_arrival": (
                "parsed /api/tracks JSON in hand inside the page (fetch + json() not timed)"
            ),
            "first_full_draw": (
                "arrival → typed arrays + colour coding + scales + every mark drawn + "
                "the browser's next paint"
            ),
            "hover": (
                "one look-up: pointer position → nearest visible track (canvas: d3 quadtree; "
                "svg: the browser's elementFromPoint hit test) → tooltip text set; "
                "median/p95/max over random positions"
            ),
            "hover_index_build_ms": (
                "canvas only: building the quadtree, done once after each axis/visibility change"
            ),
            "sizes": (
                "plotify = the Plotify playlist; 10k = first 10,000 catalogue tracks; "
                "100k = the catalogue plus jittered copies of random tracks up to 100,000"
            ),
            "selection_100k": (
                "one page, 100k points, median of 5: redraw = renderer.draw() of every mark; "
                "lasso = point-in-polygon of a 240-vertex free-hand-like loop over the "
                "Float32Array pixel positions (edges bucketed in 64 bands); "
                "filter change = energy/tempo ranges evaluated over the Float64Array columns "
                "+ per-track tiers + full redraw "
                "(to paint: until the browser's next frame)"
            ),
            "runs": args.runs,
            "axes": "danceability × energy",
        },
        "goals": GOALS,
        "results": results,
        "seconds": round(time.time() - started, 1),
    }
    save_results("frontend", report, markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = [
        "# Scatter plot: canvas renderer vs one SVG circle per track",
        "",
        f"Run {report['when']} on {report['machine']['platform']} "
        f"({report['machine']['cpus']} CPUs), "
        f"headless Chromium {report['machine']['chromium']} "
        "with `--disable-gpu` (software raster), "
        f"median of {report['method']['runs']} runs by first-full-draw time. "
        "Produced by `bench/bench_frontend.py`.",
        "",
        "| data | points | renderer | first full draw (ms) | all runs (ms) | draw call (ms) "
        "| hover mean (ms) | hover p95 (ms) | hover max (ms) | quadtree build (ms) |",
        "|---|---:|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, kinds in report["results"].items():
        if name == "selection_100k":
            continue
        for kind, r in kinds.items():
            index_build = f"{r['hover_index_build_ms']:.1f}" if "hover_index_build_ms" in r else "—"
            lines.append(
                f"| {name} | {r['points']:,} | "
                f"{'canvas (app)' if kind == 'canvas' else 'SVG (seed)'} | "
                f"{r['first_full_draw_ms']:.1f} | "
                f"{', '.join(str(v) for v in r['first_full_draw_ms_runs'])} | "
                f"{r['draw_ms']:.1f} | {r['hover']['mean_ms']:.3f} | "
                f"{r['hover']['p95_ms']:.1f} | {r['hover']['max_ms']:.1f} | {index_build} |"
            )
    lines += ["", "Ratios (SVG ÷ canvas) in the same run:", ""]
    for name, kinds in report["results"].items():
        if name != "selection_100k" and "canvas" in kinds and "svg" in kinds:
            c, s = kinds["canvas"], kinds["svg"]
            lines.append(
                f"- {name}: first full draw "
                f"×{s['first_full_draw_ms'] / max(c['first_full_draw_ms'], 1e-9):.1f}, "
                f"hover mean ×{s['hover']['mean_ms'] / max(c['hover']['mean_ms'], 1e-6):.0f}"
            )
    big = report["results"].get("100k", {}).get("canvas")
    if big:
        lines += [
            "",
            f"Goals: 100k points drawn ≤ {GOALS['draw_ms_100k']:.0f} ms "
            f"→ {big['first_full_draw_ms']:.0f} ms "
            f"({'met' if big['first_full_draw_ms'] <= GOALS['draw_ms_100k'] else 'missed'}); "
            "hover ≤ "
            f"{GOALS['hover_ms']:.0f} ms → p95 {big['hover']['p95_ms']:.2f} ms "
            f"({'met' if big['hover']['p95_ms'] <= GOALS['hover_ms'] else 'missed'}).",
        ]
    chosen = report["results"].get("selection_100k")
    if chosen:
        runs = lambda key: ", ".join(f"{v:.1f}" for v in chosen[key])  # noqa: E731
        lasso_met = chosen["lasso_ms"] <= GOALS["lasso_ms_100k"]
        filter_met = chosen["filter_to_paint_ms"] <= GOALS["filter_ms_100k"]
        lines += [
            "",
            f"## Selection and filters at {chosen['points']:,} points (median of 5)",
            "",
            "| step | median (ms) | runs (ms) |",
            "|---|---:|---|",
            f"| redraw of every mark (today's draw) | {chosen['draw_ms']:.1f} "
            f"| {runs('draw_ms_runs')} |",
            f"| lasso point-in-polygon ({chosen['lasso_vertices']} vertices, "
            f"{chosen['selected']:,} selected) | {chosen['lasso_ms']:.1f} "
            f"| {runs('lasso_ms_runs')} |",
            f"| lasso + combining into the selection | {chosen['lasso_and_combine_ms']:.1f} | — |",
            f"| filter change: mask + tiers + redraw | {chosen['filter_redraw_ms']:.1f} "
            f"| {runs('filter_redraw_ms_runs')} |",
            f"| filter change to the next paint | {chosen['filter_to_paint_ms']:.1f} "
            f"| {runs('filter_to_paint_ms_runs')} |",
            "",
            f"Goals: lasso ≤ {GOALS['lasso_ms_100k']:.0f} ms → {chosen['lasso_ms']:.1f} ms "
            f"({'met' if lasso_met else 'missed'}); filter change redrawn ≤ "
            f"{GOALS['filter_ms_100k']:.0f} ms → {chosen['filter_to_paint_ms']:.1f} ms to paint "
            f"({'met' if filter_met else 'missed'}).",
        ]
    lines += [
        "",
        "Notes: `performance.now()` is coarsened to 0.1 ms in the browser, "
        "so per-hover p95 is a bound and the "
        "mean is taken over the whole loop of look-ups. "
        "The quadtree is built in idle time right after the first "
        "paint (requestIdleCallback), not before it; "
        "a hover before it is ready builds it on the spot. "
        "Timings are from a shared 2-CPU machine; see `all runs` for the spread.",
        "",
    ]
    lines += [
        "Method: " + "; ".join(f"**{k}**: {v}" for k, v in report["method"].items() if k != "runs"),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
