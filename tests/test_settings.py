"""The settings module: every variable read is one of its settings; .env.example is made from it."""

from __future__ import annotations

import pathlib
import re

import pytest

import app as app_module
from tests.support import ROOT
from web import settings

PRODUCT_CODE = ("app.py", "gunicorn.conf.py", "api", "etl", "ml", "store", "web")
# How the product reads a named value: from the environment, from the app config, or typed.
READS = re.compile(
    r"""(?:os\.environ(?:\.get\(|\[)|os\.getenv\(|envvar=|config(?:\.get\(|\[)|"""
    r"""value\([\w.]+, )["']([A-Z][A-Z0-9_]+)["']"""
)
FLASK_OWN = {"TESTING", "DEBUG"}


def product_sources():
    root = pathlib.Path(ROOT)
    for entry in PRODUCT_CODE:
        path = root / entry
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def test_every_variable_the_product_reads_is_a_documented_setting():
    read = {}
    for path in product_sources():
        for name in READS.findall(path.read_text(encoding="utf-8")):
            read.setdefault(name, path.name)
    assert len(read) > 20  # the scan sees the reads at all
    unknown = {
        name: where
        for name, where in read.items()
        if name not in settings.SETTINGS and name not in FLASK_OWN
    }
    assert unknown == {}, "add these to web/settings.py"


def test_env_example_is_made_from_the_settings():
    with open(pathlib.Path(ROOT, ".env.example"), encoding="utf-8") as handle:
        committed = handle.read()
    assert committed == settings.env_example(), "run `python -m web.settings > .env.example`"
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", committed, re.M))
    assert documented == set(settings.SETTINGS)


def test_every_setting_has_a_one_line_doc_and_a_default_of_its_kind():
    for setting in settings.SETTINGS.values():
        assert setting.doc.endswith(".") and "\n" not in setting.doc, setting.name
        if setting.default is not None:
            assert settings.value({}, setting.name) is not None


def test_values_are_typed_and_malformed_ones_name_the_variable():
    assert settings.value({}, "ETL_HTTP_TIMEOUT") == 10.0
    assert settings.value({"ETL_HTTP_RETRIES": "0"}, "ETL_HTTP_RETRIES") == 0
    assert settings.value({"IMPORT_MAX_BYTES": ""}, "IMPORT_MAX_BYTES") == 128 * 1024**2
    assert settings.value({}, "MONGODB_URI") is None
    with pytest.raises(settings.SettingError, match=r"ETL_HTTP_TIMEOUT='10s' is not a number"):
        settings.value({"ETL_HTTP_TIMEOUT": "10s"}, "ETL_HTTP_TIMEOUT")
    with pytest.raises(settings.SettingError, match=r"IMPORT_MAX_BYTES='-1' must be positive"):
        settings.value({"IMPORT_MAX_BYTES": "-1"}, "IMPORT_MAX_BYTES")


def test_the_app_reads_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_TIMEOUT", "7")
    monkeypatch.setenv("FEATURE_PROVIDERS", "reccobeats")
    application = app_module.create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert application.config["FEATURE_PROVIDERS"] == "reccobeats"
    assert application.extensions["store"].timeout == 7.0
    assert application.config["ETL_HTTP_RETRIES"] == "4"  # the default


def test_importing_the_app_module_builds_no_app():
    from flask import Flask

    assert not [name for name, thing in vars(app_module).items() if isinstance(thing, Flask)]
