"""Guarded API calls: 429 Retry-After within a budget, backoff on 5xx and timeouts, clear stops."""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import requests
from spotipy.exceptions import SpotifyException, SpotifyOauthError

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
RESTRICTED_STATUSES = frozenset({403, 404})


class ApiError(Exception):
    """A web API call that cannot succeed; the message is meant for the person running ETL."""

    def __init__(self, message: str, endpoint: str = "", status: int | None = None):
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status


class Restricted(ApiError):
    """The service answered 403/404: this app may not use the endpoint (or the item is gone)."""


class QuotaExceeded(ApiError):
    """The service's quota for this app/account is used up; waiting will not help."""


class RateLimitBudgetSpent(ApiError):
    """429s asked for more waiting than the run's budget allows."""


class ServiceFailed(ApiError):
    """5xx answers, timeouts, broken connections or malformed answers outlasted the retries."""


class Unauthorized(ApiError):
    """The token or the client credentials were rejected (401 or token endpoint error)."""


class RequestRejected(ApiError):
    """Any other 4xx: the request itself is wrong, so retrying cannot help."""


class MalformedAnswer(requests.RequestException):
    """A 2xx answer whose JSON body does not parse (cut off by a proxy or a dropped connection).

    A requests exception on purpose: spotipy turns a ValueError from response.json() into a
    silent None result, while a RequestException passes through it to the CallGuard.
    """


def check_json_answer(response: requests.Response, *args, **kwargs) -> None:
    """requests response hook: raise MalformedAnswer for a 2xx JSON answer that does not parse."""
    if not 200 <= response.status_code < 300 or not response.content:
        return
    if "json" not in (response.headers.get("Content-Type") or "json"):
        return
    try:
        json.loads(response.content)
    except ValueError:
        raise MalformedAnswer(
            f"malformed JSON answer ({len(response.content)} bytes, cut off?)",
            response=response,
            request=response.request,
        ) from None


@dataclass
class HttpFailure:
    """What a failed call tells us, whichever client raised it."""

    status: int | None  # None for timeouts, broken connections and malformed answers
    retry_after: float | None
    reason: str | None  # the body's error.reason (QUOTA_EXCEEDED) when there is one
    detail: str
    subject: str | None = None  # the request that failed when it is not the endpoint itself


def _retry_after(headers) -> float | None:
    value = (headers or {}).get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date; rare enough that the backoff schedule covers it


def describe_failure(exc: BaseException) -> HttpFailure | None:
    """Turn a spotipy or requests exception into an HttpFailure (None: not an HTTP failure)."""
    if isinstance(exc, SpotifyException):
        return HttpFailure(
            exc.http_status,
            _retry_after(exc.headers),
            exc.reason if isinstance(exc.reason, str) else None,
            str(exc.msg),
        )
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        response = exc.response
        reason = None
        try:
            error = response.json().get("error")
            if isinstance(error, dict):
                reason = error.get("reason")
        except ValueError:
            pass
        return HttpFailure(
            response.status_code, _retry_after(response.headers), reason, response.text[:200]
        )
    if isinstance(exc, MalformedAnswer):
        return HttpFailure(None, None, None, str(exc))
    if isinstance(exc, requests.Timeout):
        return HttpFailure(None, None, None, "timed out")
    if isinstance(exc, requests.ConnectionError):
        return HttpFailure(None, None, None, "connection reset or refused")
    if isinstance(
        exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
    ):
        return HttpFailure(None, None, None, "answer cut off mid-body")
    if isinstance(exc, (json.JSONDecodeError, requests.exceptions.JSONDecodeError)):
        # A client that parses a body itself (spotipy's token request) on a cut-off answer.
        return HttpFailure(None, None, None, "malformed JSON answer (cut off?)")
    return None


def describe_token_failure(exc: SpotifyOauthError) -> HttpFailure | None:
    """An HttpFailure for a token request refused for a passing reason (429, 5xx), else None.

    spotipy raises SpotifyOauthError for every HTTP error of the token endpoint, without the
    status; the HTTPError it was raised from (its __context__) still has the response.
    """
    context = exc.__context__
    if not isinstance(context, requests.HTTPError) or context.response is None:
        return None
    failure = describe_failure(context)
    if failure is None or not (failure.status == 429 or failure.status in TRANSIENT_STATUSES):
        return None
    failure.subject = "Spotify POST /api/token"
    return failure


class CallGuard:
    """Runs every API call of one ETL run (Spotify and ReccoBeats) under one policy.

    - 429 with reason QUOTA_EXCEEDED stops at once: the quota is per developer account and no
      amount of waiting inside one run brings it back.
    - Other 429s sleep for Retry-After; all such sleeps of the run share max_wait seconds, so a
      run never hangs for hours unseen. on_wait lets the progress bar show the wait.
    - 5xx, timeouts, reset or refused connections, answers cut off mid-body and 2xx answers with
      malformed JSON are retried `retries` times with exponential backoff, then fail naming the
      endpoint. The token request counts as part of the call that needed it.
    - 401 → Unauthorized, 403/404 → Restricted (callers decide: fall back or explain), other 4xx →
      RequestRejected.
    """

    def __init__(
        self,
        max_wait: float = 300.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[str, float, float, float], None] | None = None,
    ):
        self.max_wait = max_wait
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.on_wait = on_wait
        self.waited = 0.0
        self.calls = 0
        # Null entries dropped from answers' lists, by endpoint: reported, never stored.
        self.null_entries: collections.Counter = collections.Counter()

    def drop_nulls(self, endpoint: str, entries: Iterable | None) -> list:
        """The entries that are objects; nulls (and other non-objects) are counted and dropped."""
        kept = [e for e in entries or () if isinstance(e, dict)]
        dropped = len(list(entries or ())) - len(kept)
        if dropped:
            self.null_entries[endpoint] += dropped
        return kept

    def call(self, endpoint: str, fn: Callable[[], object]):
        """fn() under the policy; endpoint names the call ("Spotify GET /audio-features")."""
        transient_failures = 0
        rate_limited = 0
        while True:
            self.calls += 1
            try:
                return fn()
            except SpotifyOauthError as exc:
                failure = describe_token_failure(exc)
                if failure is None:
                    hint = (
                        "check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET"
                        if exc.error == "invalid_client"
                        else "run again later"
                    )
                    raise Unauthorized(
                        f"{endpoint}: the Spotify token request failed ({exc.error}: "
                        f"{exc.error_description}); {hint}",
                        endpoint,
                    ) from None
            except Exception as exc:  # noqa: BLE001 - classified below, re-raised when unknown
                failure = describe_failure(exc)
                if failure is None:
                    raise
            where = f"{failure.subject} (for {endpoint})" if failure.subject else endpoint
            if failure.status == 429:
                if failure.reason == "QUOTA_EXCEEDED":
                    raise QuotaExceeded(
                        f"{where}: the app's quota is exhausted (429 QUOTA_EXCEEDED). Quotas are "
                        "counted per developer account; run again later — finished work is kept "
                        "and the run resumes where it stopped.",
                        endpoint,
                        429,
                    )
                rate_limited += 1
                delay = failure.retry_after
                if delay is None:
                    delay = self.backoff * 2 ** min(rate_limited, 6)
                if self.waited + delay > self.max_wait:
                    raise RateLimitBudgetSpent(
                        f"{where}: rate limited (429) and waiting {delay:g} s more would exceed "
                        f"the {self.max_wait:g} s budget (already waited {self.waited:g} s). "
                        "Run again later; the run resumes where it stopped.",
                        endpoint,
                        429,
                    )
                self._wait(where, delay, "rate limited (429)")
                continue
            if failure.status is None or failure.status in TRANSIENT_STATUSES:
                transient_failures += 1
                what = failure.detail if failure.status is None else f"HTTP {failure.status}"
                if transient_failures > self.retries:
                    raise ServiceFailed(
                        f"{where} failed {transient_failures} times ({what}); giving up. "
                        "Run again later; the run resumes where it stopped.",
                        endpoint,
                        failure.status,
                    )
                delay = failure.retry_after
                if delay is None:
                    delay = self.backoff * 2 ** (transient_failures - 1)
                self._wait(where, delay, what)
                continue
            if failure.status == 401:
                raise Unauthorized(
                    f"{where}: 401 Unauthorized — the access token was rejected", endpoint, 401
                )
            if failure.status in RESTRICTED_STATUSES:
                raise Restricted(f"{where}: HTTP {failure.status}", endpoint, failure.status)
            raise RequestRejected(
                f"{where}: HTTP {failure.status} ({failure.detail})", endpoint, failure.status
            )

    def _wait(self, where: str, delay: float, why: str) -> None:
        if self.on_wait is not None:
            self.on_wait(f"{where} {why}", delay, self.waited, self.max_wait)
        self.sleep(delay)
        if why.startswith("rate limited"):
            # Only 429 waits draw on the budget: backoff sleeps are already bounded by retries.
            self.waited += delay
