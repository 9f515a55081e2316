// Category colours that stay readable on the page's near-black background.
import { schemeTableau10, interpolateRainbow } from "d3";

export const SPOTIFY_GREEN = "#1DB954";
export const UNLABELLED_COLOR = "#6a6a6a";

// Spotify green first, then Tableau 10 without its grey (grey means "unlabelled" here).
const BASE = [SPOTIFY_GREEN, ...schemeTableau10.filter((c) => c !== "#bab0ac")];

/** n distinct colours: the fixed palette while it lasts, then evenly spaced rainbow hues. */
export function categoryColors(n) {
  if (n <= BASE.length) return BASE.slice(0, n);
  // Golden-ratio stepping keeps neighbours in the sorted legend far apart in hue.
  return Array.from({ length: n }, (_, i) => (i < BASE.length ? BASE[i] : interpolateRainbow((i * 0.618034) % 1)));
}
