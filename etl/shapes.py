"""The public file shapes the importer recognises, each mapped onto the canonical track record."""

from __future__ import annotations

from dataclasses import dataclass, field

from store.records import AUDIO_FEATURES

# Spotify's pitch-class notation, used by files that write keys as letters ("C#").
PITCH_CLASSES = {
    "C": 0,
    "C#": 1,
    "Db": 1,
    "D": 2,
    "D#": 3,
    "Eb": 3,
    "E": 4,
    "F": 5,
    "F#": 6,
    "Gb": 6,
    "G": 7,
    "G#": 8,
    "Ab": 8,
    "A": 9,
    "A#": 10,
    "Bb": 10,
    "B": 11,
}


@dataclass(frozen=True)
class Shape:
    """How one kind of file maps to canonical fields.

    columns maps a canonical field to the candidate headers that may hold it (first present
    wins); detect lists headers whose presence identifies the shape. kind says what the rows
    become: a labelled dataset, a playlist, recommendations or plain tracks.
    """

    name: str
    description: str
    detect: frozenset[str]
    columns: dict[str, tuple[str, ...]]
    kind: str
    label: str | None = None  # column holding the dataset label (kind == "dataset")
    extra_genres: tuple[str, ...] = ()  # columns with more genre tags, kept as track genres
    artist_separator: str = ";"
    dataset_name: str | None = None
    converters: dict[str, str] = field(default_factory=dict)  # field -> converter name
    # A blank feature cell means "not known" (the row is kept without it), not a broken row.
    blank_features_unknown: bool = False


# The demo catalogue's dataset name (the 114-genre Spotify Tracks Dataset), used across the app.
DEMO_DATASET = "spotify-tracks-114k"


def _same(*names: str) -> dict[str, tuple[str, ...]]:
    return {n: (n,) for n in names}


SPOTIFY_TRACKS_DATASET = Shape(
    name="spotify-tracks-dataset",
    description="Spotify Tracks Dataset (Kaggle/Hugging Face maharshipandya, track_genre)",
    detect=frozenset({"track_id", "track_genre", "track_name", "artists"}),
    columns={
        "id": ("track_id",),
        "name": ("track_name",),
        "artists": ("artists",),
        "album": ("album_name",),
        **_same("popularity", "duration_ms", "explicit", *AUDIO_FEATURES),
    },
    kind="dataset",
    label="track_genre",
    dataset_name=DEMO_DATASET,
)

TIDYTUESDAY_SONGS = Shape(
    name="tidytuesday-spotify-songs",
    description="TidyTuesday 2020-01-21 spotify_songs.csv (playlist_genre, playlist_subgenre)",
    detect=frozenset({"track_id", "track_artist", "track_popularity", "playlist_genre"}),
    columns={
        "id": ("track_id",),
        "name": ("track_name",),
        "artists": ("track_artist",),
        "album": ("track_album_name",),
        "release_date": ("track_album_release_date",),
        "popularity": ("track_popularity",),
        **_same("duration_ms", *AUDIO_FEATURES),
    },
    kind="dataset",
    label="playlist_genre",
    extra_genres=("playlist_subgenre",),
    artist_separator="\x00",  # one artist name per row; never split it
    dataset_name="tidytuesday-spotify-songs",
)

ULTIMATE_SPOTIFY_TRACKS = Shape(
    name="ultimate-spotify-tracks-db",
    description="Ultimate Spotify Tracks DB SpotifyFeatures.csv (genre, artist_name)",
    detect=frozenset({"genre", "artist_name", "track_name", "track_id"}),
    columns={
        "id": ("track_id",),
        "name": ("track_name",),
        "artists": ("artist_name",),
        **_same("popularity", "duration_ms", *AUDIO_FEATURES),
    },
    kind="dataset",
    label="genre",
    artist_separator="\x00",
    dataset_name="ultimate-spotify-tracks-db",
    converters={"key": "pitch_class", "mode": "major_minor", "time_signature": "over_four"},
)

EXPORTIFY = Shape(
    name="exportify",
    description="Exportify playlist export (Track URI, Artist Name(s), Added By, …)",
    detect=frozenset({"Track URI", "Artist Name(s)"}),
    columns={
        "id": ("Track URI",),
        "name": ("Track Name",),
        "artists": ("Artist Name(s)",),
        "artist_ids": ("Artist URI(s)",),
        "album": ("Album Name",),
        "release_date": ("Release Date", "Album Release Date"),
        "duration_ms": ("Duration (ms)", "Track Duration (ms)"),
        "popularity": ("Popularity",),
        "explicit": ("Explicit",),
        "added_by": ("Added By",),
        "added_at": ("Added At",),
        **{f: (f.replace("_", " ").title(),) for f in AUDIO_FEATURES},
    },
    kind="playlist",
    extra_genres=("Genres", "Artist Genres"),
    artist_separator=",",
    converters={"id": "spotify_uri", "artist_ids": "spotify_uris", "added_by": "spotify_uri"},
    # Exportify leaves the feature cells of a track Spotify has no features for empty (and
    # Plotify's own export does for features no provider gave): the track is still in the playlist.
    blank_features_unknown=True,
)

PLOTIFY_PLAYLIST = Shape(
    name="plotify-playlist",
    description=(
        "original Plotify playlist export (user_song_info.csv: id, artist, length, user_id)"
    ),
    detect=frozenset({"id", "name", "artist", "length", "user_id"}),
    columns={
        "id": ("id",),
        "name": ("name",),
        "artists": ("artist",),
        "album": ("album",),
        "release_date": ("release_date",),
        "duration_ms": ("length",),
        "popularity": ("popularity",),
        "added_by": ("user_id",),
        **_same(*AUDIO_FEATURES),
    },  # the file has no valence, key or mode
    kind="playlist",
    artist_separator="\x00",
)

PLOTIFY_RECOMMENDATIONS = Shape(
    name="plotify-recommendations",
    description="original Plotify recommendations export (reccommended_song_info.csv)",
    detect=frozenset({"Recommended Track ID", "Original Playlist Track ID"}),
    columns={
        "id": ("Recommended Track ID",),
        "seed_track_id": ("Original Playlist Track ID",),
        "name": ("name",),
        "artists": ("artist",),
        "album": ("album",),
        "release_date": ("release_date",),
        "duration_ms": ("length",),
        "popularity": ("popularity",),
        **_same(*AUDIO_FEATURES),
    },
    kind="recommendations",
    artist_separator="\x00",
)

# Tried in order; each shape's identifying headers are distinctive enough that at most one
# of them matches a real file.
SHAPES = (
    SPOTIFY_TRACKS_DATASET,
    TIDYTUESDAY_SONGS,
    ULTIMATE_SPOTIFY_TRACKS,
    EXPORTIFY,
    PLOTIFY_RECOMMENDATIONS,
    PLOTIFY_PLAYLIST,
)
KINDS = ("dataset", "playlist", "recommendations", "tracks")


def detect_shape(headers) -> Shape | None:
    """The known shape whose identifying headers are all present, or None."""
    present = set(headers)
    for shape in SHAPES:
        if shape.detect <= present:
            return shape
    return None


def custom_shape(mapping: dict[str, str], kind: str, label: str | None = None) -> Shape:
    """A shape from an explicit --map field=Header list."""
    return Shape(
        name="custom",
        description="explicit column mapping",
        detect=frozenset(mapping.values()),
        columns={f: (h,) for f, h in mapping.items()},
        kind=kind,
        label=label,
    )
