"""The seed's serving pattern for bench_api.py: same app, model bundle loaded on every request."""

from api.model import ModelHolder
from app import create_app

app = create_app()


@app.before_request
def load_model_per_request():
    # A fresh holder has nothing cached, so predict loads model.keras, scaler and encoder anew.
    app.extensions["model"] = ModelHolder(app.config["MODELS_DIR"])
