"""Transfer learning: reuse a backbone trained on digits 0-4 to learn 5-9 from few examples.

Trick 6 of the seed article ("start from a pretrained network"), end to end and offline:

1. pretrain a small CNN on the digits 0-4 and `model.export()` its feature part as a
   SavedModel (what a TF-Hub model or your own earlier project would give you);
2. `kit.transfer.classifier(...)` wraps it as a frozen `FeatureExtractor`, rescales the
   inputs from the digits' [0, 16] to the [0, 1] it was trained on, and adds a head;
3. `kit.transfer.fine_tune(...)` trains the head to convergence on the frozen backbone (on
   features computed once per image), then the whole network with the backbone at a tenth
   of the rate, on digits 5-9 with `--shots` examples per class, and keeps the fine-tuned
   network only if it beats the head on validation;
4. the model is saved as one `.keras` file (it carries the SavedModel) and reloaded.

Run it directly:

    python examples/transfer_learning.py --logdir runs/transfer

then look at both phases of the fine-tuning with `tensorboard --logdir runs/transfer`
(SCALARS tab; the script prints where the head phase ends). `--backbone mobilenet_v2`
(or another name of `kit.transfer.list_backbones()`) uses a `keras.applications` backbone
instead, with random weights unless `--imagenet` (which downloads them once). `--quick`
shrinks every budget to a few seconds (the test suite runs it that way).

This shows the workflow, not a win: on 8x8 digits a small CNN trained from scratch does
about as well, because the digits are too easy to need borrowed features (the recipe
reaches a logistic regression on the frozen features, `tests/transfer/test_fine_tune.py`).
Transfer pays off when the few labelled images do not show what matters, as on digits
under heavy rotation, scaling, noise and contrast inversion
(`tests/transfer/test_transfer_gain.py`), or on photos with an ImageNet backbone.
"""

import argparse
import os

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits

import keras_accuracy_kit as kit


def digits_backbone():
    """The feature part of a small CNN: 8x8x1 images in [0, 1] to 64 features."""
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(64, activation="relu")(x)
    return keras.Model(inputs, outputs, name="digits_backbone")


def pretrain_and_export(images, labels, directory, epochs, logdir):
    """Trains the backbone with a 5-class head on digits 0-4; exports the backbone only."""
    backbone = digits_backbone()
    head = keras.layers.Dense(5, activation="softmax")(backbone.output)
    model = keras.Model(backbone.input, head)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(
        images / 16.0,  # the backbone learns on [0, 1]
        labels,
        epochs=epochs,
        batch_size=32,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(logdir, "pretrain"))],
        verbose=0,
    )
    backbone.export(directory, verbose=False)
    return directory


def few_shot_split(images, labels, shots, seed):
    """`shots` training images per class; all the others for validation."""
    rng = np.random.default_rng(seed)
    train = np.concatenate(
        [rng.choice(np.flatnonzero(labels == c), shots, replace=False) for c in range(5)]
    )
    validation = np.setdiff1d(np.arange(len(labels)), train)
    return (images[train], labels[train]), (images[validation], labels[validation])


def run(
    logdir,
    model_dir=None,
    backbone="digits",
    imagenet=False,
    shots=10,
    pretrain_epochs=15,
    head_epochs="auto",
    fine_tune_epochs="auto",
    seed=0,
):
    """Pretrains (or names) a backbone, fine-tunes it on few digits 5-9, saves and reloads.

    Returns:
        Dict with `backbone` (the handle used), `model_path`, `history` (the
        `kit.transfer.FineTuneHistory` of both phases), `accuracy` (of the reloaded model on
        the held-out digits 5-9), `predictions` and `reloaded_predictions` on them.
    """
    keras.utils.set_random_seed(seed)
    model_dir = os.path.abspath(model_dir or os.path.join(logdir, "models"))
    os.makedirs(model_dir, exist_ok=True)
    digits = load_digits()
    images = digits.images[..., None].astype("float32")  # values 0..16
    labels = digits.target.astype("int32")

    if backbone == "digits":
        source = labels < 5
        handle = pretrain_and_export(
            images[source],
            labels[source],
            os.path.join(model_dir, "digits_0_to_4_backbone"),
            pretrain_epochs,
            logdir,
        )
        model = kit.transfer.classifier(
            handle,
            num_classes=5,
            input_shape=(8, 8, 1),
            value_range=(0, 16),  # what the digits hold
            backbone_value_range=(0, 1),  # what the backbone was trained on
        )
    else:
        handle = backbone
        model = kit.transfer.classifier(
            backbone,
            num_classes=5,
            input_shape=(8, 8, 1),
            value_range=(0, 16),
            image_size=(32, 32),  # not the ImageNet 224x224: 8x8 digits hold no more
            weights="imagenet" if imagenet else None,
        )

    target = labels >= 5
    (train_x, train_y), (val_x, val_y) = few_shot_split(
        images[target], labels[target] - 5, shots, seed
    )
    train = tf.data.Dataset.from_tensor_slices((train_x, train_y)).shuffle(len(train_x), seed=seed)
    validation = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(256)
    history = kit.transfer.fine_tune(
        model,
        train.batch(16),
        validation,
        head_epochs=head_epochs,
        fine_tune_epochs=fine_tune_epochs,
        backbone_lr_ratio=0.1,
        callbacks=[keras.callbacks.TensorBoard(os.path.join(logdir, "fine_tune"))],
        seed=seed,
        verbose=0,
    )

    model_path = os.path.join(model_dir, "digits_5_to_9.keras")
    model.save(model_path)
    # One file, no SavedModel directory needed: `import keras_accuracy_kit` is enough.
    reloaded = keras.saving.load_model(model_path)
    predictions = model.predict(val_x, verbose=0)
    reloaded_predictions = reloaded.predict(val_x, verbose=0)
    return {
        "backbone": handle,
        "model_path": model_path,
        "history": history,
        "accuracy": float((reloaded_predictions.argmax(-1) == val_y).mean()),
        "predictions": predictions,
        "reloaded_predictions": reloaded_predictions,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/transfer", help="TensorBoard log directory")
    parser.add_argument(
        "--model-dir", default=None, help="where the SavedModel and .keras go (<logdir>/models)"
    )
    parser.add_argument(
        "--backbone",
        default="digits",
        choices=["digits"] + kit.transfer.list_backbones(),
        help="'digits' pretrains one on digits 0-4; others are keras.applications backbones",
    )
    parser.add_argument(
        "--imagenet", action="store_true", help="ImageNet weights for a named backbone"
    )
    parser.add_argument("--shots", type=int, default=10, help="training images per class")
    parser.add_argument(
        "--head-epochs", type=int, default=None, help="ceiling of the head phase (auto: 100)"
    )
    parser.add_argument(
        "--fine-tune-epochs", type=int, default=None, help="ceiling of fine-tuning (auto: 30)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the split and weights")
    parser.add_argument("--quick", action="store_true", help="tiny budgets for a smoke test")
    args = parser.parse_args(argv)
    settings = {
        "shots": args.shots,
        "head_epochs": "auto" if args.head_epochs is None else args.head_epochs,
        "fine_tune_epochs": "auto" if args.fine_tune_epochs is None else args.fine_tune_epochs,
    }
    if args.quick:
        settings = {"shots": 5, "pretrain_epochs": 3, "head_epochs": 5, "fine_tune_epochs": 5}
    result = run(
        args.logdir,
        model_dir=args.model_dir,
        backbone=args.backbone,
        imagenet=args.imagenet,
        seed=args.seed,
        **settings,
    )
    print(f"Backbone: {result['backbone']}")
    print(f"Saved and reloaded: {result['model_path']}")
    history = result["history"]
    cached = "on cached features" if history.cached else "through the backbone"
    print(
        f"Head: {history.head_epochs} epochs {cached}, validation accuracy {history.floor:.3f}"
    )
    if history.rolled_back:
        print(
            f"Fine-tuning: {history.fine_tune_epochs} epochs did not beat the head: rolled back"
        )
    else:
        print(
            f"Fine-tuning: kept {history.best_fine_tune_epochs} of {history.fine_tune_epochs} "
            f"epochs, validation accuracy {history.best_value:.3f}"
        )
    print(f"Accuracy of the reloaded model on the held-out digits 5-9: {result['accuracy']:.3f}")
    print("Look at both fine-tuning phases in TensorBoard (SCALARS tab):")
    print(f"  tensorboard --logdir {os.path.abspath(args.logdir)}")
    return result


if __name__ == "__main__":
    main()
