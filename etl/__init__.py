"""Extract, transform and load: files, Spotify and ReccoBeats into the track store."""
