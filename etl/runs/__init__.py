"""Resumable live ETL runs on Spotify and ReccoBeats: playlist, recommendations, genre dataset."""

from etl.runs.base import LiveEtlError, QuietConsole, RunContext, RunReport
from etl.runs.genres import GENRE_DATASET, GenreSeedingRefused, build_genre_dataset
from etl.runs.playlist import load_playlist
from etl.runs.recommendations import load_recommendations

__all__ = [
    "GENRE_DATASET",
    "GenreSeedingRefused",
    "LiveEtlError",
    "QuietConsole",
    "RunContext",
    "RunReport",
    "build_genre_dataset",
    "load_playlist",
    "load_recommendations",
]
