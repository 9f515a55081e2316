"""Test support: where the real data lives, what it holds once imported, and an app on it."""

from __future__ import annotations

import os

from etl.demo import PLOTIFY_PLAYLIST_ID

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The real data: ../shared/data beside the checkout, or PLOTIFY_SHARED_DATA.
SHARED_DATA = os.environ.get("PLOTIFY_SHARED_DATA") or os.path.join(ROOT, "..", "shared", "data")
DATASET_CSV = os.path.join(SHARED_DATA, "spotify-tracks-114k", "dataset.csv")
PLAYLIST_CSV = os.path.join(SHARED_DATA, "seed-plotify", "user_song_info.csv")
RECOMMENDATIONS_CSV = os.path.join(SHARED_DATA, "seed-plotify", "reccommended_song_info.csv")
PLOTIFY_PLAYLIST_NAME = "Data Analysis Jamz"

# What the real data holds once imported (counted from the files, see shared/data/README.md).
# The 114k rows hold 89,741 distinct track ids; the import skips the one broken row (index 65900).
DATASET_DISTINCT_IDS = 89741
DATASET_TRACKS = 89740
DATASET_GENRES = 114
# The demo store: the catalogue plus the playlist's and the recommendations' other tracks.
DEMO_STORE_TRACKS = 92521
PLAYLIST_TRACKS = 158
PLAYLIST_PEOPLE = 6
RECOMMENDATIONS = 3165


def import_demo(target) -> None:
    """Import the 114k catalogue, the Plotify playlist and its recommendations into a store."""
    from etl.demo import plotify_people
    from etl.files import import_file

    import_file(target, DATASET_CSV)
    import_file(
        target,
        PLAYLIST_CSV,
        playlist_id=PLOTIFY_PLAYLIST_ID,
        playlist_name=PLOTIFY_PLAYLIST_NAME,
        people=plotify_people(),
    )
    import_file(target, RECOMMENDATIONS_CSV)


def make_app(database: str, **config):
    """An app on the given database, with its own instance folder (token caches, downloads)."""
    import tempfile

    from app import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE": database,
            "MONGODB_URI": None,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="instance-"),
            **config,
        }
    )


def csrf_headers(client) -> dict:
    """The X-CSRF-Token header of the client's session, read from the page as the browser does."""
    import re

    page = client.get("/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page).group(1)
    return {"X-CSRF-Token": token}
