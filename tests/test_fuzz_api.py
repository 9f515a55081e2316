"""Property-based fuzzing of every operation in the app's own OpenAPI document.

It uses schemathesis, in-process.
"""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is a dev package (Pipfile)")

from hypothesis import HealthCheck, given, settings  # noqa: E402  (hypothesis comes with schemathesis)
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from api.openapi import SPEC  # noqa: E402
from tests.support import is_error_shape  # noqa: E402

# Cases per operation and generation mode (valid, invalid): 12 runs × at most 50 examples stay well
# under a minute on two cores; bench/bench_fuzz.py runs many more.
FUZZ_MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "50"))
# Collected from the document itself, so a new route is fuzzed without touching this file. The
# route serving the document is left out, as schemathesis leaves it out of the schema it loads.
DOCUMENT_PATH = "/api/openapi.json"
OPERATIONS = [
    (method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method in item
    if path != DOCUMENT_PATH
]
# Invalid input needs something to be invalid: operations without parameters get valid cases only.
CASES = [
    (method, path, mode)
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or SPEC["paths"][path][method.lower()].get("parameters")
]
# The test client does not undo Content-Encoding, so ask for the plain body (gzip: test_api.py).
PLAIN = {"Accept-Encoding": "identity"}
# A schema-valid request may still be refused (400) for rules OpenAPI cannot express, each stated
# in the document's descriptions: playlist and dataset exclusive, predict needs one of its three
# inputs, search needs q or artist/track but not both, no surrogate/private-use/unassigned
# characters, an export needs a playlist or ids and at least one id stored. Any other 400 to
# valid data is a bug.
DOCUMENTED_REFUSALS = (
    "give either 'playlist' or 'dataset', not both",
    "give an artist and/or a track name, or a track_id",
    "give either 'q' or 'artist'/'track', not both",
    "give 'q', or an artist and/or a track",
    "contains control or invalid characters",
    "give 'playlist', 'ids', or both",
    "none of the ids is a stored track",
    "version goes with part=ids",
)


def load_schema(application):
    """The app's served OpenAPI document, bound to the app itself (WSGI: no server, no network)."""
    return schemathesis.openapi.from_wsgi("/api/openapi.json", application)


def error_shape_problem(status: int, content_type: str, body: bytes) -> str | None:
    """Why an error response is not the API's JSON error shape, or None when it is."""
    if "application/json" not in content_type:
        return f"{status} answered as {content_type!r}, not JSON"
    try:
        document = json.loads(body)
    except ValueError:
        return f"{status} body is not valid JSON: {body[:200]!r}"
    if not is_error_shape(document):
        return f"{status} body is not {{error, message}} (texts) plus details: {body[:200]!r}"
    if b"Traceback" in body:
        return f"{status} body carries a traceback"
    return None


def json_error_shape(ctx, response, case):
    """Every 4xx and 5xx is {"error": code, "message": text}, bar /healthz's 503 status document."""
    if response.status_code >= 400 and not (
        case.path == "/healthz" and response.status_code == 503
    ):
        # schemathesis keeps headers with lower-case names and a list of values each.
        content_type = (response.headers.get("content-type") or [""])[0]
        problem = error_shape_problem(response.status_code, content_type, response.content)
        if problem:
            raise AssertionError(problem)
    return True


def documented_refusals_only(ctx, response, case):
    """A 400 to schema-valid input carries one of the documented cross-parameter refusals."""
    if response.status_code == 400:
        message = json.loads(response.content).get("message", "")
        if not any(reason in message for reason in DOCUMENTED_REFUSALS):
            raise AssertionError(f"schema-valid request refused: {message!r}")
    return True


def fuzz_operation(
    schema, method: str, path: str, mode: GenerationMode, max_examples: int, tally: Counter
) -> None:
    """Run up to max_examples derandomized cases against one operation; checks raise on failure.

    tally counts cases and responses by class ("cases", "2xx", "4xx", "5xx"). Schemathesis' own
    checks run on every response: no server error, status code, content type and body conform to
    the document, invalid input is refused; json_error_shape is ours.
    """
    operation = schema[path][method]

    # derandomize: the cases depend only on the document and this function, so CI is reproducible;
    # no example database, so a failure found once on one machine does not change later runs.
    @settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        response = case.call(headers=PLAIN)
        tally["cases"] += 1
        tally[
            "5xx"
            if response.status_code >= 500
            else "4xx"
            if response.status_code >= 400
            else "2xx"
        ] += 1
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} {case.query!r}: {response.status_code} "
            f"{response.content[:300]!r}"
        )
        if mode is GenerationMode.POSITIVE:
            # Schemathesis' positive_data_acceptance would call every 400 a failure; ours allows
            # exactly the refusals the document describes.
            case.validate_response(
                response,
                headers=PLAIN,
                additional_checks=[json_error_shape, documented_refusals_only],
                excluded_checks=[positive_data_acceptance],
            )
        else:
            case.validate_response(response, headers=PLAIN, additional_checks=[json_error_shape])

    run()


class FuzzSummary:
    """A pytest plugin, registered by the fuzz_tally fixture, printing the tally after the run."""

    def __init__(self, tally: Counter):
        self.tally = tally

    def line(self) -> str:
        tally = self.tally
        return (
            f"API fuzz: {tally['cases']} cases over {len(OPERATIONS)} operations "
            f"({len(CASES)} operation × mode runs, max_examples={FUZZ_MAX_EXAMPLES}): "
            f"{tally['5xx']} responses >= 500, {tally['4xx']} 4xx, {tally['2xx']} 2xx/3xx"
        )

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(self.line())


@pytest.fixture(scope="module")
def fuzz_tally(request):
    """Counts every fuzz case by status class; the total is printed in pytest's summary."""
    tally: Counter = Counter()
    # Output captured during the tests would hide it, so it joins the terminal summary instead.
    request.config.pluginmanager.register(FuzzSummary(tally), "plotify-fuzz-summary")
    return tally


@pytest.fixture(scope="module")
def app_schema(app):
    return load_schema(app)


def test_the_document_lists_every_operation(app_schema):
    served = {(op.ok().method.upper(), op.ok().path) for op in app_schema.get_all_operations()}
    assert served == set(OPERATIONS) and len(OPERATIONS) >= 8


@pytest.mark.parametrize(
    "method, path, mode", CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES]
)
def test_operation_survives_fuzzing(app_schema, fuzz_tally, method, path, mode):
    before = fuzz_tally["cases"]
    fuzz_operation(app_schema, method, path, mode, FUZZ_MAX_EXAMPLES, fuzz_tally)
    assert fuzz_tally["cases"] > before, "no case was generated"
