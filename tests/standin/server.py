"""A loopback stand-in for the Spotify Web API and ReccoBeats, with fault switches and counts."""

from __future__ import annotations

import collections
import copy
import json
import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.standin.accounts import ACCOUNT_ROUTES, Accounts
from tests.standin.catalog import Catalog, Entry, load_catalog, synthetic_id, synthetic_uuid
from tests.standin.wire import CLIENT_ID, CLIENT_SECRET, DEFAULT_ERRORS, ApiResponse

ITEMS_MAX = 50  # /playlists/{id}/items allows 50 per page since Feb 2026
RECCOBEATS_FEATURES_MAX = 40  # ReccoBeats drops ids beyond 40, as clients report

QUOTA_BODY = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}


# What a fault does to the answer, beyond an error status:
#   reset           the connection is closed with a TCP reset and no answer at all
#   truncated_body  headers promise the whole body, half of it is sent, then the connection closes
#   truncated_json  a complete 200 answer whose JSON text is cut in half
#   null            a normal answer with one entry of its item/feature/artist list set to null
# A timeout is a `delay` longer than the client's timeout (ETL_HTTP_TIMEOUT); see FaultPlan.
BROKEN_ANSWERS = ("reset", "truncated_body", "truncated_json", "null")


@dataclass
class Fault:
    """How one endpoint misbehaves.

    The first `after` calls are answered normally; then `times` calls (None: every call) get the
    fault: a wait of `delay` seconds (cut short by StandIn.release()), then `status` with its
    error body, Retry-After and reason, or — when status is None — the normal answer, broken as
    `breaks` says (one of BROKEN_ANSWERS) or, without it, merely slow.
    """

    status: int | None = None
    times: int | None = None
    after: int = 0
    retry_after: float | None = None
    reason: str | None = None
    delay: float = 0.0
    breaks: str | None = None
    fired: int = 0

    def __post_init__(self):
        if self.breaks is not None and self.breaks not in BROKEN_ANSWERS:
            raise ValueError(f"breaks must be one of {BROKEN_ANSWERS}, not {self.breaks!r}")


# Fault kinds a FaultPlan draws from, each a Fault factory given the plan (for its timings).
FAULT_KINDS = {
    "429": lambda plan: Fault(status=429, retry_after=plan.retry_after),
    "quota": lambda plan: Fault(status=429, reason="QUOTA_EXCEEDED", retry_after=86400),
    "403": lambda plan: Fault(status=403),
    "404": lambda plan: Fault(status=404),
    "500": lambda plan: Fault(status=500),
    "503": lambda plan: Fault(status=503),
    "timeout": lambda plan: Fault(delay=plan.timeout_delay),
    "reset": lambda plan: Fault(breaks="reset"),
    "truncated_body": lambda plan: Fault(breaks="truncated_body"),
    "truncated_json": lambda plan: Fault(breaks="truncated_json"),
    "null": lambda plan: Fault(breaks="null"),
}
# Which endpoints' answers carry a list a null can be put into, and where the list is.
NULLABLE_LISTS = {
    "playlist": ("items", "items"),
    "playlist_items": ("items",),
    "audio_features": ("audio_features",),
    "artist": ("genres",),
    "recommendations": ("tracks",),
    "search": ("tracks", "items"),
    "track": ("artists",),
    "rb_audio_features": ("content",),
    "rb_recommendation": ("content",),
}


@dataclass
class FaultPlan:
    """Random faults, reproducible: every call draws from one generator seeded with `seed`.

    Each call to an eligible endpoint gets a fault with probability `probability`, its kind drawn
    uniformly from `kinds`. `only` limits a kind to some endpoints (e.g. 403 only where it stops
    the run); "null" only ever hits endpoints whose answers hold a list. An explicit
    StandIn.fault() on an endpoint takes precedence over the plan. `injected` counts what was
    drawn by kind, `by_endpoint` by (endpoint, kind).
    """

    seed: int
    probability: float
    kinds: tuple[str, ...] = tuple(FAULT_KINDS)
    only: dict[str, frozenset[str]] = field(default_factory=dict)
    endpoints: frozenset[str] | None = None  # None: every endpoint but the /authorize page
    retry_after: float = 0.05
    timeout_delay: float = 1.0
    enabled: bool = True
    injected: collections.Counter = field(default_factory=collections.Counter)
    by_endpoint: collections.Counter = field(default_factory=collections.Counter)

    def __post_init__(self):
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; choose from {list(FAULT_KINDS)}")
        self._random = random.Random(self.seed)

    def draw(self, endpoint: str) -> Fault | None:
        """The fault for this call, or None (the caller holds the stand-in's lock)."""
        if not self.enabled or endpoint == "authorize":
            return None
        if self.endpoints is not None and endpoint not in self.endpoints:
            return None
        # Draw both numbers on every call so one endpoint's eligibility never shifts the
        # sequence another endpoint sees.
        roll, pick = self._random.random(), self._random.random()
        if roll >= self.probability:
            return None
        eligible = [
            k
            for k in self.kinds
            if endpoint in self.only.get(k, (endpoint,))
            and (k != "null" or endpoint in NULLABLE_LISTS)
        ]
        if not eligible:
            return None
        kind = eligible[int(pick * len(eligible))]
        self.injected[kind] += 1
        self.by_endpoint[(endpoint, kind)] += 1
        return FAULT_KINDS[kind](self)

    def choose(self, count: int) -> int:
        """A reproducible index below count (which list entry a null replaces)."""
        return self._random.randrange(count)


# (method, path regex, endpoint name). ReccoBeats lives under /reccobeats on the same server.
ROUTES = [
    *ACCOUNT_ROUTES,
    ("GET", r"/v1/playlists/(?P<id>\w+)", "playlist"),
    ("GET", r"/v1/playlists/(?P<id>\w+)/items", "playlist_items"),
    ("GET", r"/v1/playlists/(?P<id>\w+)/tracks", "playlist_tracks"),
    ("GET", r"/v1/audio-features/?", "audio_features"),
    ("GET", r"/v1/artists/(?P<id>\w+)", "artist"),
    ("GET", r"/v1/artists/?", "artists"),
    ("GET", r"/v1/tracks/(?P<id>\w+)", "track"),
    ("GET", r"/v1/tracks/?", "tracks"),
    ("GET", r"/v1/recommendations/available-genre-seeds", "genre_seeds"),
    ("GET", r"/v1/recommendations/?", "recommendations"),
    ("GET", r"/v1/search/?", "search"),
    ("GET", r"/v1/users/(?P<id>[\w.]+)", "user"),
    ("GET", r"/reccobeats/v1/audio-features/?", "rb_audio_features"),
    ("GET", r"/reccobeats/v1/track/recommendation/?", "rb_recommendation"),
    ("GET", r"/reccobeats/v1/track/?", "rb_track"),
]
_COMPILED = [(m, re.compile(p + r"$"), name) for m, p, name in ROUTES]


class StandIn(Accounts):
    """The server: start() on a free 127.0.0.1 port, point spotipy at .url, stop() when done."""

    def __init__(self, catalog: Catalog | None = None, embedded_items: int = ITEMS_MAX):
        self.catalog = (catalog or load_catalog()).copy()
        self.embedded_items = embedded_items
        self.item_key = "item"  # "item" (2026 name), "track" (old name) or "both"
        self.spotify_unknown: set[str] = set()  # ids /audio-features answers null for
        self.faults: dict[str, Fault] = {}
        self.plan: FaultPlan | None = None
        # Nulls put into answers: (endpoint, what was nulled) → count; what is "entry" or "artist".
        self.nulls: collections.Counter = collections.Counter()
        self.calls: collections.Counter = collections.Counter()
        self.log: list[tuple[str, str]] = []
        self.tokens: set[str] = set()  # every access token issued (checked by check_token)
        self.init_accounts()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> StandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def config(self) -> dict:
        """Flask config keys that point the ETL at this server."""
        return {
            "SPOTIFY_CLIENT_ID": CLIENT_ID,
            "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
            "SPOTIFY_REDIRECT_URI": "http://127.0.0.1:8888/callback",
            "SPOTIFY_API_BASE": self.url,
            "SPOTIFY_TOKEN_URL": self.url + "/api/token",
            "SPOTIFY_AUTHORIZE_URL": self.url + "/authorize",
            "RECCOBEATS_API_BASE": self.url + "/reccobeats",
        }

    # -- switches -------------------------------------------------------------------------------
    def fault(self, endpoint: str, **settings) -> Fault:
        if endpoint not in {name for _, _, name in ROUTES}:
            raise KeyError(f"no endpoint {endpoint!r}")
        self.faults[endpoint] = Fault(**settings)
        return self.faults[endpoint]

    def clear_faults(self) -> None:
        self.faults.clear()

    def release(self) -> None:
        """End every delayed answer now (used to unblock a request whose client was killed).

        Answers delayed after this call wait again: each delay waits on the event current when
        it started, and release() swaps in a fresh one.
        """
        with self._lock:
            released, self._release = self._release, threading.Event()
        released.set()

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.log.clear()

    def spotify_calls(self) -> int:
        """API calls made to Spotify (token requests excluded)."""
        return sum(
            n
            for name, n in self.calls.items()
            if name not in ("token", "authorize") and not name.startswith("rb_")
        )

    # -- dispatch -------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers, body: bytes) -> ApiResponse:
        parts = urlsplit(raw_path)
        query = {k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        for route_method, pattern, name in _COMPILED:  # noqa: B007 - name is read after the loop
            match = pattern.match(parts.path)
            if match and route_method == method:
                break
        else:
            return ApiResponse(404, {"error": {"status": 404, "message": "Service not found"}})
        with self._lock:
            self.calls[name] += 1
            count = self.calls[name]
            self.log.append((name, raw_path))
            fault = self.faults.get(name)
            firing = (
                fault is not None
                and count > fault.after
                and (fault.times is None or fault.fired < fault.times)
            )
            if firing:
                fault.fired += 1
            elif self.plan is not None and name not in self.faults:
                fault = self.plan.draw(name)
                firing = fault is not None
            release = self._release
        if firing:
            if fault.delay:
                release.wait(fault.delay)
            if fault.status is not None:
                return self._fault_response(fault)
            if fault.breaks == "reset":
                return ApiResponse(0, None, breaks="reset")
        if name not in ("token", "authorize") and not name.startswith("rb_"):
            refusal = self.check_token((headers.get("Authorization") or "").removeprefix("Bearer "))
            if refusal is not None:
                return refusal
        handler = getattr(self, "_" + name)
        answer = handler(query=query, body=body, headers=headers, **match.groupdict())
        if firing and fault.breaks == "null":
            self._put_null(name, answer)
        elif firing and fault.breaks and answer.status == 200:
            answer.breaks = fault.breaks
        return answer

    def _put_null(self, endpoint: str, answer: ApiResponse) -> None:
        """Replace one entry of the answer's list (or one artist of a listed track) by null."""
        if answer.status != 200 or endpoint not in NULLABLE_LISTS:
            return
        # Answers may share lists with the catalog (an artist's genres): null a private copy.
        answer.body = copy.deepcopy(answer.body)
        listed = answer.body
        for key in NULLABLE_LISTS[endpoint]:
            listed = (listed or {}).get(key)
        if not listed:
            return
        with self._lock:
            chooser = self.plan.choose if self.plan is not None else _FIXED_CHOICE.randrange
            index = chooser(len(listed))
            entry = listed[index]
            # A listed track object (or a playlist row holding one) sometimes keeps its place
            # and loses one of its artists instead: the other kind of null Spotify sends.
            row = entry if isinstance(entry, dict) else {}
            track = row.get("item") or row.get("track") or row
            artists = track.get("artists") if isinstance(track, dict) else None
            if artists and chooser(2) == 0:
                artists[chooser(len(artists))] = None
                self.nulls[(endpoint, "artist")] += 1
            else:
                listed[index] = None
                self.nulls[(endpoint, "entry")] += 1

    @staticmethod
    def _fault_response(fault: Fault) -> ApiResponse:
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.status == 429 and fault.reason == "QUOTA_EXCEEDED":
            body = QUOTA_BODY
        else:
            body = json.loads(
                json.dumps(DEFAULT_ERRORS.get(fault.status, {"error": {"status": fault.status}}))
            )
            if fault.reason:
                body["error"]["reason"] = fault.reason
        return ApiResponse(fault.status, body, headers)

    # -- objects --------------------------------------------------------------------------------
    def _track_object(self, track_id: str) -> dict:
        info = self.catalog.tracks[track_id]
        artists = [
            {
                "id": synthetic_id("artist", name),
                "name": name,
                "type": "artist",
                "uri": f"spotify:artist:{synthetic_id('artist', name)}",
                "href": f"{self.url}/v1/artists/{synthetic_id('artist', name)}",
            }
            for name in info["artists"]
        ]
        album = {
            "id": synthetic_id("album", info["album"] or track_id),
            "name": info["album"],
            "type": "album",
            "release_date": info["release_date"] or "",
            "release_date_precision": "day",
        }
        return {
            "album": album,
            "artists": artists,
            "duration_ms": info["duration_ms"],
            "explicit": info["explicit"],
            "href": f"{self.url}/v1/tracks/{track_id}",
            "id": track_id,
            "is_local": False,
            "name": info["name"],
            "popularity": info["popularity"],
            "type": "track",
            "uri": f"spotify:track:{track_id}",
            "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        }

    def _user_object(self, user_id: str) -> dict:
        return {
            "id": user_id,
            "type": "user",
            "uri": f"spotify:user:{user_id}",
            "href": f"{self.url}/v1/users/{user_id}",
            "external_urls": {"spotify": f"https://open.spotify.com/user/{user_id}"},
        }

    def _entry_object(self, entry: Entry, position: int) -> dict:
        if entry.kind == "track":
            item = self._track_object(entry.track_id)
        elif entry.kind == "local":
            item = {
                "id": None,
                "name": f"Voice memo {position}.mp3",
                "type": "track",
                "is_local": True,
                "uri": f"spotify:local:::Voice+memo+{position}.mp3:0",
                "artists": [{"id": None, "name": "", "type": "artist"}],
                "album": {"id": None, "name": ""},
                "duration_ms": 61000,
            }
        elif entry.kind == "episode":
            episode_id = synthetic_id("episode", str(position))
            item = {
                "id": episode_id,
                "name": "A podcast episode",
                "type": "episode",
                "uri": f"spotify:episode:{episode_id}",
                "duration_ms": 1800000,
            }
        else:  # "null": a track removed from the catalogue
            item = None
        row = {
            "added_at": entry.added_at,
            "added_by": self._user_object(entry.added_by) if entry.added_by else None,
            "is_local": entry.kind == "local",
        }
        if self.item_key in ("item", "both"):
            row["item"] = item
        if self.item_key in ("track", "both"):
            row["track"] = item
        return row

    def _items_page(self, playlist, offset: int, limit: int) -> dict:
        entries = playlist.entries
        items = [
            self._entry_object(e, offset + i)
            for i, e in enumerate(entries[offset : offset + limit])
        ]
        base = f"{self.url}/v1/playlists/{playlist.id}/items"

        def at(start):
            return f"{base}?{urlencode({'offset': start, 'limit': limit})}"

        following = offset + limit
        return {
            "href": at(offset),
            "limit": limit,
            "offset": offset,
            "total": len(entries),
            "items": items,
            "next": at(following) if following < len(entries) else None,
            "previous": at(max(0, offset - limit)) if offset else None,
        }

    def _features_object(self, track_id: str) -> dict | None:
        known = self.catalog.features.get(track_id)
        if known is None or track_id in self.spotify_unknown:
            return None
        body = {k: v for k, v in known.items() if v is not None}
        body.update(
            id=track_id,
            type="audio_features",
            uri=f"spotify:track:{track_id}",
            track_href=f"{self.url}/v1/tracks/{track_id}",
            analysis_url=f"{self.url}/v1/audio-analysis/{track_id}",
            duration_ms=self.catalog.tracks.get(track_id, {}).get("duration_ms"),
        )
        return body

    def _reccobeats_track(self, track_id: str) -> dict:
        info = self.catalog.tracks[track_id]
        return {
            "id": synthetic_uuid(track_id),
            "trackTitle": info["name"],
            "artists": [
                {
                    "id": synthetic_uuid(name),
                    "name": name,
                    "href": "https://open.spotify.com/artist/" + synthetic_id("artist", name),
                }
                for name in info["artists"]
            ],
            "durationMs": info["duration_ms"],
            "isrc": None,
            "href": f"https://open.spotify.com/track/{track_id}",
            "popularity": info["popularity"],
        }

    # -- Spotify endpoints ----------------------------------------------------------------------
    def _playlist(self, id, **_):
        playlist = self.catalog.playlists.get(id)
        if playlist is None:
            return ApiResponse(404, {"error": {"status": 404, "message": "Resource not found"}})
        owner = self._user_object(playlist.owner_id)
        owner["display_name"] = self.catalog.people.get(playlist.owner_id)
        return ApiResponse(
            200,
            {
                "collaborative": playlist.collaborative,
                "description": "",
                "external_urls": {"spotify": f"https://open.spotify.com/playlist/{id}"},
                "href": f"{self.url}/v1/playlists/{id}",
                "id": id,
                "name": playlist.name,
                "owner": owner,
                "public": False,
                "snapshot_id": playlist.snapshot_id,
                "type": "playlist",
                "uri": f"spotify:playlist:{id}",
                "items": self._items_page(playlist, 0, self.embedded_items),
            },
        )

    def _playlist_items(self, id, query, **_):
        playlist = self.catalog.playlists.get(id)
        if playlist is None:
            return ApiResponse(404, DEFAULT_ERRORS[404])
        limit = int(query.get("limit", ["20"])[0])
        offset = int(query.get("offset", ["0"])[0])
        if not 1 <= limit <= ITEMS_MAX:
            return ApiResponse(400, {"error": {"status": 400, "message": "Invalid limit"}})
        return ApiResponse(200, self._items_page(playlist, offset, limit))

    def _playlist_tracks(self, **_):
        # Removed for development-mode apps in Feb 2026 (spotipy <= 2.25 still calls it).
        return ApiResponse(403, {"error": {"status": 403, "message": "Forbidden"}})

    def _audio_features(self, query, **_):
        ids = [i for i in ",".join(query.get("ids", [""])).split(",") if i]
        if not 1 <= len(ids) <= 100:
            return ApiResponse(400, {"error": {"status": 400, "message": "Invalid ids"}})
        return ApiResponse(200, {"audio_features": [self._features_object(i) for i in ids]})

    def _artist(self, id, **_):
        artist = self.catalog.artists.get(id)
        if artist is None:
            return ApiResponse(404, {"error": {"status": 404, "message": "Resource not found"}})
        return ApiResponse(
            200,
            {
                "id": id,
                "name": artist["name"],
                "genres": artist["genres"],
                "type": "artist",
                "uri": f"spotify:artist:{id}",
                "images": [],
                "href": f"{self.url}/v1/artists/{id}",
                "external_urls": {"spotify": f"https://open.spotify.com/artist/{id}"},
            },
        )

    def _artists(self, **_):
        return ApiResponse(403, {"error": {"status": 403, "message": "Forbidden"}})

    def _track(self, id, **_):
        if id not in self.catalog.tracks:
            return ApiResponse(404, {"error": {"status": 404, "message": "Resource not found"}})
        return ApiResponse(200, self._track_object(id))

    def _tracks(self, **_):
        return ApiResponse(403, {"error": {"status": 403, "message": "Forbidden"}})

    def _genre_seeds(self, **_):
        return ApiResponse(200, {"genres": sorted(self.catalog.genre_tracks)})

    def _recommendations(self, query, **_):
        limit = int(query.get("limit", ["20"])[0])
        seed_tracks = [s for s in ",".join(query.get("seed_tracks", [""])).split(",") if s]
        seed_genres = [s for s in ",".join(query.get("seed_genres", [""])).split(",") if s]
        if not 1 <= len(seed_tracks) + len(seed_genres) <= 5 or not 1 <= limit <= 100:
            return ApiResponse(400, DEFAULT_ERRORS[400])
        if any(g not in self.catalog.genre_tracks for g in seed_genres):
            return ApiResponse(400, DEFAULT_ERRORS[400])
        pool: list[str] = []
        for seed in seed_tracks:
            pool += self.catalog.recommendations.get(seed, [])
        for genre in seed_genres:
            pool += self.catalog.genre_tracks[genre]
        chosen = [t for t in dict.fromkeys(pool) if t in self.catalog.tracks][:limit]
        seeds = [
            {
                "id": s,
                "type": "track",
                "href": f"{self.url}/v1/tracks/{s}",
                "initialPoolSize": len(pool),
                "afterFilteringSize": len(pool),
                "afterRelinkingSize": len(pool),
            }
            for s in seed_tracks
        ]
        seeds += [
            {
                "id": g,
                "type": "genre",
                "href": None,
                "initialPoolSize": len(pool),
                "afterFilteringSize": len(pool),
                "afterRelinkingSize": len(pool),
            }
            for g in seed_genres
        ]
        return ApiResponse(200, {"seeds": seeds, "tracks": [self._track_object(t) for t in chosen]})

    def _search(self, query, **_):
        text = query.get("q", [""])[0].lower()
        limit = int(query.get("limit", ["5"])[0])
        offset = int(query.get("offset", ["0"])[0])
        if not 1 <= limit <= 10:  # the Feb 2026 development-mode maximum
            return ApiResponse(400, {"error": {"status": 400, "message": "Invalid limit"}})
        # Every word must occur in the name or artists (field filters like artist: are read as
        # plain words); the most popular first, roughly how Spotify ranks.
        words = [w.split(":", 1)[-1] for w in text.split()]
        hits = [
            t
            for t, info in self.catalog.tracks.items()
            if words
            and all(w in f"{info['name']} {' '.join(info['artists'])}".lower() for w in words)
        ]
        hits.sort(key=lambda t: -self.catalog.tracks[t]["popularity"])
        page = hits[offset : offset + limit]
        return ApiResponse(
            200,
            {
                "tracks": {
                    "href": f"{self.url}/v1/search",
                    "limit": limit,
                    "offset": offset,
                    "total": len(hits),
                    "previous": None,
                    "next": (
                        f"{self.url}/v1/search?"
                        + urlencode(
                            {"q": text, "type": "track", "limit": limit, "offset": offset + limit}
                        )
                    )
                    if offset + limit < len(hits)
                    else None,
                    "items": [self._track_object(t) for t in page],
                }
            },
        )

    def _user(self, id, **_):
        if id not in self.catalog.people:
            return ApiResponse(404, {"error": {"status": 404, "message": "No such user"}})
        user = self._user_object(id)
        user["display_name"] = self.catalog.people[id]
        return ApiResponse(200, user)

    # -- ReccoBeats endpoints -------------------------------------------------------------------
    def _rb_audio_features(self, query, **_):
        ids = [i for v in query.get("ids", []) for i in v.split(",") if i]
        if not ids:
            return ApiResponse(400, {"error": "Missing parameter ids", "code": 4001})
        content = []
        for track_id in ids[:RECCOBEATS_FEATURES_MAX]:
            known = self.catalog.features.get(track_id)
            if known is None:
                continue  # unknown tracks are simply absent
            item = {k: v for k, v in known.items() if v is not None and k != "time_signature"}
            item.update(
                id=synthetic_uuid(track_id), href=f"https://open.spotify.com/track/{track_id}"
            )
            content.append(item)
        return ApiResponse(200, {"content": content})

    def _rb_recommendation(self, query, **_):
        seeds = [s for v in query.get("seeds", []) for s in v.split(",") if s]
        size = int(query.get("size", ["10"])[0])
        if not 1 <= len(seeds) <= 5 or not 1 <= size <= 100:
            return ApiResponse(400, {"error": "Invalid parameter", "code": 4004})
        pool = [t for s in seeds for t in self.catalog.recommendations.get(s, [])]
        chosen = [t for t in dict.fromkeys(pool) if t in self.catalog.tracks][:size]
        return ApiResponse(200, {"content": [self._reccobeats_track(t) for t in chosen]})

    def _rb_track(self, query, **_):
        ids = [i for v in query.get("ids", []) for i in v.split(",") if i]
        return ApiResponse(
            200, {"content": [self._reccobeats_track(t) for t in ids if t in self.catalog.tracks]}
        )


# Null positions for explicit Fault(breaks="null") switches, reproducible across runs.
_FIXED_CHOICE = random.Random(0)


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body leave in separate writes; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every keep-alive answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = self.standin.handle(method, self.path, self.headers, body)
        if answer.breaks == "reset":
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        promised = len(payload)
        if answer.breaks == "truncated_json":
            payload = payload[: len(payload) // 2]
            promised = len(payload)  # a well-formed HTTP answer whose JSON is cut
        elif answer.breaks == "truncated_body":
            payload = payload[: len(payload) // 2]  # Content-Length still promises it all
            self.close_connection = True
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(promised))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test) or was killed (resume test)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def log_message(self, *args):
        pass


def wait_for_calls(standin: StandIn, endpoint: str, count: int, timeout: float = 30.0) -> bool:
    """Block until the stand-in has seen count calls to endpoint (True) or timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if standin.calls[endpoint] >= count:
            return True
        time.sleep(0.01)
    return False
