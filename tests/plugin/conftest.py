"""Log directories shared by the route and browser tests.

- `ladder_logdir`: three `AccuracyReport` runs without a recorded decision (the tab decides).
- `loss_logdir`: three runs monitored on `val_loss` (mode "min": lower is better).
- `improve_logdir`: a real `kit.improve` ladder on few-shot digits, whose steps recorded
  the ladder's decisions (the numbers of `result.table()`).
"""

import os

import keras
import pytest

from tests.reporting.digits import fit_run, make_ladder

#: The `kit.improve` of `improve_logdir`: cheap tricks, one of which never pays
#: (`learning_rate` changes nothing in 3 epochs, so its gain is exactly 0: rejected).
IMPROVE_TRICKS = ["input_scale", "learning_rate", "image_size"]


@pytest.fixture(scope="session")
def ladder_logdir(tmp_path_factory):
    """`(logdir, [(run, change, best)] in ladder order)`."""
    logdir = tmp_path_factory.mktemp("ladder")
    return logdir, make_ladder(str(logdir))


@pytest.fixture(scope="session")
def loss_logdir(tmp_path_factory):
    """`(logdir, [(run, change, lowest val_loss)] in ladder order)`: a run that lowers the
    loss (4 epochs) and one that raises it (a 1000 times smaller rate)."""
    logdir = tmp_path_factory.mktemp("loss_ladder")
    rungs = [
        ("a-one-epoch", "one epoch", {"epochs": 1}),
        ("b-four-epochs", "four epochs", {"epochs": 4}),
        ("c-tiny-rate", "a tiny rate", {"epochs": 1, "learning_rate": 1e-5}),
    ]
    ladder = []
    for order, (name, change, options) in enumerate(rungs):
        _, history, _ = fit_run(
            os.path.join(logdir, name), change=change, order=order, monitor="val_loss",
            **options,
        )  # fmt: skip
        ladder.append((name, change, min(history.history["val_loss"])))
    return logdir, ladder


@pytest.fixture(scope="session")
def improve_logdir(tmp_path_factory):
    """`(logdir, ImproveResult)` of a `kit.improve` on 100 digits (3-fold judged)."""
    import keras_accuracy_kit as kit
    from keras_accuracy_kit.ladder import few_shot_digits, tutorial_cnn

    keras.utils.set_random_seed(0)
    logdir = tmp_path_factory.mktemp("improve") / "runs"
    result = kit.improve(
        tutorial_cnn,
        *few_shot_digits(per_class=5, seed=0)[:2],
        tricks=IMPROVE_TRICKS,
        epochs=3,
        ensemble=False,
        tta=False,
        refit=False,
        logdir=str(logdir),
        verbose=0,
    )
    return logdir, result
