"""The Pipfile's version pins: read them, and move them all to the newest releases (`make upgrade`).

`python -m tools.pins upgrade` loosens every `==` pin to `*`, lets pipenv resolve and install
the newest releases into .venv, and writes the installed versions back as the new pins. If
pipenv fails, the Pipfile is restored. `make upgrade` then runs the whole test suite: commit the
new Pipfile only when it passes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PIPFILE = os.path.join(ROOT, "Pipfile")
PIPENV = os.path.join(ROOT, ".tools", "bin", "pipenv")
PIN_LINE = re.compile(r'^(?P<name>[A-Za-z0-9_.-]+) = "==(?P<version>[^"]+)"$', re.M)


def pins(path: str = PIPFILE) -> dict[str, str]:
    """{package: pinned version} for both sections; ValueError for a package that is not pinned."""
    with open(path, "rb") as handle:
        pipfile = tomllib.load(handle)
    found = {}
    for section in ("packages", "dev-packages"):
        for name, spec in pipfile.get(section, {}).items():
            if not (isinstance(spec, str) and spec.startswith("==")):
                raise ValueError(f"{name} is not pinned with == in the Pipfile ({spec!r})")
            found[name] = spec[2:]
    return found


def upgrade() -> int:
    with open(PIPFILE, encoding="utf-8") as handle:
        pinned = handle.read()
    loose = PIN_LINE.sub(lambda m: f'{m["name"]} = "*"', pinned)
    with open(PIPFILE, "w", encoding="utf-8") as handle:
        handle.write(loose)
    env = dict(os.environ, PIPENV_VENV_IN_PROJECT="1", PIPENV_YES="1")
    if subprocess.run([PIPENV, "install", "--dev"], cwd=ROOT, env=env).returncode != 0:
        with open(PIPFILE, "w", encoding="utf-8") as handle:
            handle.write(pinned)
        print("pipenv could not install the newest releases; the Pipfile is unchanged.")
        return 1
    installed = os.path.join(ROOT, ".venv", "bin", "python")

    def version_of(name: str) -> str:
        # Asked of the project's environment, which may not be the one running this script.
        code = f"import importlib.metadata as m; print(m.version({name!r}))"
        return subprocess.run(
            [installed, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()

    changes = []

    def repin(match):
        name, old = match["name"], match["version"]
        new = version_of(name)
        if new != old:
            changes.append(f"{name} {old} → {new}")
        return f'{name} = "=={new}"'

    with open(PIPFILE, "w", encoding="utf-8") as handle:
        handle.write(PIN_LINE.sub(repin, pinned))
    print("\n".join(changes) or "Every pin was already the newest release.")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["upgrade"]:
        sys.exit("usage: python -m tools.pins upgrade")
    sys.exit(upgrade())
