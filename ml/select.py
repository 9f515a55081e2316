"""Drop-one feature ablation on validation rows: which candidate features earn their place."""

from __future__ import annotations

import time

import numpy as np

from ml import features as F
from ml.evaluate import scores
from ml.model import fit_genre_model, predict_proba, soft_targets
from ml.split import SEED, make_split
from ml.train import TrainConfig, augment_with_masked, prepare

# A quick proxy of the full model, so the 16 fits of an ablation take minutes, not an hour.
PROXY_CONFIG = TrainConfig(
    hidden=(256, 128),
    dropout=0.3,
    batch_size=1024,
    learning_rate=3e-3,
    max_epochs=8,
    patience=3,
    mask_share=0.0,
)
# The real model's settings, for confirming a proposal once.
FULL_CONFIG = TrainConfig()
# Dropping a feature must cost more than this much validation top-1 for it to count as helping;
# below it the difference is within run-to-run noise of the proxy.
MIN_GAIN = 0.002


def ablate(
    frame,
    candidates=F.ALL_FEATURES,
    config: TrainConfig = PROXY_CONFIG,
    split_kind: str = "artist",
    echo=print,
    confirm_config: TrainConfig | None = FULL_CONFIG,
) -> dict:
    """Validation top-1 with every candidate, then with each one left out (test rows never used).

    Features whose removal costs at most MIN_GAIN are proposed for dropping; with confirm_config
    the proposal is checked once with the real model (all features vs the reduced set) and only
    accepted if the reduced set does at least as well.
    """
    tracks, _, label_encoder, usable = prepare(frame, candidates=candidates)
    candidates = usable["features"]
    y = label_encoder.transform(tracks["label"].astype(str))
    split = make_split(tracks, split_kind, seed=SEED)
    n_classes = len(label_encoder.classes_)

    def validation_top1(features, settings: TrainConfig = config) -> float:
        encoder = F.FeatureEncoder(features, n_bins=settings.n_bins).fit(tracks.iloc[split.train])
        x = encoder.transform(tracks)
        targets = soft_targets(y[split.train], None, n_classes, 0.0)
        x_train, t_train = augment_with_masked(
            encoder, x[split.train], targets, settings.mask_share, settings.seed
        )
        model, _, _ = fit_genre_model(
            x_train, t_train, x[split.val], y[split.val], n_classes, settings
        )
        return scores(y[split.val], predict_proba(model, x[split.val]))["top1"]

    started = time.perf_counter()
    full = validation_top1(candidates)
    echo(f"all {len(candidates)} features: validation top-1 {full:.4f}")
    without = {}
    for name in candidates:
        without[name] = validation_top1(F.without(candidates, [name]))
        echo(
            f"  without {name:<17} {without[name]:.4f}  "
            f"(gain from keeping it {full - without[name]:+.4f})"
        )
    keep = [name for name in candidates if full - without[name] > MIN_GAIN]
    drop = [n for n in candidates if n not in keep]
    confirmation = None
    if drop and confirm_config is not None:
        # Features that look useless one at a time may still matter together: the proposed set
        # must match the full one with the real model before anything is dropped.
        with_all = validation_top1(candidates, confirm_config)
        reduced = validation_top1(tuple(keep), confirm_config)
        echo(f"full model: all features {with_all:.4f}, without {', '.join(drop)} {reduced:.4f}")
        confirmation = {
            "all_features_val_top1": with_all,
            "reduced_val_top1": reduced,
            "dropped": drop,
        }
        if reduced < with_all:
            keep, drop = list(candidates), []
    return {
        "split": split_kind,
        "all_features_val_top1": full,
        "without": without,
        "gain": {n: round(full - v, 4) for n, v in without.items()},
        "min_gain": MIN_GAIN,
        "proposed_drop": [n for n in candidates if full - without[n] <= MIN_GAIN],
        "confirmation": confirmation,
        "keep": keep,
        "drop": drop,
        "proxy_config": {
            "hidden": list(config.hidden),
            "max_epochs": config.max_epochs,
            "batch_size": config.batch_size,
        },
        "seconds": round(time.perf_counter() - started, 1),
        "seed": int(np.uint32(SEED)),
    }
