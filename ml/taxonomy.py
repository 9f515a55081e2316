"""Loads the genre → family taxonomy kept as data in ml/taxonomy.json."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache

TAXONOMY_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "taxonomy.json")
UNKNOWN_FAMILY = "other"


class TaxonomyError(ValueError):
    """The taxonomy file is inconsistent (a genre in two families, an empty family, …)."""


@dataclass(frozen=True)
class Taxonomy:
    """Fine genre → family, with the families' descriptions and a version string."""

    version: str
    family_of: dict
    descriptions: dict

    @property
    def families(self) -> list[str]:
        return sorted(self.descriptions)

    def family(self, genre: str) -> str:
        """The family of a fine genre; 'other' for a genre the taxonomy does not know."""
        return self.family_of.get(genre, UNKNOWN_FAMILY)

    def missing(self, genres) -> list[str]:
        """Genres not covered by the taxonomy (empty when it covers all of them)."""
        return sorted({g for g in genres if g not in self.family_of})


def parse_taxonomy(document: dict) -> Taxonomy:
    """Validate and index a taxonomy document (the JSON layout of taxonomy.json)."""
    family_of, descriptions = {}, {}
    for family, entry in document["families"].items():
        if not entry.get("genres"):
            raise TaxonomyError(f"family {family!r} has no genres")
        descriptions[family] = entry.get("description", "")
        for genre in entry["genres"]:
            if genre in family_of:
                raise TaxonomyError(
                    f"genre {genre!r} is in both {family_of[genre]!r} and {family!r}"
                )
            family_of[genre] = family
    return Taxonomy(
        version=str(document["version"]), family_of=family_of, descriptions=descriptions
    )


@lru_cache(maxsize=4)
def load_taxonomy(path: str = TAXONOMY_PATH) -> Taxonomy:
    """The taxonomy from disk (cached per path)."""
    with open(path, encoding="utf-8") as handle:
        return parse_taxonomy(json.load(handle))
