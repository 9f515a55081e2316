"""The genre taxonomy covers every dataset genre exactly once and loads with a version."""

import json

import pandas as pd
import pytest

from ml.data import default_dataset_csv
from ml.taxonomy import TAXONOMY_PATH, TaxonomyError, load_taxonomy, parse_taxonomy

DATASET_CSV = default_dataset_csv()


@pytest.mark.skipif(DATASET_CSV is None, reason="shared dataset not present")
def test_taxonomy_covers_all_114_dataset_genres():
    genres = pd.read_csv(DATASET_CSV, usecols=["track_genre"])["track_genre"].unique()
    taxonomy = load_taxonomy()
    assert len(genres) == 114
    assert taxonomy.missing(genres) == []
    assert set(taxonomy.family_of) == set(genres), "taxonomy lists genres the dataset does not have"


def test_taxonomy_has_a_dozen_or_so_described_families_and_a_version():
    taxonomy = load_taxonomy()
    assert 12 <= len(taxonomy.families) <= 15
    assert all(taxonomy.descriptions[f] for f in taxonomy.families)
    assert taxonomy.version
    assert taxonomy.family("death-metal") == "metal & hardcore"
    assert taxonomy.family("not-a-genre") == "other"


def test_a_genre_in_two_families_is_rejected():
    with open(TAXONOMY_PATH, encoding="utf-8") as handle:
        document = json.load(handle)
    document["families"]["pop"]["genres"].append("rock")
    with pytest.raises(TaxonomyError, match="rock"):
        parse_taxonomy(document)
