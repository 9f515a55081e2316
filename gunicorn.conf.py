"""gunicorn settings for Plotify on a small machine: `gunicorn -c gunicorn.conf.py 'app:create_app()'`."""
import multiprocessing
import os

from web.settings import value

# This file is read before the app is loaded: under gunicorn the app refuses a development SECRET_KEY.
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
# SQLite connection or MongoClient lazily per process, and TensorFlow starts only in a worker.
preload_app = True
accesslog = "-" if value(os.environ, "GUNICORN_ACCESS_LOG") else None
errorlog = "-"
# gunicorn 27 opens a control socket shared by every gunicorn of the same user by default: a second
# instance takes it over and deletes it when it stops. Plotify does not use gunicornc.
control_socket_disable = True


def post_worker_init(worker):
    """Load the catalogue index, the catalogue payload and the genre model before taking requests."""
    from api import warm_up

    warm_up(worker.wsgi)
