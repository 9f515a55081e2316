"""What each audio feature means, in our own words, for the Definitions tab and axis tooltips."""
from __future__ import annotations

FEATURE_DEFINITIONS = (
    ("acousticness", "Acousticness", 0, 1, "",
     "How sure Spotify's analysis is that the recording is acoustic, from 0 (electric or "
     "produced) to 1 (unplugged instruments and voices)."),
    ("danceability", "Danceability", 0, 1, "",
     "How well the track suits dancing, judged from tempo, how steady the beat is, rhythm "
     "strength and regularity. 1 is the most danceable."),
    ("energy", "Energy", 0, 1, "",
     "Perceived intensity and activity: loud, fast, noisy tracks score high (metal), calm and "
     "quiet ones low (a solo piano prelude)."),
    ("instrumentalness", "Instrumentalness", 0, 1, "",
     "The likelihood that the track has no vocals. Spoken word and rap count as vocals; values "
     "above 0.5 usually mean an instrumental."),
    ("key", "Key", -1, 11, "pitch class",
     "The key the track is in, as a pitch class: 0 = C, 1 = C♯/D♭, 2 = D, … 11 = B; −1 when "
     "no key was detected."),
    ("liveness", "Liveness", 0, 1, "",
     "The chance that an audience is audible in the recording; above 0.8 it is very likely live."),
    ("loudness", "Loudness", -60, 5, "dB",
     "Average loudness of the whole track in decibels relative to full scale, usually between "
     "−60 and 0 dB; modern masters sit near −5 dB."),
    ("mode", "Mode", 0, 1, "",
     "Whether the melody is in a major key (1) or a minor key (0)."),
    ("speechiness", "Speechiness", 0, 1, "",
     "How much of the track is spoken words: above 0.66 almost all speech (podcasts, "
     "audiobooks), 0.33–0.66 a mix such as rap, below 0.33 mostly music."),
    ("tempo", "Tempo", 0, 250, "BPM",
     "The estimated overall speed in beats per minute."),
    ("time_signature", "Time signature", 0, 7, "beats per bar",
     "The estimated number of beats in each bar, from 3 to 7 (3 means 3/4, 4 means 4/4)."),
    ("valence", "Valence", 0, 1, "",
     "Musical positiveness: high values sound happy, cheerful or euphoric, low values sad, "
     "tense or angry."),
    ("popularity", "Popularity", 0, 100, "",
     "Spotify's popularity score when the data was collected, from recent play counts; newer "
     "Spotify apps no longer receive it, so it is often absent."),
    ("duration_ms", "Duration", 0, None, "ms", "Length of the track in milliseconds."),
)


def definitions() -> list[dict]:
    """The definitions as JSON-ready dicts."""
    keys = ("name", "label", "min", "max", "unit", "description")
    return [dict(zip(keys, entry)) for entry in FEATURE_DEFINITIONS]
