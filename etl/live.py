"""Live ETL runs (playlist, recommendations, genre dataset) that checkpoint and resume."""
from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field

import click

from etl import auth
from etl.calls import ApiError, CallGuard, RequestRejected, Restricted
from etl.providers import build_chain
from etl.reccobeats import DEFAULT_API_BASE as RECCOBEATS_API_BASE
from etl.reccobeats import ReccoBeatsApi
from etl.reccobeats import track_record as reccobeats_track_record
from etl.spotify import (
    DEFAULT_API_BASE,
    DEFAULT_AUTHORIZE_URL,
    DEFAULT_TOKEN_URL,
    SpotifyApi,
    plain_session,
    playlist_id_from,
    safe_track_record,
)

GENRE_DATASET = "spotify-genre-seeds"
PUBLIC_GENRE_DATASET_URL = ("https://huggingface.co/datasets/maharshipandya/spotify-tracks-dataset/"
                            "resolve/main/dataset.csv")


class LiveEtlError(Exception):
    """A run that cannot go on; the message says why and what to do."""


class GenreSeedingRefused(LiveEtlError):
    """Spotify will not seed recommendations by genre for this app."""


@dataclass
class LiveSettings:
    """Everything a live run needs to know from configuration."""

    client_id: str | None = None
    client_secret: str | None = None
    redirect_uri: str | None = None
    instance_path: str = "instance"
    api_base: str = DEFAULT_API_BASE
    token_url: str = DEFAULT_TOKEN_URL
    authorize_url: str = DEFAULT_AUTHORIZE_URL
    reccobeats_base: str = RECCOBEATS_API_BASE
    providers: str = "spotify,reccobeats"
    user_auth: bool | None = None  # None: as the user if a user token is cached, else as the app
    timeout: float = 10.0
    retries: int = 4
    backoff: float = 0.5
    max_wait: float = 300.0

    @classmethod
    def from_config(cls, config, instance_path: str, **overrides) -> "LiveSettings":
        """Settings from a Flask config (keys absent from it keep their defaults)."""
        keys = {
            "client_id": "SPOTIFY_CLIENT_ID", "client_secret": "SPOTIFY_CLIENT_SECRET",
            "redirect_uri": "SPOTIFY_REDIRECT_URI", "api_base": "SPOTIFY_API_BASE",
            "token_url": "SPOTIFY_TOKEN_URL", "authorize_url": "SPOTIFY_AUTHORIZE_URL",
            "reccobeats_base": "RECCOBEATS_API_BASE", "providers": "FEATURE_PROVIDERS",
            "timeout": "ETL_HTTP_TIMEOUT", "retries": "ETL_HTTP_RETRIES",
            "max_wait": "ETL_MAX_RATE_LIMIT_WAIT",
        }
        values = {"instance_path": instance_path}
        for attribute, key in keys.items():
            value = config.get(key)
            if value not in (None, ""):
                default = getattr(cls, attribute)
                values[attribute] = type(default)(value) if isinstance(default, (int, float)) \
                    else value
        values.update(overrides)
        return cls(**values)


class Console:
    """How a run talks to the person: messages on stdout, progress bars on stderr."""

    def __init__(self):
        self.messages: list[str] = []
        self._bar = None
        self._label = ""

    def say(self, message: str) -> None:
        self.messages.append(message)
        click.echo(message)

    @contextlib.contextmanager
    def progress(self, length: int, label: str):
        with click.progressbar(length=max(length, 0), label=label, show_pos=True,
                               file=sys.stderr) as bar:
            self._bar, self._label = bar, label
            try:
                yield self
            finally:
                self._bar = None

    def advance(self, count: int) -> None:
        if self._bar is not None and count:
            if self._bar.label != self._label:
                self._bar.label = self._label  # a wait notice is over once work moves on
            self._bar.update(count)

    def waiting(self, what: str, delay: float, waited: float, budget: float) -> None:
        """Show a retry wait: on the progress bar when one is running, else as a message."""
        notice = f"{what}: waiting {delay:g} s"
        if what.endswith("(429)"):
            notice += f" ({waited + delay:g} of {budget:g} s allowed)"
        self.messages.append(notice)
        if self._bar is not None:
            self._bar.label = f"{self._label} — {notice}"
            self._bar.render_progress()
        else:
            click.echo(notice, err=True)


@dataclass
class RunReport:
    """What a run did, for the closing lines and for tests."""

    title: str
    lines: list[str] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0
    unchanged: bool = False
    counts: dict = field(default_factory=dict)


class LiveEtl:
    """One live run against Spotify (through spotipy) and ReccoBeats, writing through the store."""

    def __init__(self, store, settings: LiveSettings, console: Console | None = None,
                 sleep=time.sleep):
        self.store = store
        self.settings = settings
        self.console = console or Console()
        self.guard = CallGuard(max_wait=settings.max_wait, retries=settings.retries,
                               backoff=settings.backoff, sleep=sleep,
                               on_wait=self.console.waiting)
        self.session = plain_session()
        self._spotify: SpotifyApi | None = None
        self.reccobeats = ReccoBeatsApi(self.guard, settings.reccobeats_base, self.session,
                                        settings.timeout)
        self._chain = None
        self._nulls_reported: dict[str, int] = {}  # null_entries already in an earlier report

    # -- clients ----------------------------------------------------------------------------
    @property
    def spotify(self) -> SpotifyApi:
        """The Spotify client; raises auth.MissingCredentials when it cannot be built."""
        if self._spotify is None:
            s = self.settings
            as_user = s.user_auth if s.user_auth is not None else auth.has_user_token(
                s.instance_path)
            if as_user:
                manager = auth.user_authorisation(
                    s.client_id, s.client_secret, s.redirect_uri,
                    auth.token_cache_path(s.instance_path), s.token_url, s.authorize_url,
                    self.session, s.timeout)
            else:
                manager = auth.client_credentials(s.client_id, s.client_secret, s.token_url,
                                                  self.session, s.timeout,
                                                  auth.app_token_cache_path(s.instance_path))
            self._spotify = SpotifyApi(manager, self.guard, s.api_base, self.session, s.timeout)
        return self._spotify

    def spotify_if_configured(self) -> SpotifyApi | None:
        try:
            return self.spotify
        except auth.MissingCredentials:
            return None

    @property
    def chain(self):
        """Feature providers for this run; a refused provider stays dropped until the run ends."""
        if self._chain is None:
            order = [n.strip() for n in self.settings.providers.split(",") if n.strip()]
            spotify = self.spotify_if_configured() if "spotify" in order else None
            if "spotify" in order and spotify is None:
                self.console.say("No Spotify credentials: audio features from the other providers.")
            try:
                self._chain = build_chain(order, spotify, self.reccobeats, self.console.say)
            except ValueError as exc:
                raise LiveEtlError(f"FEATURE_PROVIDERS: {exc}") from None
        return self._chain

    # -- shared steps -----------------------------------------------------------------------
    def _fill_features(self, track_ids: list[str], state: dict, save) -> dict[str, int]:
        """Fetch features for the tracks that have none yet (resumable: the store remembers)."""
        stored = self.store.get_tracks(track_ids)
        skip = set(state.get("no_features", []))
        need = [t for t in dict.fromkeys(track_ids)
                if t in stored and not stored[t].get("features_source") and t not in skip]
        if not need:
            return {}
        chain = self.chain
        if not chain.providers:
            raise LiveEtlError(
                f"No audio-feature provider can be used (FEATURE_PROVIDERS="
                f"{self.settings.providers!r}); {len(need)} tracks still need features.")
        with self.console.progress(len(need), "Audio features") as bar:
            counts, missing = chain.fetch(need, self.store.upsert_tracks, bar.advance)
        if not chain.providers:
            raise LiveEtlError(
                f"Every audio-feature provider refused; {len(missing)} tracks still need "
                "features. Run again when one is reachable; the rest is kept.")
        # Only tracks that every remaining provider answered "unknown" for are remembered, so a
        # resumed run does not ask again.
        state["no_features"] = sorted(skip | set(missing))
        save()
        counts["missing"] = len(missing)
        return counts

    def _features_line(self, counts: dict[str, int]) -> str:
        if not counts:
            return "Audio features: every track already had them (nothing fetched)."
        given = ", ".join(f"{n} {name}" for name, n in counts.items() if name != "missing")
        return f"Audio features: {given}; {counts.get('missing', 0)} unknown to every provider."

    # -- playlist -----------------------------------------------------------------------------
    def load_playlist(self, reference: str) -> RunReport:
        """Load a playlist: items, who added them, audio features, artist genres, people."""
        started, calls_before = time.monotonic(), self.guard.calls
        try:
            playlist_id = playlist_id_from(reference)
        except ValueError as exc:
            raise LiveEtlError(str(exc)) from None
        api = self.spotify
        try:
            meta = api.playlist(playlist_id)
        except Restricted as exc:
            raise LiveEtlError(
                f"{exc.endpoint} answered HTTP {exc.status} for playlist {playlist_id}: it does "
                "not exist, is Spotify-owned or algorithmic (closed to new apps), or is private "
                "— private and collaborative playlists need --user. Run again once it is "
                "reachable; nothing of it was fetched.") from None
        name = meta.get("name") or playlist_id
        snapshot = meta.get("snapshot_id")
        key = f"etl:playlist:{playlist_id}"
        checkpoint = self.store.get_state(key)
        if checkpoint and checkpoint.get("snapshot_id") != snapshot:
            self.console.say(f"'{name}' changed since the interrupted run; starting over.")
            checkpoint = None
        stored = self.store.get_playlist(playlist_id)
        report = RunReport(f"Playlist '{name}'")
        if checkpoint is None and snapshot and stored and stored.get("snapshot_id") == snapshot:
            report.unchanged = True
            report.lines.append(f"'{name}' is unchanged (snapshot_id {snapshot}); "
                                "nothing else fetched.")
            return self._finish(report, started, calls_before)
        if checkpoint is None:
            checkpoint = {"snapshot_id": snapshot, "offset": 0, "items_done": False,
                          "track_ids": [], "people": [], "no_features": [],
                          "skipped": {"local files": 0, "episodes": 0, "unavailable": 0,
                                      "duplicates": 0}}
        else:
            self.console.say(f"Resuming the interrupted run of '{name}' "
                             f"({len(checkpoint['track_ids'])} tracks already stored).")

        def save():
            self.store.set_state(key, checkpoint)

        owner = meta.get("owner") or {}
        self.store.upsert_playlist({"id": playlist_id, "name": meta.get("name"),
                                    "owner_id": owner.get("id"),
                                    "collaborative": bool(meta.get("collaborative")),
                                    "source": "spotify"})
        if not checkpoint["items_done"]:
            self._load_items(api, playlist_id, meta, checkpoint, save)
        track_ids = checkpoint["track_ids"]
        skipped = ", ".join(f"{n} {what}" for what, n in checkpoint["skipped"].items() if n)
        report.lines.append(f"Tracks: {len(track_ids)} stored"
                            + (f"; skipped {skipped}" if skipped else "") + ".")
        features = self._fill_features(track_ids, checkpoint, save)
        report.lines.append(self._features_line(features))
        report.lines.append(self._load_artist_genres(api, track_ids))
        report.lines.append(self._load_people(api, checkpoint["people"], owner))
        self.store.upsert_playlist({"id": playlist_id, "snapshot_id": snapshot})
        removed = self.store.prune_playlist_tracks(playlist_id, track_ids)
        if removed:
            report.lines.append(f"Removed {removed} tracks no longer in the playlist.")
        self.store.delete_state(key)
        report.counts = {"tracks": len(track_ids), "features": features,
                         "skipped": dict(checkpoint["skipped"])}
        return self._finish(report, started, calls_before)

    def _load_items(self, api, playlist_id: str, meta: dict, checkpoint: dict, save) -> None:
        # The playlist object embeds its first page of items (under `items`, formerly `tracks`);
        # development-mode apps get it only for playlists the user owns or collaborates on.
        embedded = next((meta[k] for k in ("items", "tracks") if isinstance(meta.get(k), dict)),
                        None)
        total = (embedded or {}).get("total") or 0
        seen = set(checkpoint["track_ids"])
        with self.console.progress(total, "Playlist items") as bar:
            bar.advance(checkpoint["offset"])
            try:
                if checkpoint["offset"] == 0 and embedded and embedded.get("items") is not None:
                    page, follow_next = embedded, False
                else:
                    page, follow_next = api.playlist_items(playlist_id, checkpoint["offset"]), True
                while True:
                    items = page.get("items") or []
                    self._store_items(playlist_id, items, checkpoint, seen)
                    checkpoint["offset"] += len(items)
                    if not items or not page.get("next"):
                        checkpoint["items_done"] = True
                    save()
                    bar.advance(len(items))
                    if checkpoint["items_done"]:
                        break
                    # The embedded page's `next` may ask for more than /items allows, so the
                    # second page is requested explicitly; later pages follow their `next` URL.
                    page = (api.next_page(page) if follow_next
                            else api.playlist_items(playlist_id, checkpoint["offset"]))
                    follow_next = True
            except Restricted as exc:
                raise LiveEtlError(
                    f"{exc.endpoint} refused the items of playlist {playlist_id} (HTTP "
                    f"{exc.status}). Development-mode apps see the items only of playlists the "
                    "user owns or collaborates on: run again with --user and log in as such a "
                    "person; the items already stored are kept and the run resumes where it "
                    "stopped.") from None

    def _store_items(self, playlist_id: str, items: list, checkpoint: dict, seen: set) -> None:
        records, members = [], []
        skipped = checkpoint["skipped"]
        for index, entry in enumerate(items):
            entry = entry if isinstance(entry, dict) else {}  # a null row: counted unavailable
            position = checkpoint["offset"] + index
            # Feb 2026 renamed `track` to `item`; some responses still carry only `track`.
            item = entry.get("item") if entry.get("item") is not None else entry.get("track")
            item = item if isinstance(item, dict) else None
            if entry.get("is_local") or (item or {}).get("is_local"):
                skipped["local files"] += 1
                continue
            if item is None:
                skipped["unavailable"] += 1
                continue
            if item.get("type") == "episode":
                skipped["episodes"] += 1
                continue
            record = safe_track_record(item)
            if record is None:
                skipped["unavailable"] += 1
                continue
            if record["id"] in seen:
                skipped["duplicates"] += 1
                continue
            seen.add(record["id"])
            added_by = (entry.get("added_by") or {}).get("id")
            records.append(record)
            members.append({"playlist_id": playlist_id, "track_id": record["id"],
                            "position": position, "added_by": added_by,
                            "added_at": entry.get("added_at")})
            checkpoint["track_ids"].append(record["id"])
            if added_by and added_by not in checkpoint["people"]:
                checkpoint["people"].append(added_by)
        self.store.upsert_tracks(records)
        self.store.upsert_playlist_tracks(members)

    def _load_artist_genres(self, api, track_ids: list[str]) -> str:
        tracks = self.store.get_tracks(track_ids)
        artist_ids = list(dict.fromkeys(a for t in track_ids
                                        for a in tracks.get(t, {}).get("artist_ids", [])))
        known = self.store.get_artists(artist_ids)
        new = [a for a in artist_ids if a not in known]
        fetched, gone, note = 0, 0, ""
        if new:
            with self.console.progress(len(new), "Artist genres") as bar:
                for artist_id in new:
                    try:
                        artist = api.artist(artist_id)
                    except Restricted as exc:
                        if exc.status == 404:
                            gone += 1  # an artist removed from the catalogue; nothing to cache
                            bar.advance(1)
                            continue
                        note = (f" Spotify refused {exc.endpoint} (HTTP {exc.status}); the other "
                                f"{len(new) - fetched - gone} artists keep no genres this run.")
                        break
                    # Written one by one: the artists table is the cache that makes resumes cheap.
                    self.store.upsert_artists([{"id": artist_id, "name": artist.get("name"),
                                                "genres": list(artist.get("genres") or [])}])
                    fetched += 1
                    bar.advance(1)
        artists = self.store.get_artists(artist_ids)
        rows = {(t, genre, "artist") for t in track_ids
                for a in tracks.get(t, {}).get("artist_ids", [])
                for genre in (artists.get(a) or {}).get("genres") or []}
        self.store.upsert_track_genres(sorted(rows))
        labelled = len({t for t, _, _ in rows})
        return (f"Artist genres: {fetched} artists fetched, {len(artist_ids) - len(new)} already "
                f"known" + (f", {gone} not found" if gone else "")
                + f"; {labelled} tracks have genres.{note}")

    def _load_people(self, api, person_ids: list[str], owner: dict) -> str:
        known = self.store.get_people(person_ids)
        names = {}
        if owner.get("id") in person_ids and owner.get("display_name"):
            names[owner["id"]] = owner["display_name"]  # free with the playlist object
        profiles_refused = None
        for person in person_ids:
            if known.get(person) or person in names or profiles_refused:
                continue
            try:
                names[person] = (api.user(person) or {}).get("display_name")
            except Restricted as exc:
                # GET /users/{id} is gone for development-mode apps: people keep their ids.
                profiles_refused = exc.status
            self.store.upsert_people({person: names.get(person)})
        self.store.upsert_people({p: names.get(p) for p in person_ids})
        line = f"People: {len(person_ids)} added tracks"
        if profiles_refused:
            line += (f"; Spotify refused their profiles (HTTP {profiles_refused}), so those "
                     "without a stored name are shown by their ids")
        return line + "."

    # -- on-demand look-up -----------------------------------------------------------------------
    def find_tracks(self, query: str, limit: int = 5) -> list[dict]:
        """Search Spotify, store the hits with their audio features, return their records.

        For the web app's predictor: one search call plus at most one feature call per provider.
        """
        hits = [r for r in map(safe_track_record, self.spotify.search_tracks(query, limit)) if r]
        return self._stored_with_features(hits)

    def fetch_track(self, track_id: str) -> list[dict]:
        """One track by id (store it with its audio features); [] when Spotify does not know it."""
        try:
            record = safe_track_record(self.spotify.track(track_id))
        except (Restricted, RequestRejected):  # 404 for an unknown id
            return []
        return self._stored_with_features([record] if record else [])

    def _stored_with_features(self, hits: list[dict]) -> list[dict]:
        self.store.upsert_tracks(hits)
        ids = [r["id"] for r in hits]
        stored = self.store.get_tracks(ids)
        need = [t for t in ids if not stored[t].get("features_source")]
        if need and self.chain.providers:
            self.chain.fetch(need, self.store.upsert_tracks)
        found = self.store.get_tracks(ids)
        return [found[t] for t in ids]

    # -- recommendations ----------------------------------------------------------------------
    def load_recommendations(self, playlist_id: str | None = None, per_seed: int = 20) -> RunReport:
        """Recommended tracks (with features) for every track of a stored playlist (or all)."""
        started, calls_before = time.monotonic(), self.guard.calls
        if playlist_id:
            try:
                playlist_id = playlist_id_from(playlist_id)
            except ValueError as exc:
                raise LiveEtlError(str(exc)) from None
            playlists = [playlist_id]
        else:
            playlists = [p["id"] for p in self.store.list_playlists()]
        seeds = list(dict.fromkeys(
            t for p in playlists for t in self.store.read_tracks_frame(playlist=p)["id"]))
        if not seeds:
            raise LiveEtlError("No playlist tracks in the store: load one first with "
                               "`flask --app app etl playlist <url>`.")
        key = f"etl:recommendations:{playlist_id or '*'}"
        state = self.store.get_state(key) or {"done": [], "no_features": [], "sources": {}}

        def save():
            self.store.set_state(key, state)

        done = set(state["done"]) | self.store.recommendation_seed_ids()
        todo = [s for s in seeds if s not in done]
        self._rec_sources = ["spotify", "reccobeats"]
        self._rec_failures: list[str] = []
        if self.spotify_if_configured() is None:
            self.console.say("No Spotify credentials: recommendations from ReccoBeats.")
            self._rec_sources.remove("spotify")
        with self.console.progress(len(todo), "Recommendations") as bar:
            for seed in todo:
                records, source = self._recommend(seed, per_seed)
                self.store.upsert_tracks(records)
                self.store.upsert_recommendations(
                    {"seed_track_id": seed, "track_id": r["id"], "source": source, "rank": rank}
                    for rank, r in enumerate(records, start=1))
                state["done"].append(seed)
                state["sources"][source] = state["sources"].get(source, 0) + 1
                save()
                bar.advance(1)
        rec_ids = list(dict.fromkeys(r["track_id"] for s in seeds
                                     for r in self.store.get_recommendations(s)))
        features = self._fill_features(rec_ids, state, save)
        self.store.delete_state(key)
        report = RunReport("Recommendations")
        by_source = ", ".join(f"{n} from {s}" for s, n in state["sources"].items())
        report.lines.append(f"Seeds: {len(seeds)} ({len(seeds) - len(todo)} already done"
                            + (f"; {by_source}" if by_source else "") + f"); "
                            f"{len(rec_ids)} recommended tracks linked.")
        report.lines.append(self._features_line(features))
        report.counts = {"seeds": len(seeds), "tracks": len(rec_ids), "features": features,
                         "sources": dict(state["sources"])}
        return self._finish(report, started, calls_before)

    def _recommend(self, seed: str, per_seed: int) -> tuple[list[dict], str]:
        while self._rec_sources:
            source = self._rec_sources[0]
            try:
                if source == "spotify":
                    tracks = self.spotify.recommendations(seed_tracks=[seed], limit=per_seed)
                    records = [r for r in map(safe_track_record, tracks) if r]
                else:
                    items = self.reccobeats.recommendations([seed], size=per_seed)
                    records = [r for r in map(reccobeats_track_record, items) if r]
                unique = list({r["id"]: r for r in records if r["id"] != seed}.values())
                return unique, source
            except Restricted as exc:
                if source == "reccobeats" and exc.status == 404:
                    return [], source  # ReccoBeats does not know this seed track
                failure = f"{exc.endpoint} answered HTTP {exc.status}"
            # ServiceFailed (and every other ApiError) propagates: a flaky service stops the run
            # with a resumable message instead of switching the source of the remaining seeds,
            # which would leave the store differing from an undisturbed run for good.
            self._rec_failures.append(failure)
            self._rec_sources.pop(0)
            if self._rec_sources:
                self.console.say(f"{failure}; using ReccoBeats for the rest of this run.")
        raise LiveEtlError("No recommendation service answered: " + "; ".join(self._rec_failures)
                           + ". Stored recommendations are kept; run again later.")

    # -- genre dataset --------------------------------------------------------------------------
    def build_genre_dataset(self, genre_count: int, per_genre: int, genres=(),
                            dataset: str = GENRE_DATASET) -> RunReport:
        """The seed app's builder: recommendations per genre seed, labelled by that genre."""
        started, calls_before = time.monotonic(), self.guard.calls
        api = self.spotify
        key = f"etl:genres:{dataset}"
        state = self.store.get_state(key)
        if state is not None and genres and list(genres) != state["genres"]:
            state = None
        if state is None:
            chosen = list(dict.fromkeys(genres))
            if not chosen:
                try:
                    chosen = api.genre_seeds()[:genre_count]
                except Restricted as exc:
                    raise self._genre_refusal(exc) from None
            state = {"genres": chosen, "done": [], "no_features": [], "per_genre": per_genre}
        else:
            self.console.say(f"Resuming: {len(state['done'])} of {len(state['genres'])} genres "
                             "already stored.")

        def save():
            self.store.set_state(key, state)

        save()
        self.store.upsert_dataset({
            "name": dataset, "label_set": "seed_genre", "source": "spotify-recommendations",
            "description": f"Spotify recommendations seeded by genre (up to "
                           f"{state['per_genre']} per genre); label = the seed genre"})
        todo = [g for g in state["genres"] if g not in state["done"]]
        with self.console.progress(len(todo), "Genres") as bar:
            for genre in todo:
                try:
                    tracks = api.recommendations(seed_genres=[genre], limit=state["per_genre"])
                except Restricted as exc:
                    raise self._genre_refusal(exc) from None
                records = list({r["id"]: r for r in map(safe_track_record, tracks) if r}.values())
                self.store.upsert_tracks(records)
                self.store.upsert_dataset_tracks(dataset, [(r["id"], genre) for r in records])
                self.store.upsert_track_genres([(r["id"], genre, f"seed:{dataset}")
                                                for r in records])
                state["done"].append(genre)
                save()
                bar.advance(1)
        track_ids = list(dict.fromkeys(self.store.read_tracks_frame(dataset=dataset)["id"]))
        features = self._fill_features(track_ids, state, save)
        self.store.delete_state(key)
        report = RunReport(f"Genre dataset '{dataset}'")
        report.lines.append(f"Genres: {len(state['genres'])}; {len(track_ids)} distinct tracks "
                            "labelled with their seed genre.")
        report.lines.append(self._features_line(features))
        report.counts = {"genres": len(state["genres"]), "tracks": len(track_ids),
                         "features": features}
        return self._finish(report, started, calls_before)

    @staticmethod
    def _genre_refusal(exc: ApiError) -> GenreSeedingRefused:
        return GenreSeedingRefused(
            f"Spotify refuses genre seeding for this app ({exc.endpoint} answered HTTP "
            f"{exc.status}; /recommendations is closed to apps created after 27 Nov 2024), and "
            "ReccoBeats has no genre seeds. The public 114-genre dataset was built the same way "
            "(1,000 tracks per genre from Spotify recommendations); import it instead:\n"
            f"  flask --app app etl import {PUBLIC_GENRE_DATASET_URL}")

    def _finish(self, report: RunReport, started: float, calls_before: int) -> RunReport:
        nulls = {k: n - self._nulls_reported.get(k, 0)
                 for k, n in self.guard.null_entries.items() if n > self._nulls_reported.get(k, 0)}
        self._nulls_reported = dict(self.guard.null_entries)
        if nulls:
            report.lines.append(f"Ignored {sum(nulls.values())} null entries in answers ("
                                + ", ".join(f"{k}: {n}" for k, n in sorted(nulls.items()))
                                + "); nothing was stored for them.")
        report.counts["null_entries"] = nulls
        report.calls = self.guard.calls - calls_before
        report.seconds = time.monotonic() - started
        report.lines.append(f"{report.calls} API calls in {report.seconds:.1f} s.")
        return report
