"""The stylesheet build: libsass compiles static/scss/plotify.scss (Bulma + Spotify palette).

`python -m web.assets` writes static/css/plotify.css for gunicorn/CI; `install_sass_middleware(app)`
compiles the same file on each request in development. The JavaScript bundle is built by
`npm run build` (Vite).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import sass
from sassutils.builder import Manifest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# One manifest for the build and the middleware:
# static/scss/NAME.scss → static/css/NAME.css, served at /static/css/NAME.css.
MANIFEST = Manifest(
    sass_path="static/scss", css_path="static/css", wsgi_path="/static/css", strip_extension=True
)
ENTRY = "plotify.scss"
BULMA = os.path.join(ROOT, "node_modules", "bulma", "bulma.sass")
log = logging.getLogger(__name__)


def build_css(output_style: str = "compressed") -> str:
    """Compile the entry stylesheet (with a source map); returns the CSS path."""
    if not os.path.isfile(BULMA):
        raise SystemExit("node_modules/bulma is missing: run `npm ci` first.")
    scss_path, css_path = MANIFEST.resolve_filename(ROOT, ENTRY)
    os.makedirs(os.path.dirname(css_path), exist_ok=True)
    css, source_map = sass.compile(
        filename=scss_path,
        output_style=output_style,
        source_map_filename=css_path + ".map",
        output_filename_hint=css_path,
    )
    with open(css_path, "w", encoding="utf-8") as handle:
        handle.write(css)
    with open(css_path + ".map", "w", encoding="utf-8") as handle:
        handle.write(source_map)
    return css_path


class RecompilingMiddleware:
    """Development: compile the .scss behind a requested /static/css/*.css, then serve it.

    libsass's own sassutils.wsgi.SassMiddleware imports pkg_resources, which setuptools >= 82 no
    longer ships (and which is deprecated): this does the same job with the same Manifest and
    only sass and sassutils.builder, which need neither.
    """

    def __init__(self, wsgi_app, package_dir: str):
        self.wsgi_app = wsgi_app
        self.package_dir = package_dir
        self.prefix = MANIFEST.wsgi_path.rstrip("/") + "/"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.prefix) and path.endswith(".css"):
            scss_name = MANIFEST.unresolve_filename(self.package_dir, path[len(self.prefix) :])
            if os.path.isfile(os.path.join(self.package_dir, MANIFEST.sass_path, scss_name)):
                try:
                    css_path = MANIFEST.build_one(self.package_dir, scss_name)
                except sass.CompileError as error:
                    log.error("SCSS compile error: %s", error)
                    start_response(
                        "500 Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")]
                    )
                    return [str(error).encode("utf-8")]
                with open(os.path.join(self.package_dir, css_path), "rb") as handle:
                    body = handle.read()
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", "text/css; charset=utf-8"),
                        ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-cache"),
                    ],
                )
                return [body]
        return self.wsgi_app(environ, start_response)


def install_sass_middleware(app) -> None:
    """Development only: recompile the SCSS whenever the page asks for /static/css/*.css."""
    app.wsgi_app = RecompilingMiddleware(app.wsgi_app, app.root_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--style", default="compressed", choices=["nested", "expanded", "compact", "compressed"]
    )
    args = parser.parse_args(argv)
    path = build_css(args.style)
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
