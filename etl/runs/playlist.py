"""The playlist run: items, who added them, audio features, artist genres and people."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.calls import Restricted
from etl.runs.base import Checkpoint, LiveEtlError, RunContext, RunReport
from etl.spotify import playlist_id_from, safe_track_record


def _no_skips() -> dict[str, int]:
    return {"local files": 0, "episodes": 0, "unavailable": 0, "duplicates": 0}


@dataclass
class PlaylistCheckpoint(Checkpoint):
    """How far a playlist run got, for the playlist version (snapshot) it started on."""

    snapshot_id: str | None = None
    offset: int = 0
    items_done: bool = False
    track_ids: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    no_features: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=_no_skips)


def load_playlist(ctx: RunContext, reference: str) -> RunReport:
    """Load a playlist: items, who added them, audio features, artist genres, people."""
    started = ctx.start()
    try:
        playlist_id = playlist_id_from(reference)
    except ValueError as exc:
        raise LiveEtlError(str(exc)) from None
    api = ctx.spotify
    try:
        meta = api.playlist(playlist_id)
    except Restricted as exc:
        raise LiveEtlError(
            f"{exc.endpoint} answered HTTP {exc.status} for playlist {playlist_id}: it does "
            "not exist, is Spotify-owned or algorithmic (closed to new apps), or is private "
            "— private and collaborative playlists need --user. Run again once it is "
            "reachable; nothing of it was fetched."
        ) from None
    name = meta.get("name") or playlist_id
    snapshot = meta.get("snapshot_id")
    key = f"etl:playlist:{playlist_id}"
    store = ctx.store
    checkpoint = PlaylistCheckpoint.load(store, key)
    if checkpoint and checkpoint.snapshot_id != snapshot:
        ctx.console.say(f"'{name}' changed since the interrupted run; starting over.")
        checkpoint = None
    stored = store.get_playlist(playlist_id)
    report = RunReport(f"Playlist '{name}'")
    if checkpoint is None and snapshot and stored and stored.get("snapshot_id") == snapshot:
        report.unchanged = True
        report.lines.append(
            f"'{name}' is unchanged (snapshot_id {snapshot}); nothing else fetched."
        )
        return ctx.finish(report, started)
    if checkpoint is None:
        checkpoint = PlaylistCheckpoint(snapshot_id=snapshot)
    else:
        ctx.console.say(
            f"Resuming the interrupted run of '{name}' "
            f"({len(checkpoint.track_ids)} tracks already stored)."
        )

    def save():
        checkpoint.save(store, key)

    owner = meta.get("owner") or {}
    store.upsert_playlist(
        {
            "id": playlist_id,
            "name": meta.get("name"),
            "owner_id": owner.get("id"),
            "collaborative": bool(meta.get("collaborative")),
            "source": "spotify",
        }
    )
    if not checkpoint.items_done:
        _load_items(ctx, api, playlist_id, meta, checkpoint, save)
    track_ids = checkpoint.track_ids
    skipped = ", ".join(f"{n} {what}" for what, n in checkpoint.skipped.items() if n)
    report.lines.append(
        f"Tracks: {len(track_ids)} stored" + (f"; skipped {skipped}" if skipped else "") + "."
    )
    features = ctx.fill_features(track_ids, checkpoint.no_features, save)
    report.lines.append(ctx.features_line(features))
    report.lines.append(_load_artist_genres(ctx, api, track_ids))
    report.lines.append(_load_people(ctx, api, checkpoint.people, owner))
    store.upsert_playlist({"id": playlist_id, "snapshot_id": snapshot})
    removed = store.prune_playlist_tracks(playlist_id, track_ids)
    if removed:
        report.lines.append(f"Removed {removed} tracks no longer in the playlist.")
    store.delete_state(key)
    report.counts = {
        "tracks": len(track_ids),
        "features": features,
        "skipped": dict(checkpoint.skipped),
    }
    return ctx.finish(report, started)


def _load_items(
    ctx: RunContext, api, playlist_id: str, meta: dict, checkpoint: PlaylistCheckpoint, save
) -> None:
    # The playlist object embeds its first page of items (under `items`, formerly `tracks`);
    # development-mode apps get it only for playlists the user owns or collaborates on.
    embedded = next((meta[k] for k in ("items", "tracks") if isinstance(meta.get(k), dict)), None)
    total = (embedded or {}).get("total") or 0
    seen = set(checkpoint.track_ids)
    with ctx.console.progress(total, "Playlist items") as bar:
        bar.advance(checkpoint.offset)
        try:
            if checkpoint.offset == 0 and embedded and embedded.get("items") is not None:
                page, follow_next = embedded, False
            else:
                page, follow_next = api.playlist_items(playlist_id, checkpoint.offset), True
            while True:
                items = page.get("items") or []
                _store_items(ctx, playlist_id, items, checkpoint, seen)
                checkpoint.offset += len(items)
                if not items or not page.get("next"):
                    checkpoint.items_done = True
                save()
                bar.advance(len(items))
                if checkpoint.items_done:
                    break
                # The embedded page's `next` may ask for more than /items allows, so the
                # second page is requested explicitly; later pages follow their `next` URL.
                page = (
                    api.next_page(page)
                    if follow_next
                    else api.playlist_items(playlist_id, checkpoint.offset)
                )
                follow_next = True
        except Restricted as exc:
            raise LiveEtlError(
                f"{exc.endpoint} refused the items of playlist {playlist_id} (HTTP "
                f"{exc.status}). Development-mode apps see the items only of playlists the "
                "user owns or collaborates on: run again with --user and log in as such a "
                "person; the items already stored are kept and the run resumes where it "
                "stopped."
            ) from None


def _store_items(
    ctx: RunContext, playlist_id: str, items: list, checkpoint: PlaylistCheckpoint, seen: set
) -> None:
    records, members = [], []
    skipped = checkpoint.skipped
    for index, entry in enumerate(items):
        entry = entry if isinstance(entry, dict) else {}  # a null row: counted unavailable
        position = checkpoint.offset + index
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
        members.append(
            {
                "playlist_id": playlist_id,
                "track_id": record["id"],
                "position": position,
                "added_by": added_by,
                "added_at": entry.get("added_at"),
            }
        )
        checkpoint.track_ids.append(record["id"])
        if added_by and added_by not in checkpoint.people:
            checkpoint.people.append(added_by)
    ctx.store.upsert_tracks(records)
    ctx.store.upsert_playlist_tracks(members)


def _load_artist_genres(ctx: RunContext, api, track_ids: list[str]) -> str:
    store = ctx.store
    tracks = store.get_tracks(track_ids)
    artist_ids = list(
        dict.fromkeys(a for t in track_ids for a in tracks.get(t, {}).get("artist_ids", []))
    )
    known = store.get_artists(artist_ids)
    new = [a for a in artist_ids if a not in known]
    fetched, gone, note = 0, 0, ""
    if new:
        with ctx.console.progress(len(new), "Artist genres") as bar:
            for artist_id in new:
                try:
                    artist = api.artist(artist_id)
                except Restricted as exc:
                    if exc.status == 404:
                        gone += 1  # an artist removed from the catalogue; nothing to cache
                        bar.advance(1)
                        continue
                    note = (
                        f" Spotify refused {exc.endpoint} (HTTP {exc.status}); the other "
                        f"{len(new) - fetched - gone} artists keep no genres this run."
                    )
                    break
                # Written one by one: the artists table is the cache that makes resumes cheap.
                store.upsert_artists(
                    [
                        {
                            "id": artist_id,
                            "name": artist.get("name"),
                            "genres": list(artist.get("genres") or []),
                        }
                    ]
                )
                fetched += 1
                bar.advance(1)
    artists = store.get_artists(artist_ids)
    rows = {
        (t, genre, "artist")
        for t in track_ids
        for a in tracks.get(t, {}).get("artist_ids", [])
        for genre in (artists.get(a) or {}).get("genres") or []
    }
    store.upsert_track_genres(sorted(rows))
    labelled = len({t for t, _, _ in rows})
    return (
        f"Artist genres: {fetched} artists fetched, {len(artist_ids) - len(new)} already "
        f"known"
        + (f", {gone} not found" if gone else "")
        + f"; {labelled} tracks have genres.{note}"
    )


def _load_people(ctx: RunContext, api, person_ids: list[str], owner: dict) -> str:
    store = ctx.store
    known = store.get_people(person_ids)
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
        store.upsert_people({person: names.get(person)})
    store.upsert_people({p: names.get(p) for p in person_ids})
    line = f"People: {len(person_ids)} added tracks"
    if profiles_refused:
        line += (
            f"; Spotify refused their profiles (HTTP {profiles_refused}), so those "
            "without a stored name are shown by their ids"
        )
    return line + "."
