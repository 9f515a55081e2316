"""gunicorn settings for Plotify on a small machine.

Run: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.
"""

import multiprocessing
import os

from web.settings import value

# This file is read before the app is loaded: under gunicorn the app refuses a development
# SECRET_KEY.
os.environ.setdefault("PLOTIFY_PRODUCTION", "1")

bind = value(os.environ, "GUNICORN_BIND")
# One process per core; threads cover requests waiting on SQLite or the network.
workers = value(os.environ, "WEB_CONCURRENCY") or min(multiprocessing.cpu_count(), 4)
worker_class = "gthread"
threads = value(os.environ, "GUNICORN_THREADS")
# The timeout also covers post_worker_init's warm-up (about 10 s idle, 30 s on a loaded machine).
timeout = 120
graceful_timeout = 20
keepalive = 5
# Import the code (pandas, scikit-learn, Flask) once in the master and share it with the workers.
# Nothing that holds a connection or a thread pool is created at import: the store opens its
# SQLite connection or MongoClient lazily per process, and the genre model is read only in a worker
# (numpy and h5py: TensorFlow is never imported when serving).
preload_app = True
accesslog = "-" if value(os.environ, "GUNICORN_ACCESS_LOG") else None
errorlog = "-"
# gunicorn 27 opens a control socket shared by every gunicorn of the same user by default: a second
# instance takes it over and deletes it when it stops. Plotify does not use gunicornc.
control_socket_disable = True


def _limit_malloc_arenas(count: int = 2) -> None:
    """Cap glibc's malloc arenas before any worker thread starts.

    By default each of a worker's threads allocates from an arena of its own (up to eight per
    core), and every arena keeps what it freed: 5 MB of each worker's RSS after a soak, for no
    measurable change in latency with four threads.
    """
    import ctypes
    import ctypes.util

    M_ARENA_MAX = -8  # glibc's malloc.h
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt(M_ARENA_MAX, count)
    except (OSError, AttributeError):  # not glibc: its allocator has no such setting
        pass


_limit_malloc_arenas()


def when_ready(server):
    """Build the catalogue index, its payloads and the genre model once, in the master.

    The workers fork from it and inherit them (copy-on-write), so a worker is ready in about a
    second instead of building its own (10 s each, 30 s when two build at once on 2 busy cores).
    The master's database connection is closed first (each process opens its own), and gc.freeze
    keeps the workers' garbage collector from writing to, and so copying, every inherited object.
    """
    import gc

    from api import warm_up
    from ml.predictor import serve_with_single_thread_blas

    serve_with_single_thread_blas()  # inherited by every worker
    app = server.app.wsgi()
    warm_up(app)
    app.extensions["store"].close()
    gc.freeze()


def post_worker_init(worker):
    """Check the inherited caches (rebuilt if the store changed since the fork) before serving."""
    from api import warm_up
    from ml.predictor import serve_with_single_thread_blas

    serve_with_single_thread_blas()  # also when the master did not warm up (no preload)

    warm_up(worker.wsgi)
