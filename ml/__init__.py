"""Plotify's offline ML: features, genre labels and taxonomy, clustering, genre model, predictor."""
