"""What every live run shares: its context (store, clients, console), checkpoints and report."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field

from etl.clients import Clients, LiveSettings
from etl.providers import FeatureChain


class LiveEtlError(Exception):
    """A run that cannot go on; the message says why and what to do."""


class QuietConsole:
    """How a run talks to the person; this one only records, the CLI's also prints and draws."""

    def __init__(self):
        self.messages: list[str] = []

    def say(self, message: str) -> None:
        self.messages.append(message)

    @contextlib.contextmanager
    def progress(self, total: int, label: str):
        """A context for one stage of work; advance(n) is called as n items are done."""
        yield self

    def advance(self, count: int) -> None:
        pass

    def waiting(self, what: str, delay: float, waited: float, budget: float) -> None:
        """A retry wait has begun (429s count against the run's budget)."""
        notice = f"{what}: waiting {delay:g} s"
        if what.endswith("(429)"):
            notice += f" ({waited + delay:g} of {budget:g} s allowed)"
        self.messages.append(notice)


@dataclass
class Checkpoint:
    """A run's progress, saved in the store after every step so that a killed run resumes.

    Subclasses declare their fields; they are stored as a JSON object under the run's key, and
    a stored object with unknown or missing fields (another version's) loads what it can.
    """

    @classmethod
    def load(cls, store, key: str):
        state = store.get_state(key)
        if not isinstance(state, dict):
            return None
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in state.items() if k in names})

    def save(self, store, key: str) -> None:
        store.set_state(key, dataclasses.asdict(self))


@dataclass
class RunReport:
    """What a run did, for the closing lines and for tests."""

    title: str
    lines: list[str] = field(default_factory=list)
    calls: int = 0
    seconds: float = 0.0
    unchanged: bool = False
    counts: dict = field(default_factory=dict)


class RunContext:
    """The store a run writes to, its clients, its console, and the steps every run shares."""

    def __init__(self, store, settings: LiveSettings, console=None, sleep=time.sleep):
        self.store = store
        self.settings = settings
        self.console = console or QuietConsole()
        self.clients = Clients(settings, sleep=sleep, on_wait=self.console.waiting)
        self.guard = self.clients.guard
        self._chain: FeatureChain | None = None
        self._nulls_reported: dict[str, int] = {}  # null_entries already in an earlier report

    @property
    def spotify(self):
        return self.clients.spotify

    @property
    def chain(self) -> FeatureChain:
        """Feature providers for this context; a refused provider stays dropped until it ends."""
        if self._chain is None:
            try:
                self._chain = self.clients.feature_chain(self.console.say)
            except ValueError as exc:
                raise LiveEtlError(f"FEATURE_PROVIDERS: {exc}") from None
        return self._chain

    def fill_features(self, track_ids: list[str], no_features: list[str], save) -> dict[str, int]:
        """Fetch features for the tracks that have none yet (resumable: the store remembers).

        no_features is the checkpoint's list of tracks no provider knew; it is updated in place
        before save() is called.
        """
        stored = self.store.get_tracks(track_ids)
        skip = set(no_features)
        need = [
            t
            for t in dict.fromkeys(track_ids)
            if t in stored and not stored[t].get("features_source") and t not in skip
        ]
        if not need:
            return {}
        chain = self.chain
        if not chain.providers:
            raise LiveEtlError(
                f"No audio-feature provider can be used (FEATURE_PROVIDERS="
                f"{self.settings.providers!r}); {len(need)} tracks still need features."
            )
        with self.console.progress(len(need), "Audio features") as bar:
            counts, missing = chain.fetch(need, self.store.upsert_tracks, bar.advance)
        if not chain.providers:
            raise LiveEtlError(
                f"Every audio-feature provider refused; {len(missing)} tracks still need "
                "features. Run again when one is reachable; the rest is kept."
            )
        # Only tracks that every remaining provider answered "unknown" for are remembered, so a
        # resumed run does not ask again.
        no_features[:] = sorted(skip | set(missing))
        save()
        counts["missing"] = len(missing)
        return counts

    @staticmethod
    def features_line(counts: dict[str, int]) -> str:
        if not counts:
            return "Audio features: every track already had them (nothing fetched)."
        given = ", ".join(f"{n} {name}" for name, n in counts.items() if name != "missing")
        return f"Audio features: {given}; {counts.get('missing', 0)} unknown to every provider."

    def start(self) -> tuple[float, int]:
        """The clock and call count at the start of a run, for finish()."""
        return time.monotonic(), self.guard.calls

    def finish(self, report: RunReport, started: tuple[float, int]) -> RunReport:
        """Close a report: null entries ignored since the last report, calls and time."""
        began, calls_before = started
        nulls = {
            k: n - self._nulls_reported.get(k, 0)
            for k, n in self.guard.null_entries.items()
            if n > self._nulls_reported.get(k, 0)
        }
        self._nulls_reported = dict(self.guard.null_entries)
        if nulls:
            report.lines.append(
                f"Ignored {sum(nulls.values())} null entries in answers ("
                + ", ".join(f"{k}: {n}" for k, n in sorted(nulls.items()))
                + "); nothing was stored for them."
            )
        report.counts["null_entries"] = nulls
        report.calls = self.guard.calls - calls_before
        report.seconds = time.monotonic() - began
        report.lines.append(f"{report.calls} API calls in {report.seconds:.1f} s.")
        return report
