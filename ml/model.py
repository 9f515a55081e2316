"""The Keras genre network: small MLP branches averaged inside one model, and how it is fit."""

from __future__ import annotations

import time

import numpy as np

from ml.progress import bar


def build_networks(n_inputs: int, n_classes: int, config):
    """(model to save, model to train) sharing one set of layers.

    Each of `config.members` branches is an MLP (ReLU layers of `config.hidden`, dropout) ending in
    class logits. The saved model averages the branches' logits and applies one softmax, so the
    ensemble is a single `.keras` file and a single forward pass. The training model has one
    softmax output per branch, each with its own loss: the branches learn apart (an ensemble),
    not as one wide network whose parts co-adapt.
    """
    import keras

    inputs = keras.Input((n_inputs,), name="encoded_features")
    logits = []
    for member in range(config.members):
        x = inputs
        for depth, width in enumerate(config.hidden):
            x = keras.layers.Dense(width, activation="relu", name=f"m{member}_dense{depth}")(x)
            x = keras.layers.Dropout(config.dropout, name=f"m{member}_dropout{depth}")(x)
        logits.append(keras.layers.Dense(n_classes, name=f"m{member}_logits")(x))
    averaged = logits[0] if len(logits) == 1 else keras.layers.Average(name="ensemble")(logits)
    output = keras.layers.Activation("softmax", name="genre_probabilities")(averaged)
    saved = keras.Model(inputs, output, name="genre_ensemble")
    branch_outputs = [
        keras.layers.Activation("softmax", name=f"m{member}_probabilities")(member_logits)
        for member, member_logits in enumerate(logits)
    ]
    trained = keras.Model(inputs, branch_outputs, name="genre_ensemble_training")
    return saved, trained


def output_layers(model) -> list:
    """The branches' logit layers (where a class-prior correction is folded in)."""
    return [layer for layer in model.layers if layer.name.endswith("_logits")]


def predict_proba(model, x: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Class probabilities in batches, calling the model directly (no predict() machinery)."""
    if not len(x):
        return np.zeros((0, model.output_shape[-1]), np.float32)
    return np.concatenate(
        [np.asarray(model(x[i : i + batch], training=False)) for i in range(0, len(x), batch)]
    )


def _best_on_validation(saved, x_val, y_val, patience: int, progress):
    """Keras callback: validation top-1 of the averaged model each epoch; keeps the best weights.

    The built-in EarlyStopping cannot watch the ensemble (the training model only sees branches),
    so this computes the saved model's validation accuracy itself, stops after `patience` epochs
    without a better one and puts the best epoch's weights back at the end.
    """
    import keras

    class BestOnValidation(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.history, self.best, self.best_epoch, self.best_weights = [], -1.0, -1, None

        def on_epoch_end(self, epoch, logs=None):
            top1 = float(np.mean(predict_proba(saved, x_val).argmax(axis=1) == y_val))
            self.history.append(top1)
            if top1 > self.best:
                self.best, self.best_epoch = top1, epoch
                self.best_weights = [w.copy() for w in saved.get_weights()]
            elif epoch - self.best_epoch >= patience:
                self.model.stop_training = True
            progress.advance(1, loss=float((logs or {}).get("loss", np.nan)), val_top1=top1)

        def on_train_end(self, logs=None):
            if self.best_weights is not None:
                saved.set_weights(self.best_weights)

    return BestOnValidation()


def soft_targets(y: np.ndarray, all_labels, n_classes: int, share: float) -> np.ndarray:
    """One-hot targets, with `share` of each multi-genre track's mass spread over all its genres.

    The dataset files a sixth of the recordings under several genres and keeps one at random as
    the label; telling the network about the others makes it rank them all high rather than
    learn the coin toss.
    """
    targets = np.zeros((len(y), n_classes), np.float32)
    targets[np.arange(len(y)), y] = 1.0
    if share > 0 and all_labels is not None:
        for row, labels in enumerate(all_labels):
            if len(labels) > 1:
                targets[row] *= 1.0 - share
                targets[row, labels] += share / len(labels)
    return targets


def fit_genre_model(x_train, t_train, x_val, y_val, n_classes: int, config, progress: bool = False):
    """Fit with Adam on a cosine learning-rate decay; best epoch on validation top-1 restored.

    `t_train` are target distributions (soft_targets). Returns (saved model, history dict with
    `val_top1` per epoch and `loss`, seconds). Label smoothing and dropout keep the network from
    memorising artists, which is what an artist-grouped split punishes.
    """
    import keras

    keras.utils.set_random_seed(config.seed)
    saved, trained = build_networks(x_train.shape[1], n_classes, config)
    steps = int(np.ceil(len(x_train) / config.batch_size)) * config.max_epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate, decay_steps=steps, alpha=0.05
    )
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
    trained.compile(optimizer=keras.optimizers.Adam(schedule), loss=[loss] * config.members)
    started = time.perf_counter()
    with bar("keras epochs", config.max_epochs, enabled=progress) as epochs:
        watcher = _best_on_validation(saved, x_val, y_val, config.patience, epochs)
        history = trained.fit(
            x_train,
            [t_train] * config.members if config.members > 1 else t_train,
            batch_size=config.batch_size,
            epochs=config.max_epochs,
            shuffle=True,
            callbacks=[watcher],
            verbose=0,
        )
        epochs.finish(best_val_top1=watcher.best, best_epoch=watcher.best_epoch + 1)
    record = {"loss": list(history.history["loss"]), "val_top1": watcher.history}
    record["best_epoch"] = watcher.best_epoch + 1
    return saved, record, time.perf_counter() - started


PRIOR_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)


def adjust_for_prior(model, y_train, x_val, y_val, n_classes: int) -> float:
    """Divide the predicted probabilities by the training class frequencies to a power tau.

    De-duplication leaves genres with unequal counts, and a softmax trained on them favours the
    big ones, which costs macro-F1. tau is picked on the validation rows (best top-1 + top-5 +
    macro-F1) and folded into every branch's logit bias (the average shifts by the same), so the
    saved model already includes it.
    """
    from ml.evaluate import scores

    prior = np.bincount(y_train, minlength=n_classes).astype(np.float64) + 1.0
    log_prior = np.log(prior / prior.sum())
    val_proba = predict_proba(model, x_val).astype(np.float64)

    def objective(tau):
        s = scores(y_val, val_proba * np.exp(-tau * log_prior))
        return s["top1"] + s["top5"] + s["macro_f1"]

    tau = max(PRIOR_STRENGTHS, key=objective) if len(y_val) else 0.0
    for layer in output_layers(model):
        weights, bias = layer.get_weights()
        layer.set_weights([weights, (bias - tau * log_prior).astype(bias.dtype)])
    return float(tau)
