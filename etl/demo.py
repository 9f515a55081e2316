"""Demo data set for a fresh install: the 114-genre catalogue and the original Plotify playlist."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from etl.download import sha256_of

HERE = os.path.dirname(os.path.abspath(__file__))
PEOPLE_FILE = os.path.join(HERE, "plotify_people.json")


@dataclass(frozen=True)
class DemoFile:
    """One public file of the demo data, where it lives upstream and how to import it."""

    relative_path: str  # under DEMO_DATA_DIR, as laid out in shared/data
    url: str
    sha256: str
    options: dict


PLOTIFY_PLAYLIST_ID = "0fCFwL8LJE99raQb1g2YvF"
_PLOTIFY_RAW = "https://raw.githubusercontent.com/paulywog13/spotify-project/264ddc7/resources/"

# The 114-genre catalogue; the genre-dataset run also points people to it.
CATALOGUE = DemoFile(
    "spotify-tracks-114k/dataset.csv",
    "https://huggingface.co/datasets/maharshipandya/spotify-tracks-dataset/resolve/main/dataset.csv",
    "b202fa49909b2d5cef71a04b1d21243cfeb36414535f2ca9272aa646721177bd",
    {},
)

DEMO_FILES = (
    CATALOGUE,
    DemoFile(
        "seed-plotify/user_song_info.csv",
        _PLOTIFY_RAW + "user_song_info.csv",
        "df4625c162d6c10563f1fa273ecb1af19e7e8936a0ed34517b2a4e0d4de1fa97",
        {"playlist_id": PLOTIFY_PLAYLIST_ID, "playlist_name": "Data Analysis Jamz"},
    ),
    DemoFile(
        "seed-plotify/reccommended_song_info.csv",
        _PLOTIFY_RAW + "reccommended_song_info.csv",
        "3eb00a449e92fe7f253204b400d1f21ef31c117e758c1a126cc05a7a665e5456",
        {},
    ),
)


def plotify_people() -> dict[str, str]:
    """Display names of the people who built the original playlist (as the seed app showed them)."""
    with open(PEOPLE_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def locate(demo: DemoFile, data_dir: str | None, download_dir: str, fetch) -> str:
    """A local copy of a demo file: from data_dir when given, else downloaded and verified.

    fetch(url, directory, expected_sha256=…) downloads (the CLI's adds limits and a bar).
    """
    if data_dir:
        path = os.path.join(data_dir, demo.relative_path)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"{path} is missing; DEMO_DATA_DIR must hold {demo.relative_path}"
            )
        return path
    cached = os.path.join(download_dir, os.path.basename(demo.relative_path))
    if os.path.isfile(cached) and sha256_of(cached) == demo.sha256:
        return cached
    return fetch(demo.url, download_dir, expected_sha256=demo.sha256)
