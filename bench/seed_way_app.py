"""The seed's serving pattern for bench_api.py: the same app, but the model bundle is loaded on every request."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from api.model import ModelHolder  # noqa: E402

app = create_app()


@app.before_request
def load_model_per_request():
    # A fresh holder has nothing cached, so predict loads model.keras, scaler and encoder anew.
    app.extensions["model"] = ModelHolder(app.config["MODELS_DIR"])
