"""A local stand-in for the Spotify Web API and ReccoBeats, built from the real shared data."""

from tests.standin.catalog import Catalog, load_catalog, synthetic_id
from tests.standin.server import (
    CLIENT_ID,
    CLIENT_SECRET,
    FAULT_KINDS,
    Fault,
    FaultPlan,
    StandIn,
    wait_for_calls,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "Catalog",
    "FAULT_KINDS",
    "Fault",
    "FaultPlan",
    "StandIn",
    "load_catalog",
    "synthetic_id",
    "wait_for_calls",
]
