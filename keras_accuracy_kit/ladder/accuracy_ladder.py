"""`kit.improve`: climb the seed article's ladder of tricks and keep what pays."""

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import time
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks, elements
from keras_accuracy_kit._core.announce import announce
from keras_accuracy_kit._core.checks import ensure_writable_directory
from keras_accuracy_kit._core.live_line import EpochStatus, LiveLine
from keras_accuracy_kit.callbacks.progressive_epochs import ProgressiveEpochs
from keras_accuracy_kit.callbacks.reduce_lr_on_plateau import ReduceLROnPlateau
from keras_accuracy_kit.history.checkpoint_on_change import CheckpointOnChange
from keras_accuracy_kit.history.history import History
from keras_accuracy_kit.ladder import data as data_lib
from keras_accuracy_kit.ladder import distributed as distributed_lib
from keras_accuracy_kit.ladder import evidence as evidence_lib
from keras_accuracy_kit.ladder import executors
from keras_accuracy_kit.ladder import members as members_lib
from keras_accuracy_kit.ladder.budget import Budget, StopAtDeadline
from keras_accuracy_kit.ladder.generated_data import GeneratedData
from keras_accuracy_kit.ladder.reference_cnn import reference_cnn
from keras_accuracy_kit.ladder.result import ImproveResult, Step
from keras_accuracy_kit.ladder.rungs import (
    DEFAULT_AUGMENT,
    OPT_IN,
    RUNGS,
    TRICKS,
    Config,
    default_depth,
    describe_augment,
)
from keras_accuracy_kit.ladder.test_time_augmentation import TestTimeAugmentation
from keras_accuracy_kit.reporting import evaluation
from keras_accuracy_kit.reporting.accuracy_report import AccuracyReport
from keras_accuracy_kit.transforms.augment import Augment
from keras_accuracy_kit.transforms.resize import Resize
from keras_accuracy_kit.transforms.to_hsv import ToHSV
from keras_accuracy_kit.transforms.to_lab import ToLab

_OWNER = "kit.improve"
#: Share of the budget the rungs may start new steps in; the rest goes to the finish
#: (ensemble members, test-time augmentation, refit), which also takes what they leave.
RUNG_SHARE = 0.6
#: Augmented copies of test-time augmentation.
TTA_COPIES = 8
#: Epochs per stage of "more epochs" are at least this many (short baselines stop early).
MIN_STAGE_EPOCHS = 20
#: Seeds of the best configuration the ensemble trains without an explicit budget.
DEFAULT_SEEDS = 3
#: Share of the time left before a step's deadline the generative rung's GANs may use.
GAN_TIME_SHARE = 0.5

__all__ = ["TRICKS", "ImproveResult", "Step", "improve"]


def improve(
    model,
    train,
    validation,
    tricks="auto",
    budget=None,
    logdir="runs/improve",
    directory=None,
    epochs=10,
    backbone=None,
    batch_size=32,
    min_delta="auto",
    class_names=None,
    refit="auto",
    folds="auto",
    ensemble=True,
    tta=True,
    seed=0,
    verbose=1,
    distributed=None,
):
    """Tries the seed article's tricks one at a time on your model and keeps what pays.

    The ladder trains your baseline as it is, then, on top of the best configuration so
    far: a modern network in place of yours (`kit.ladder.reference_cnn`: Conv-BatchNorm-
    ReLU blocks and global pooling, with its own progressive epochs), the input scale
    (per-channel standardization), more epochs (`ProgressiveEpochs` on `val_loss`, best
    weights kept), augmentation (`kit.augment`,
    with the steps that change the class removed by `augment.checked`; alone and with a
    decaying rate), generated images (opt-in: `tricks=[..., "generative"]`; a
    `kit.generative.ConditionalGAN` per member, trained on that member's training images
    only, 30 % of its training data), the learning rate (`ReduceLROnPlateau`), colour space
    (Lab, HSV; RGB data only), image size (larger inputs through `kit.resize`; needs a
    build function), depth (one more block; needs a build function with a `depth`
    argument) and transfer learning (when a `backbone` is given). Then it finishes:
    the best step trained longer when the budget cut it while it improved, an ensemble
    (the best configuration trained again with another seed, predictions
    averaged), test-time augmentation (predictions averaged over the guarded
    augmentation), and the refit (members trained on all your labelled data).

    **Judged beyond noise.** A trick is kept when it beats the best so far on the same
    images with one-sided 90 % confidence (McNemar's exact test on the images where the
    two disagree). With a small validation set (under 1000 images) the steps are judged
    by 3-fold cross-validation over train + validation (each image judged by the member
    that never trained on it; with a time budget of 5 minutes or more); the members of
    a step train together in one `fit`.
    Regularising tricks (augmentation, generated images, transfer) get their own
    progressive epochs.

    **Budget.** With a time budget the rungs start new steps in the first 60 % of it and
    the finish spends what is left (the cut best trained longer, more ensemble members,
    members trained on all the data) so
    that at least 90 % of it is used; a step is stopped at the end of the epoch that
    passes the deadline. Without a budget it is 25 times the baseline's training time
    (which grows with your data and model), and at least 60 s.

    Every step is a `kit.History` version (`kak history DIR`) and a TensorBoard run under
    `logdir` with an `AccuracyReport` (the "Accuracy Kit" tab shows the ladder).

    **Across machines** (`distributed`): keras-tuner's chief/worker mode, as
    `kit.search.tune`. The chief runs the ladder (its decisions, history and TensorBoard
    runs) and serves each step's training as a trial; workers, started with the same
    data and arguments, train them (a step's members together, exactly as one process
    does: same seeds, same results) and write the trained weights to the shared
    directory. While one step trains, idle workers train the steps that come next if it
    is not kept; a worker that dies has its trial run again by another. See
    `kit.ladder.Distributed`.

    Args:
        model: A `keras.Model` (each step trains fresh copies from `clone_model`) or a
            build function `build(input_shape, num_classes)` returning one; it may also
            take `depth=` (the ladder then tries `depth + 1`). Compiled models keep their
            optimizer and loss; others get Adam(1e-3) and cross-entropy.
        train: `(images, labels)` batches (`tf.data.Dataset`) or a pair of arrays.
            Integer or one-hot labels; images `(height, width, 1 or 3)`.
        validation: The same for validation.
        tricks: `"auto"` (every trick that applies, except the opt-in `"generative"`)
            or a list of names of `TRICKS`. Defaults to `"auto"`.
        budget: Optional bound on the whole ladder: an int (epochs) or a duration string
            (`"90s"`, `"5min"`, `"1h"`). Defaults to `None` (25 x the baseline's time).
        logdir: Path. TensorBoard runs, one per step. Defaults to `"runs/improve"`.
        directory: Path of the `kit.History` store. Defaults to `<logdir>/history`. The
            ladder reads its index only and never loads a model file from it.
        epochs: Int. Epochs of the baseline (and of each stage of "more epochs").
            Defaults to `10`.
        backbone: Optional transfer backbone: a name of `kit.transfer.list_backbones()`
            or a SavedModel directory / hub URL (checked against the safe-mode op
            allowlist, `kit.transfer.SAFE_OPS`: a warning when it needs other ops, and its
            `.keras` files then load only with `safe_mode=False`). Defaults to `None` (no
            transfer step).
        batch_size: Int. Batch size for array inputs. Defaults to `32`.
        min_delta: `"auto"` (the test above) or a float: keep a trick when its gain is
            strictly above it. Defaults to `"auto"`.
        class_names: Optional list of class names for the reports. Defaults to `None`.
        refit: `"auto"`, True or False. Train final members on train + validation and
            add them to the best model. `"auto"` refits when the steps were judged by
            cross-validation, or when your validation set is under 1000 images and at
            least a tenth of the training set (every image counts). Their accuracy
            can only be measured on a test set of your own. Defaults to `"auto"`.
        folds: `"auto"`, 1 (judge on your validation split) or an int >= 2 (k-fold
            cross-validation over train + validation). `"auto"`: 3 folds when the
            validation set has under 1000 images, the data fits in memory and the time
            budget (when given) is at least 5 minutes (k folds cost k trainings a step).
            Defaults to `"auto"`.
        ensemble: Bool. Try averaging several trained models. Defaults to `True`.
        tta: Bool. Try test-time augmentation. Defaults to `True`.
        seed: Int. Seeds weights, folds, shuffling and augmentation: reruns give the same
            ladder (up to the time budget's cuts). Defaults to `0`.
        verbose: 0 (silent), 1 (one line per step and, on a terminal or in a notebook,
            a live line with the epoch, its validation metrics and the time) or 2 (also
            Keras' `fit` progress).
        distributed: Optional `kit.ladder.Distributed`: this process's role (`"chief"`
            or `"worker"`) and the shared directory; keras-tuner's variables
            (`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT`, `KERASTUNER_TUNER_ID`)
            fill in the address. Defaults to `None` (one process).

    Returns:
        An `ImproveResult` (`best_model`, `best_accuracy`, `best_transforms`, `steps`,
        `table()`); on a worker, None (once the chief has finished).

    Example:

    ```python
    def build(input_shape, num_classes):
        return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                                 keras.layers.Dense(num_classes, activation="softmax")])

    result = kit.improve(build, train, validation, budget="5min", logdir="runs/ladder")
    result.best_model.save("best.keras")
    ```
    """
    settings = distributed_lib.Distributed.resolve(distributed)

    def ladder(logdir=logdir, directory=directory):
        return _Ladder(
            model=model,
            train=train,
            validation=validation,
            tricks=tricks,
            budget=budget,
            logdir=logdir,
            directory=directory,
            epochs=epochs,
            backbone=backbone,
            batch_size=batch_size,
            min_delta=min_delta,
            class_names=class_names,
            refit=refit,
            folds=folds,
            ensemble=ensemble,
            tta=tta,
            seed=seed,
            verbose=verbose,
        )

    if settings is not None and settings.role == "worker":
        return distributed_lib.run_worker(ladder, settings)
    # At verbose=1, a status line on terminals and notebooks while a step trains.
    with LiveLine() if verbose == 1 else contextlib.nullcontext() as line:
        chief = ladder()
        chief.progress = line
        if settings is None:
            return chief.run()
        return distributed_lib.run_chief(chief, settings)


@dataclasses.dataclass
class _Outcome:
    """One trained configuration: its members and their judged predictions."""

    config: Config
    members: list  # the members' weights (`get_weights()`), one list per member
    probabilities: np.ndarray  # out-of-fold class probabilities of the judged images
    transforms: list
    best_epochs: int
    version: int = None
    tta: Augment = None
    refit_arguments: dict = None  # transfer: `fine_tune` arguments replaying its decisions
    member_epoch_seconds: float = 0.0  # steady seconds per epoch and member, measured
    cut_short: bool = False  # its training was stopped by the budget, not by its own rule

    def correct(self, labels):
        return self.probabilities.argmax(-1) == labels

    def accuracy(self, labels):
        return float(np.mean(self.correct(labels)))


class _Ladder:
    def __init__(
        self, *, model, train, validation, tricks, budget, logdir, directory, epochs,
        backbone, batch_size, min_delta, class_names, refit, folds, ensemble, tta, seed,
        verbose,
    ):  # fmt: skip
        epochs, batch_size, min_delta, folds, ensemble, tta = _check_arguments(
            model, epochs, batch_size, min_delta, refit, folds, ensemble, tta
        )
        self.tricks = _check_tricks(tricks)
        self.budget = Budget(budget)
        self.logdir = ensure_writable_directory(_OWNER, "logdir", logdir)
        self.directory = ensure_writable_directory(
            _OWNER, "directory", directory or os.path.join(self.logdir, "history")
        )
        self.train = data_lib.as_batched_dataset(train, batch_size, "train", shuffle_seed=seed)
        self.validation = data_lib.as_batched_dataset(validation, batch_size, "validation")
        self.facts = data_lib.describe(self.train, self.validation)
        self.evidence = members_lib.Evidence(
            self.train, self.validation, self.facts, folds, seed, batch_size,
            budget_seconds=self.budget.seconds,
        )
        self.labels = self.evidence.sparse_labels
        self.generated = GeneratedData(self.evidence, self.facts, seed)
        self.model, self.build = (
            (None, model) if not isinstance(model, keras.Model) else (model, None)
        )
        self.epochs, self.backbone, self.min_delta = epochs, backbone, min_delta
        self.refit = self._refit_pays() if refit == "auto" else refit
        self.try_ensemble, self.try_tta = ensemble, tta
        self.seed, self.verbose = seed, verbose
        self.progress = None  # the `LiveLine` of `improve(verbose=1)`, if any
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.steps = []
        self._guarded = None
        self._step_seconds = []
        self._member_epoch_seconds, self._overhead_seconds = 0.0, 0.0
        self._refit_epoch_seconds = None
        self._refit_overhead_seconds = 0.0  # a refit round's fixed cost, once one has run
        self._joint_cache, self._member_name, self._statistics = {}, "model", {}
        self.executor = executors.LocalExecutor(self)
        self._looking_ahead = False

    def _refit_pays(self):
        """`refit="auto"`: under cross-validation, or when your validation set is small
        (under 1000 images) and at least a tenth of the training set: then it is data
        that counts, and the final members should learn from it too."""
        if self.evidence.num_folds > 1:
            return True
        validation, train = self.facts.num_validation, self.facts.num_train
        return validation < members_lib.SMALL_VALIDATION and validation >= 0.1 * train

    # The ladder ---------------------------------------------------------------------------

    def run(self):
        self._announce(
            f"kit.improve: {self.facts.num_train} training / {self.facts.num_validation} "
            f"validation images {self.facts.image_shape}, {self.facts.num_classes} classes; "
            f"judged on {self.evidence.describe()}; logs in {self.logdir}"
        )
        baseline = Config(epochs=self.epochs)
        self._expect(None, baseline, [])
        best = self._train_step("baseline", "your model as it is", baseline)
        if best is None:
            raise ValueError(
                f"{_OWNER}: `budget` must leave room for the baseline. Received: a budget "
                "exhausted before the first step. Raise `budget`."
            )
        self.budget.default_from_baseline(self._step_seconds[-1])
        for rung in (rung for rung in RUNGS if rung.name in self.tricks):
            best = self._climb(rung, best)
        best = self._finish(best)
        best_model = self._deployable(best)
        self._make_ready(best_model)
        self._announce(f"kit.improve: best accuracy {best.accuracy(self.labels):.4f}\n")
        self._announce(f"To see the curves and the ladder: tensorboard --logdir {self.logdir}")
        return ImproveResult(
            best_model=best_model,
            best_accuracy=best.accuracy(self.labels),
            best_transforms=best.transforms,
            steps=self.steps,
            logdir=self.logdir,
            directory=self.directory,
            evidence=self.evidence.describe(),
            seconds=self.budget.elapsed(),
            budget_seconds=self.budget.seconds if self.budget.explicit else None,
        )

    def _climb(self, rung, best):
        """Tries `rung`'s candidates on top of `best`; returns the new best."""
        reason = rung.skip_reason(self, best.config)
        if reason is None and not self._can_start():
            reason = "budget spent"
        if reason is None:
            reason = rung.late_skip_reason(self, best.config)
        if reason is not None:
            self._skip(rung.name, rung.label, reason)
            return best
        candidates = rung.candidates(self, best.config)
        for position, candidate in enumerate(candidates):
            change, config, note = (tuple(candidate) + ("",))[:3]
            if not self._can_start():
                self._skip(rung.name, change, "budget spent")
                break
            rest = candidates[position + 1 :] if isinstance(candidates, list) else []
            self._expect(rung, best.config, [later[1] for later in rest], candidate=config)
            outcome = self._train_step(rung.name, change, config, parent=best, note=note)
            if outcome is not None and self._judge(outcome, best):
                return outcome
        return best

    def _can_start(self):
        """Whether a new rung step fits in the rungs' share of the budget."""
        if self.budget.exhausted():
            return False
        if self.budget.seconds is None:
            spent = self.budget.epochs_total - self.budget.epochs_left
            return spent <= RUNG_SHARE * self.budget.epochs_total  # True without a bound
        return self.budget.elapsed() + self._expected_step_seconds() <= (
            RUNG_SHARE * self.budget.seconds
        )

    def _expected_step_seconds(self):
        """A rung step's expected time: the steps so far, or the baseline's without its
        tracing (later steps reuse the traced model) and with twice its epochs (progressive)."""
        if len(self._step_seconds) > 1:
            return float(np.median(self._step_seconds[1:]))
        return 2 * max(self._step_seconds[0] - self._overhead_seconds, 0.0)

    def _judge(self, outcome, best):
        """Records the decision on the last step; True when `outcome` is kept."""
        decision = evidence_lib.decide(
            outcome.correct(self.labels), best.correct(self.labels), self.min_delta
        )
        step = self.steps[-1]
        step.delta, step.low, step.high, step.rule = (
            decision.gain, decision.low, decision.high, decision.rule
        )  # fmt: skip
        step.kept = decision.kept
        self._step_report.record(step)
        self._announce(
            f"    {'kept' if decision.kept else 'not kept'}: gain {decision.interval()}, "
            f"{decision.rule}"
        )
        return decision.kept

    # The finish: ensemble, test-time augmentation, refit ----------------------------------

    def _finish(self, best):
        if best.cut_short and best.config.progressive and not best.config.transfer:
            best = self._train_longer(best)
        if self.try_ensemble and not self.budget.exhausted():
            best = self._ensemble(best)
        if self.try_tta and best.config.augment:
            best = self._test_time_augmentation(best)
        if self.refit and not self.budget.exhausted():
            best = self._refit(best)
        return best

    def _train_longer(self, best):
        """Resumes the best configuration's members where the budget cut their step.

        The rungs' steps stop at `RUNG_SHARE` of a time budget; when the best one was
        still improving there, the finish goes on training it (from its best epoch, with
        its own stopping rule and the rest of the budget) before anything else: a
        truncated best is what every later member (seeds, refit) would copy. The result
        is kept unless its judged accuracy falls (it is the same configuration; its
        length is chosen on `val_loss`, as in every step).
        """
        if not self._can_train_another_epoch(best):
            return best
        change = f"train the best configuration longer (from its epoch {best.best_epochs})"
        longer = self._train_step(
            "longer", change, best.config, parent=best, finishing=True, resume=best
        )
        if longer is None:
            return best
        step = self.steps[-1]
        step.delta = longer.accuracy(self.labels) - best.accuracy(self.labels)
        step.kept = step.delta >= 0
        step.rule = "the same configuration trained longer: kept unless its accuracy falls"
        self._step_report.record(step)
        self._announce(
            f"    {'kept' if step.kept else 'not kept'}: gain {step.delta:+.4f}, {step.rule}"
        )
        return longer if step.kept else best

    def _can_train_another_epoch(self, best):
        if self.budget.exhausted():
            return False
        if self.budget.seconds is None:
            return True
        per_epoch = (best.member_epoch_seconds or self._member_epoch_seconds) * max(
            1, self.evidence.num_members
        )
        # The best step's joint model is cached: resuming it traces nothing again.
        return self.budget.remaining_seconds() >= 2 * per_epoch

    def _ensemble(self, best):
        """Trains the best configuration with new seeds; keeps their average if it pays."""
        current, seeds = best, 1
        while self._can_train_another_seed(seeds):
            change = f"ensemble of {seeds + 1} seeds of the best configuration"
            trained = self._train_step(
                "ensemble", change, best.config, parent=best, seed_offset=seeds, finishing=True
            )
            if trained is None:
                break
            candidate = dataclasses.replace(
                current,
                members=current.members + trained.members,
                probabilities=(current.probabilities * seeds + trained.probabilities)
                / (seeds + 1),
            )
            step = self.steps[-1]
            step.val_accuracy = candidate.accuracy(self.labels)
            if seeds == 1:
                if not self._judge(candidate, best):
                    return best
            else:  # more members of a kept ensemble: recorded, not judged again
                step.kept, step.rule = True, "one more seed of the kept ensemble"
                step.delta = step.val_accuracy - best.accuracy(self.labels)
                self._step_report.record(step)
            current, seeds = candidate, seeds + 1
        return current

    def _can_train_another_seed(self, seeds):
        """Whether another seed of the best configuration fits in what is left."""
        if self.budget.exhausted():
            return False
        if self.budget.seconds is None:  # an epoch budget: its own count decides
            return seeds < DEFAULT_SEEDS
        if not self.budget.explicit and seeds >= DEFAULT_SEEDS:
            return False
        expected = self._expected_step_seconds()
        # The refit trains on every labelled image, which pays more on small data than
        # another seed judged on folds: it keeps at least two steps' time.
        reserve = 2 * expected if self.refit else 0.0
        return self.budget.remaining_seconds() >= expected + reserve

    def _test_time_augmentation(self, best):
        start = time.monotonic()
        augment = Augment(**best.config.augment, value_range=self.facts.value_range, seed=0)
        views = TestTimeAugmentation(augment, TTA_COPIES, seed=self.seed)
        pipeline = self._pipeline(best.config, best.transforms, False, normalize_inputs=False)
        standardize = (
            self._standardizer(best.config, best.transforms)
            if best.config.normalize
            else (lambda images: images)
        )
        totals = np.zeros_like(best.probabilities)
        count = 0
        joint, members = self._fresh_members(best.config, self.evidence.num_members, 0)
        for chunk in _chunks(best.members, self.evidence.num_members):
            for member, weights in zip(members, chunk):
                member.set_weights(weights)
            sums = None
            for images in self.evidence.judged_images(pipeline):
                per_view = [
                    _as_list(joint.predict_on_batch(standardize(view))) for view in views(images)
                ]
                mean = [np.mean([view[m] for view in per_view], axis=0) for m in range(len(chunk))]
                sums = mean if sums is None else [np.concatenate([a, b]) for a, b in zip(sums, mean)]
            totals += self.evidence.out_of_fold(sums)
            count += 1
        candidate = dataclasses.replace(best, probabilities=totals / count, tta=augment)
        change = f"test-time augmentation ({TTA_COPIES} copies: {describe_augment(best.config.augment)})"
        self.steps.append(
            Step(
                "tta", change, val_accuracy=candidate.accuracy(self.labels),
                seconds=time.monotonic() - start,
            )
        )  # fmt: skip
        self._announce(f"[{len(self.steps) - 1}] tta: {change}")
        return candidate if self._judge(candidate, best) else best

    def _refit(self, best):
        """Trains members of the best configuration on all the labelled data, in the time left.

        A refit member makes as many updates as the best step's members did: on all the
        data an epoch has more batches, so it trains for proportionally fewer epochs.
        With a time budget, rounds of members (trained together) fill what is left: more
        members, not longer training (on few-shot digits, over 5 seeds, members trained
        twice as long scored 0.958 on the test set against 0.962 at the matched length);
        the last round that fits trains until the deadline, for up to three times those
        epochs, so the budget is spent. A round cut before half of its epochs is dropped.
        """
        rounds = 0
        share = self.evidence.fit_share()
        while not self.budget.exhausted():
            target = max(1, int(round(max(1, best.best_epochs) * share)))
            epochs, num_members = target, 1
            if self.budget.seconds is not None:
                # A round's fixed cost: the steps' (tracing a new model) until a round has
                # run; later rounds reuse its traced model and pay their own, measured.
                overhead = (
                    self._overhead_seconds
                    if self._refit_epoch_seconds is None
                    else self._refit_overhead_seconds
                )
                available = self.budget.remaining_seconds() - overhead
                # The best configuration's own cost (the last step may be another network).
                measured = best.member_epoch_seconds or self._member_epoch_seconds
                # A refit epoch has no validation and no report: once a round has run,
                # its own cost (on tiny data the steps' cost overstates it 2-4 times).
                per_epoch = self._refit_epoch_seconds or max(measured, 1e-6) / share
                fits = int(available // (per_epoch * target))
                if fits < 1 and available // per_epoch < max(1, target // 2):
                    break
                # The steps' member count: their traced joint model is reused.
                num_members = self.evidence.num_members if fits >= self.evidence.num_members else 1
                # The last round that fits takes what no further round could use (the
                # deadline stops it where the budget ends).
                # (at least three times those epochs, or twice what the measured cost says
                # fits: the measure is taken under the steps' load and may be pessimistic).
                epochs = (
                    target
                    if fits >= 2 * num_members
                    else max(3 * target, 2 * int(available // per_epoch))
                )
            elif rounds:
                break
            trained = self._refit_round(best, num_members, epochs, min_epochs=target // 2)
            if trained is None:
                break
            best, rounds = trained, rounds + 1
        if not rounds and (not self.steps or self.steps[-1].name != "refit"):
            self._skip("refit", "refit on train + validation", "budget spent")
        return best

    def _measure_refit_round(self, seconds, ends, num_members):
        """A refit round's steady seconds per epoch and member, and its fixed cost (the
        round's time beyond its epochs: building, tracing, recording)."""
        if len(ends) >= 2:
            per_epoch = float(np.median(np.diff(ends)))
        else:  # one epoch: the steps' fixed cost is the best guess of the round's
            per_epoch = max(seconds - self._overhead_seconds, 1e-6) / max(1, len(ends))
        self._refit_epoch_seconds = max(per_epoch, 1e-6) / num_members
        self._refit_overhead_seconds = max(0.0, seconds - per_epoch * len(ends))

    def _refit_round(self, best, num_members, epochs, min_epochs):
        start = time.monotonic()
        change = f"refit {num_members} member(s) on train + validation"
        self._announce(f"[{len(self.steps)}] refit: {change} ...")
        transforms = self._transforms(best.config)
        config = dataclasses.replace(best.config, progressive=False, reduce_lr=False)
        joint, members = self._fresh_members(config, num_members, seed_offset=1000 + len(self.steps))
        pipeline = self._pipeline(config, transforms)
        stop = StopAtDeadline(self.budget)
        ends = []  # when each epoch ended
        clock = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda *_: ends.append(time.monotonic())
        )
        if config.transfer:  # the recipe replays the decisions of the judged members
            data = self.evidence.training_data(pipeline, all_data=True, num_members=1)
            callbacks = [stop, clock, *self._epoch_status()]
            for member in members:
                self._fine_tune(member, data, None, callbacks, config, best.refit_arguments)
        else:
            data = self.evidence.training_data(
                pipeline, all_data=True, num_members=num_members,
                generated=self._generated(config, stop.deadline),
            )  # fmt: skip
            batches = self.evidence.batches_per_epoch(all_data=True, generated=config.generative)
            joint.fit(
                _repeated(data, batches),
                steps_per_epoch=batches,
                epochs=epochs,
                callbacks=[stop, clock, *self._epoch_status()],
                shuffle=False,
                verbose=self._fit_verbose(),
            )
        trained_epochs = stop.epochs_run
        if trained_epochs:
            self._measure_refit_round(time.monotonic() - start, ends, num_members)
        self.budget.spend(trained_epochs)
        if trained_epochs < max(1, min_epochs):
            self._skip("refit", change, f"cut by the budget after {trained_epochs} epochs")
            return None
        change += f" for {trained_epochs} epochs"
        self.steps.append(
            Step(
                "refit", change, kept=True, epochs=trained_epochs,
                seconds=time.monotonic() - start,
                note="trained on every labelled image: measure the result on a test set",
            )
        )  # fmt: skip
        return dataclasses.replace(
            best, members=best.members + [member.get_weights() for member in members]
        )

    # One step -----------------------------------------------------------------------------

    def _train_step(
        self, name, change, config, parent=None, note="", seed_offset=0, finishing=False,
        resume=None,
    ):  # fmt: skip
        """Trains `config`'s members and judges them; appends a `Step`; None when skipped.

        A rung's step stops where the rungs' share of a time budget ends (`RUNG_SHARE`,
        its best epoch kept): the finish always has the rest. Finishing steps (`finishing`)
        may run to the budget's deadline. `resume` (an `_Outcome` of `config`) continues
        its members from their weights and best epoch, in this process.
        """
        if self.budget.exhausted():
            self._skip(name, change, "budget spent")
            return None
        index = len(self.steps)
        self._announce(f"[{index}] {name}: {change} ...")
        start = time.monotonic()
        transforms = self._transforms(config)
        checkpoint = self._checkpoint(name, config, transforms, parent)
        report = self._new_step_report(name, change, config, checkpoint, index)
        # The report writes the epoch scalars (as `epoch/<key>`) for TensorBoard; the
        # checkpoint records the step's best model once, after training (`_record`).
        # The executor trains (here, or on keras-tuner workers, which replay the report).
        request = self._request(config, seed_offset, finishing)
        if resume is None:
            trained = self.executor.train(request, [report])
        else:  # the weights to resume from are here: trained in this process
            trained = self.train_members(request, [report], resume=resume)
        best_epochs = self._after_training(trained, config, transforms, checkpoint, report)
        outcome = _Outcome(
            config=config,
            members=[member.get_weights() for member in trained.members],
            probabilities=trained.probabilities,
            transforms=transforms,
            best_epochs=best_epochs + (resume.best_epochs if resume is not None else 0),
            version=checkpoint.version_id,
            refit_arguments=trained.refit_arguments,
            member_epoch_seconds=self._member_epoch_seconds,
            cut_short=trained.stopped,
        )
        if trained.stopped:
            note = "; ".join(filter(None, [note, "cut short by the budget"]))
        step = Step(
            name,
            change,
            val_accuracy=outcome.accuracy(self.labels),
            kept=parent is None,
            epochs=len(trained.member_logs.epoch_logs),
            seconds=time.monotonic() - start,
            version=checkpoint.version_id,
            note=note,
        )
        self._append_step(step, report, kept_as_it_is=parent is None)
        return outcome

    def _new_step_report(self, name, change, config, checkpoint, index):
        """The step's `AccuracyReport` (its TensorBoard run `NN-name`)."""
        return _StepReport(
            os.path.join(self.logdir, f"{index:02d}-{name}"),
            hparams={"ladder_step": name, **self._hparams(config)},
            validation_data=None,  # the judged predictions come in `finish`
            class_names=self.class_names,
            tricks=[checkpoint],
            change=change,
            order=index,
        )

    def _after_training(self, trained, config, transforms, checkpoint, report):
        """Records a trained step (history, costs, budget, report); returns its best epoch
        (counted in this training)."""
        member_logs = trained.member_logs
        epochs_run = len(member_logs.epoch_logs)
        after_training = time.monotonic()
        progressive = config.progressive and not config.transfer  # the recipe keeps its best
        best_epochs = _best_epoch(member_logs.epoch_logs) if progressive else epochs_run
        self._record(checkpoint, trained.joint, member_logs, best_epochs)
        self._record_epoch_cost(member_logs)
        self.budget.spend(epochs_run)
        pipeline = self._pipeline(config, transforms, False)
        report.finish(self.evidence, trained.probabilities, pipeline)
        # What a step does after training, twice (the best model's build is of that size).
        self.budget.reserve = max(
            self.budget.reserve,
            2 * (time.monotonic() - after_training + trained.predict_seconds),
        )
        return best_epochs

    def _append_step(self, step, report, kept_as_it_is):
        self.steps.append(step)
        self._step_report = report  # `_judge` records the decision in the step's run
        if kept_as_it_is:
            report.record(step)  # the baseline is kept as it is
        self._step_seconds.append(step.seconds)
        self._announce(
            f"    accuracy {step.val_accuracy:.4f} in {step.epochs} epochs, {step.seconds:.1f}s"
            f" ({self.budget.describe()})"
        )

    def train_members(self, request, observers=(), budget=None, resume=None):
        """Trains the members `request` describes: one step's training, what executors run.

        A function of `request` and of the ladder's data and arguments only (the seeds
        are set here): the same request trains the same members in any process.
        `observers` are callbacks placed last (the step's report); `budget` (default:
        the ladder's) bounds the step in time and epochs; `resume` (an `_Outcome`)
        continues its members from their weights and best epoch.

        Returns:
            An `executors.TrainedStep`.
        """
        config = request.config
        transforms = self._transforms(config)
        joint, members = self._fresh_members(config, request.num_members, request.seed_offset)
        initial_epoch = 0
        if resume is not None:
            for member, weights in zip(members, resume.members):
                member.set_weights(weights)
            initial_epoch = resume.best_epochs
        member_logs = members_lib.MemberLogs(
            request.num_members, weights=self.evidence.fold_sizes()
        )
        share = None if request.finishing else RUNG_SHARE
        stop = StopAtDeadline(self.budget if budget is None else budget, share=share)
        refit_arguments = None
        if config.transfer:  # the recipe has its own phases, length and rates
            refit_arguments = self._fit_transfer(
                members, config, transforms,
                [member_logs, stop, *self._epoch_status(), *observers],
            )  # fmt: skip
        else:
            generated = self._generated(config, stop.deadline)
            batches = self.evidence.batches_per_epoch(generated=config.generative)
            judged_batches = self.evidence.batches_per_epoch(training=False)
            training = self.evidence.training_data(
                self._pipeline(config, transforms), generated=generated
            )
            joint.fit(
                _repeated(training, batches),
                steps_per_epoch=batches,
                validation_data=_repeated(
                    self.evidence.judging_data(
                        self._pipeline(config, transforms, augment_images=False)
                    ),
                    judged_batches,
                ),
                validation_steps=judged_batches,
                initial_epoch=initial_epoch,
                epochs=initial_epoch + request.max_epochs,
                callbacks=[
                    member_logs, *self._schedule(config, initial_epoch), stop,
                    *self._epoch_status(), *observers,
                ],  # fmt: skip
                shuffle=False,  # tf.data pipelines shuffle themselves
                verbose=self._fit_verbose(),
            )
        start = time.monotonic()
        probabilities = self._predict_judged(joint, config, transforms)
        return executors.TrainedStep(
            joint=joint,
            members=members,
            member_logs=member_logs,
            stopped=stop.stopped,
            refit_arguments=refit_arguments,
            probabilities=probabilities,
            predict_seconds=time.monotonic() - start,
        )

    def _generated(self, config, deadline):
        """The trained `GeneratedData` when `config` mixes generated images in, else None.
        The GANs are trained on first use, in at most `GAN_TIME_SHARE` of the time left
        before the step's `deadline` (a `Budget` clock time)."""
        if not config.generative:
            return None
        if self.generated.gans is None:
            left = deadline - self.budget.clock()
            self._announce("    training the generative rung's GANs ...")
            self.generated.train(
                None if not math.isfinite(left) else time.monotonic() + GAN_TIME_SHARE * left
            )
        return self.generated

    def _request(self, config, seed_offset, finishing):
        """The `StepRequest` of training `config` now (its bounds from the budget)."""
        return executors.StepRequest(
            config=config,
            num_members=self.evidence.num_members,
            seed_offset=seed_offset,
            finishing=finishing,
            max_epochs=self._max_epochs(config),
            epochs_left=self.budget.epochs_left,
            budget_seconds=self.budget.seconds,
            budget_start=time.time() - self.budget.elapsed(),
            budget_reserve=self.budget.reserve,
        )

    def _expect(self, rung, base, configs, candidate=None):
        """Tells a speculating executor which steps may come next, most likely first: if
        the step about to train (`candidate`, on `base`) is not kept, `configs` (the rest
        of `rung`'s candidates) and the later rungs' candidates on `base`; if it is kept,
        the later rungs' candidates on `candidate`; then the ensemble's seeds
        (`executors.speculation_order`, with this run's keep rate so far). The look-ahead
        stops at a rung whose candidates need work the ladder has not done yet (the
        augmentation guard): it never changes what runs.
        """
        if not self.executor.speculates:
            return
        rejected = list(configs) + self._later_candidates(rung, base)
        kept = [] if candidate is None else self._later_candidates(rung, candidate)
        order = executors.speculation_order(
            base, rejected, candidate, kept, self._keep_rate(),
            seeds=range(1, DEFAULT_SEEDS) if self.try_ensemble else (),
        )  # fmt: skip
        self.executor.expect([self._request(*step) for step in order])

    def _keep_rate(self):
        """The chance the next rung step is kept, from this run's judged rung steps
        (Laplace's rule of succession: 1/2 before any)."""
        judged = [step for step in self.steps if step.name in TRICKS and step.delta is not None]
        return (sum(step.kept for step in judged) + 1) / (len(judged) + 2)

    def _later_candidates(self, rung, base):
        """The configurations of the rungs after `rung` (all when None) on `base`, up to
        the first that needs work not done yet."""
        rungs = [other for other in RUNGS if other.name in self.tricks]
        later = rungs if rung is None else rungs[rungs.index(rung) + 1 :]
        found = []
        self._looking_ahead = True
        try:
            for other in later:
                if other.skip_reason(self, base) is None:
                    found.extend(candidate[1] for candidate in other.candidates(self, base))
        except _NotYetKnown:
            pass
        finally:
            self._looking_ahead = False
        return found

    def fingerprint(self):
        """What, besides a `StepRequest`, decides a step's training: the data (facts and
        judged labels), the folds, seeds, batch size and models. Chief and workers must
        agree on it."""
        build = self.build
        identity = {
            "facts": repr(self.facts),
            "labels": hashlib.sha256(np.ascontiguousarray(self.labels).tobytes()).hexdigest(),
            "folds": self.evidence.num_folds,
            "seed": self.seed,
            "batch_size": self.evidence.batch_size,
            "build": None if build is None else getattr(build, "__qualname__", repr(build)),
            "model": None if self.model is None else self.model.name,
            "backbone": None if self.backbone is None else str(self.backbone),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]

    def _schedule(self, config, initial_epoch=0):
        """The training-length and learning-rate callbacks of `config` (a fit that starts
        at `initial_epoch` gets a whole first stage).

        Both watch `val_loss`: on a few dozen held-out images the accuracy moves in steps
        of several points and ties for many epochs, the loss moves smoothly.
        """
        callbacks = []
        stage = max(config.epochs, MIN_STAGE_EPOCHS)
        if config.reduce_lr:
            callbacks.append(ReduceLROnPlateau("val_loss", factor=0.5, patience=max(3, stage // 4)))
        if config.progressive:
            callbacks.append(
                ProgressiveEpochs(
                    "val_loss", initial_epochs=initial_epoch + stage, extension=stage
                )
            )
        return callbacks

    def _max_epochs(self, config):
        """`config.epochs`, or with progressive epochs up to 20 stages; under an epoch
        budget a progressive step takes at most half of what is left (later rungs and
        the finish need the rest)."""
        if not config.progressive:
            return config.epochs
        stage = max(config.epochs, MIN_STAGE_EPOCHS)
        left = self.budget.epochs_left
        return int(min(stage * 20, max(1, left if not np.isfinite(left) else max(stage, left // 2))))

    def _checkpoint(self, name, config, transforms, parent):
        if parent is not None and parent.version is not None:
            with History(self.directory) as history:  # the step derives from the best so far
                history.rollback(parent.version, load=False)
        return CheckpointOnChange(
            self.directory,
            monitor="val_accuracy",
            save_last=False,  # the best epoch is what the step keeps
            hparams={
                "ladder_step": name, "folds": self.evidence.num_folds, **self._hparams(config)
            },
            data_config=transforms,
        )

    def _record(self, checkpoint, joint, member_logs, best_epochs):
        """Records the step in the history: its configuration and its model at the best epoch.

        A step saves one model (the weights it keeps), not one per improving epoch: on small
        data those saves cost as much as the training. Every epoch's metrics are in the
        step's TensorBoard run.
        """
        if not member_logs.epoch_logs:
            return
        checkpoint.set_model(joint)
        checkpoint.set_params(member_logs.params)
        checkpoint.on_train_begin()
        epoch = max(1, best_epochs) - 1
        checkpoint.on_epoch_end(epoch, dict(member_logs.epoch_logs[epoch]))
        checkpoint.on_train_end()

    def _fit_transfer(self, members, config, transforms, callbacks):
        """Transfer members train one by one with the fine-tuning recipe, fold by fold.

        Returns the first member's `refit_arguments()` (what the refit replays).
        """
        pipeline = self._pipeline(config, transforms)
        judging = self._pipeline(config, transforms, augment_images=False)
        first = None
        for index, member in enumerate(members):
            train, validation = self._member_data(index, pipeline, judging)
            # Only the first member reports and checkpoints; the others train quietly.
            history = self._fine_tune(
                member, train, validation, callbacks if index == 0 else [], config
            )
            first = first or history.refit_arguments()
        return first

    def _member_data(self, index, pipeline, judging):
        if self.evidence.num_folds == 1:
            return (
                self.evidence.training_data(pipeline),
                self.evidence.judging_data(judging),
            )
        train = self.evidence.training_data(pipeline).map(
            lambda images, labels, weights: (images, labels[index], weights[index])
        )
        validation = self.evidence.judging_data(judging).map(
            lambda images, labels, weights: (images, labels[index], weights[index])
        )
        return train, validation

    def _predict_judged(self, joint, config, transforms):
        images = self.evidence.judged_images(self._pipeline(config, transforms, False))
        predictions = _as_list(joint.predict(images, verbose=0))
        return evaluation.to_probabilities(self.evidence.out_of_fold(predictions))

    def _record_epoch_cost(self, member_logs):
        """Steady seconds per epoch and member, and a fit's fixed cost (tracing), measured."""
        times = member_logs.epoch_times
        if len(times) < 2:
            return
        steady = float(np.median(np.diff(times)))
        self._member_epoch_seconds = steady / max(1, self.evidence.num_members)
        self._overhead_seconds = max(0.0, times[0] - steady)

    # Data and models ----------------------------------------------------------------------

    def guarded_augment(self):
        """The default augmentation without the steps the guard found to change classes."""
        if self._guarded is None and self._looking_ahead:
            raise _NotYetKnown()  # `_expect` does not run the guard ahead of the ladder
        if self._guarded is None:
            augment = Augment(**DEFAULT_AUGMENT, value_range=self.facts.value_range, seed=self.seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                checked = augment.checked(self.train, num_images=min(1000, self.facts.num_train))
            kept = {
                name: getattr(checked, name)
                for name in DEFAULT_AUGMENT
                if getattr(checked, name) not in (0, 0.0, False, None)
            }
            self._guarded = (kept, [name for name in DEFAULT_AUGMENT if name not in kept])
        return self._guarded

    def _transforms(self, config):
        transforms = []
        if config.image_size:
            transforms.append(
                Resize(
                    config.image_size, config.image_size, mode="pad",
                    value_range=self.facts.value_range,
                )
            )  # fmt: skip
        # A transform after another kit transform reads its [0, 1] output.
        value_range = (0.0, 1.0) if transforms else self.facts.value_range
        if config.color == "lab":
            transforms.append(ToLab(output_range="unit", value_range=value_range))
        elif config.color == "hsv":
            transforms.append(ToHSV(value_range=value_range))
        return transforms

    def _pipeline(self, config, transforms, augment_images=True, normalize_inputs=True):
        """Maps the images of `(images, ...)` elements (or bare images): transforms, then
        augmentation, ending in the user's value range as the baseline's inputs.

        Kit transforms output floats in [0, 1]; mapping them back to the data's own value
        range keeps the model's input scale, so a trick is judged on what it changes, not
        on a rescaling the model was never tuned for. With `config.normalize` the images
        are then standardized per channel (the "input scale" rung).
        """
        augment = None
        if augment_images and config.augment:
            augment = Augment(
                **config.augment,
                value_range=(0.0, 1.0) if transforms else self.facts.value_range,
                seed=self.seed,
            )
        low, high = self.facts.value_range

        def rescale(images, *rest):
            images = tf.cast(images, tf.float32) * (high - low) + low
            return (images, *rest) if rest else images

        def pipeline(data):
            for transform in transforms:
                data = data.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
            if augment is not None:
                data = data.apply(augment)
            if transforms or augment is not None:
                data = data.map(rescale, num_parallel_calls=tf.data.AUTOTUNE)
            if normalize_inputs and config.normalize:
                standardize = self._standardizer(config, transforms)
                data = data.map(standardize, num_parallel_calls=tf.data.AUTOTUNE)
            return data

        return pipeline

    def _standardizer(self, config, transforms):
        """`(images, *rest) -> ((images - mean) / std, *rest)`, per channel, as Keras'
        `Normalization` layer adapted on the labelled images (through `transforms`)."""
        mean, variance = self._input_statistics(config, transforms)
        layer = keras.layers.Normalization(mean=mean, variance=variance)

        def standardize(images, *rest):
            images = layer(tf.cast(images, tf.float32))
            return (images, *rest) if rest else images

        return standardize

    def _input_statistics(self, config, transforms):
        key = (config.image_size, config.color)
        if key not in self._statistics:
            plain = self._pipeline(config, transforms, augment_images=False, normalize_inputs=False)
            total, squares, count = 0.0, 0.0, 0
            for images in self.evidence.judged_images(plain):
                values = tf.reshape(tf.cast(images, tf.float64), [-1, images.shape[-1]])
                total += tf.reduce_sum(values, 0).numpy()
                squares += tf.reduce_sum(values**2, 0).numpy()
                count += int(values.shape[0])
            mean = total / count
            variance = np.maximum(squares / count - mean**2, 1e-12)
            self._statistics[key] = (mean.astype("float32"), variance.astype("float32"))
        return self._statistics[key]

    def _deployable(self, best):
        """The best members behind their input transforms (and TTA): one model, raw images in."""
        low, high = self.facts.value_range
        inputs = keras.Input(self.facts.image_shape, name="images")
        x = inputs
        for transform in best.transforms:
            x = transform(x)
        if best.transforms:
            x = keras.layers.Rescaling(high - low, offset=low, name="to_value_range")(x)
        views = [x]
        if best.tta is not None:
            views = TestTimeAugmentation(best.tta, TTA_COPIES, seed=self.seed, name="tta")(x)
        trained = members = self._materialize(best)
        if len(members) > 1 or best.tta is not None or best.transforms or best.config.normalize:
            members = [
                members_lib.renamed(member, f"member_{index}")
                for index, member in enumerate(members)
            ]
        plain = not best.transforms and not best.config.normalize
        if len(members) == 1 and len(views) == 1 and plain:
            return members[0]
        if best.config.normalize:
            mean, variance = self._input_statistics(best.config, best.transforms)
            normalization = keras.layers.Normalization(
                mean=mean, variance=variance, name="standardize"
            )
            views = [normalization(view) for view in views]
        outputs = [member(view) for view in views for member in members]
        output = outputs[0] if len(outputs) == 1 else keras.layers.Average(name="average")(outputs)
        name = self._member_name + ("_ensemble" if len(members) > 1 else "")
        model = keras.Model(inputs, output, name=name)
        first = trained[0]
        if getattr(first, "optimizer", None) is not None:  # ready for `evaluate` and more `fit`
            model.compile(optimizer=members_lib.fresh_optimizer(first), loss=first.loss, metrics=["accuracy"])
        return model

    def _make_ready(self, model):
        """Traces `model.predict` on validation images, inside the budget.

        The first `predict` of a model traces it: seconds for an ensemble or TTA (every
        member is traced), which would otherwise fall on your first call, outside the
        budget. Two batch sizes in one call make Keras trace the graph for any batch size
        (its `reduce_retracing`), which your batches then reuse.
        """
        images = elements.take_images(self.validation, 3, _OWNER)
        model.predict(images, batch_size=max(1, int(images.shape[0]) - 1), verbose=0)

    def _fresh_members(self, config, num_members, seed_offset, initialize=True):
        """`(joint, members)`: newly initialised members of `config`, trained together.

        A new model costs a traced graph (seconds on small data). Steps that share an
        architecture reuse the last one's joint model: its members get the weights of
        freshly built (seeded) models and its optimizer its initial state, so training is
        the same as on new models, without tracing again. `initialize=False` (the caller
        sets every weight, e.g. the chief from a worker's result) returns the reused
        models as they are, without building fresh ones.
        """
        key = (self._input_shape(config), config.network, config.depth, num_members)
        cached = None if config.transfer else self._joint_cache.get(key)
        if cached is not None and not initialize:
            return cached[0], cached[1]
        keras.utils.set_random_seed(self.seed + seed_offset)
        fresh = [self._model(config) for _ in range(num_members)]
        self._member_name = fresh[0].name
        if cached is None:
            joint = members_lib.joint_model(fresh, self._input_shape(config))
            if config.transfer:  # members train one by one; the recipe compiles its phases
                return joint, fresh
            members_lib.compile_joint(joint, fresh)
            joint.optimizer.build(joint.trainable_variables)
            initial = [variable.numpy() for variable in joint.optimizer.variables]
            self._joint_cache[key] = (joint, fresh, initial)
            return joint, fresh
        joint, members, initial = cached
        for member, new in zip(members, fresh):
            member.set_weights(new.get_weights())
            members_lib.copy_random_state(new, member)  # dropout draws as a new model's
        for variable, value in zip(joint.optimizer.variables, initial):
            variable.assign(value)
        return joint, members

    def _materialize(self, outcome):
        """New Keras models holding the weights of `outcome`'s members."""
        keras.utils.set_random_seed(self.seed)
        models = []
        for weights in outcome.members:
            model = self._model(outcome.config)
            model.set_weights(weights)
            models.append(model)
        return models

    def _input_shape(self, config):
        height, width, channels = self.facts.image_shape
        if config.image_size:
            height = width = config.image_size
        return (height, width, channels)

    def _hparams(self, config):
        """`config.hparams()` with the values in effect, not 0 for "as the baseline": the
        build function's default depth and the size the images are trained at."""
        values = config.hparams()
        build = None if config.transfer else self.build_function(config)
        values["depth"] = config.depth or default_depth(build) or 0
        values["image_size"] = int(max(self._input_shape(config)[:2]))
        return values

    def build_function(self, config):
        """The build function of `config`'s network: yours, `reference_cnn` or None."""
        return reference_cnn if config.network == "reference" else self.build

    def _model(self, config):
        if config.transfer:
            from keras_accuracy_kit.transfer.classifier import classifier

            return classifier(
                self.backbone,
                num_classes=self.facts.num_classes,
                input_shape=self._input_shape(config),
                value_range=self.facts.value_range,
            )
        build = self.build_function(config)
        if build is not None:
            arguments = {"depth": config.depth} if config.depth else {}
            model = build(self._input_shape(config), self.facts.num_classes, **arguments)
            if not isinstance(model, keras.Model):
                raise ValueError(
                    f"{_OWNER}: the build function must return a keras.Model. Received: "
                    f"{type(model).__name__} from {getattr(build, '__name__', build)}."
                )
        else:
            model = keras.models.clone_model(self.model)
        source = self.model if self.model is not None and not config.network else model
        if config.network != "reference" and getattr(source, "compiled", False) and (
            source.optimizer is not None
        ):
            compile_config = source.get_compile_config()
            metrics = compile_config.get("metrics") or []
            metrics = list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
            if not any("accuracy" in str(metric) for metric in metrics):
                metrics.append("accuracy")  # the ladder compares `val_accuracy`
            model.compile_from_config({**compile_config, "metrics": metrics})
        else:
            loss = (
                "sparse_categorical_crossentropy"
                if self.facts.sparse_labels
                else "categorical_crossentropy"
            )
            model.compile(keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
        return model

    def _fine_tune(self, model, train, validation, callbacks, config, refit_arguments=None):
        """`kit.transfer.fine_tune` with its own defaults: the head to convergence on the
        frozen backbone (on cached features unless the images are augmented), then the
        backbone unfrozen and rolled back when validation does not improve. Under
        cross-validation the data carries per-image weights (held-out images weigh 0),
        so accuracy is a weighted metric."""
        from keras_accuracy_kit.transfer.fine_tune import fine_tune

        weighted = self.evidence.num_folds > 1
        return fine_tune(
            model,
            train,
            validation,
            loss="sparse_categorical_crossentropy"
            if self.facts.sparse_labels
            else "categorical_crossentropy",
            metrics=() if weighted else ("accuracy",),
            weighted_metrics=["accuracy"] if weighted else None,
            cache=False if config.augment else "auto",
            callbacks=callbacks,
            verbose=self._fit_verbose(),
            seed=self.seed,
            **(refit_arguments or {}),
        )

    def _skip(self, name, change, note):
        self.steps.append(Step(name, change, note=note))
        self._announce(f"  {name}: skipped ({note})")

    def _epoch_status(self):
        """The callback that shows each epoch on the live line (none without one)."""
        if self.progress is None or not getattr(self.progress, "active", False):
            return []
        return [EpochStatus(self.progress)]

    def _fit_verbose(self):
        return 2 if self.verbose >= 2 else 0

    def _announce(self, message):
        if self.verbose:
            announce(message, __name__)


class _StepReport(AccuracyReport):
    """The step's `AccuracyReport`, evaluated on the judged (out-of-fold) predictions.

    `fit` ends before the ladder has the members' judged predictions, so the ladder
    finishes the report itself with `finish(...)`.
    """

    def on_train_end(self, logs=None):
        pass

    def finish(self, evidence, probabilities, pipeline):
        self._judged = (evidence, probabilities, pipeline)
        self.validation_data = "judged images"  # not None: the report evaluates `_batches`
        if self.decision is None:
            self.record_decision(None)  # pending: the tab shows it until `record`
        AccuracyReport.on_train_end(self)

    def record(self, step):
        """Writes the ladder's decision on `step` into its run: the tab then shows the
        numbers of `ImproveResult.table()` (accuracy, gain over the best so far, interval,
        rule, kept)."""
        self.record_decision(
            bool(step.kept), value=step.val_accuracy, gain=step.delta, low=step.low,
            high=step.high, rule=step.rule, note=step.note,
        )  # fmt: skip

    def _num_outputs(self):
        judged = getattr(self, "_judged", None)
        return None if judged is None else max(judged[1].shape[-1], 2)

    def _check_class_names(self):
        pass  # the members are checked by the ladder's data facts

    def _batches(self):
        """Every judged image's label and probabilities; only the `num_worst` images the
        report can show (lowest true-class probability, the first of equals) go through
        the step's pipeline: on the chief's path between two steps, the others cost
        seconds and are never looked at."""
        evidence, probabilities, pipeline = self._judged
        labels = evidence.sparse_labels
        truth = evaluation.to_probabilities(probabilities)[np.arange(len(labels)), labels]
        shown = np.sort(np.argsort(truth, kind="stable")[: self.num_worst])
        images = evidence.judged_images_at(pipeline, shown)
        yield images, labels[shown], probabilities[shown]
        others = np.setdiff1d(np.arange(len(labels)), shown)
        if len(others):  # never among the worst: their images are never read
            blank = np.broadcast_to(np.zeros((), images.dtype), (len(others),) + images.shape[1:])
            yield blank, labels[others], probabilities[others]


class _NotYetKnown(Exception):
    """A look-ahead (`_expect`) met a candidate that needs work not done yet."""


def _best_epoch(epoch_logs):
    """The epoch `ProgressiveEpochs` keeps (lowest `val_loss`), counted from 1."""
    values = [logs.get("val_loss") for logs in epoch_logs]
    values = [np.inf if v is None or not np.isfinite(v) else float(v) for v in values]
    return int(np.argmin(values)) + 1 if values else 0


def _repeated(data, batches):
    """`data` repeated when its batches per epoch are known: fitted with `steps_per_epoch`
    (and `validation_steps`), Keras keeps one iterator for the whole fit
    (`Evidence.batches_per_epoch`).

    Without tf.data's autotuning: destroying the iterator of a repeated pipeline that
    autotunes took 3.5-4.7 s after the last epoch of 3 `fit`s in 5 (measured on 2 cores;
    `benchmarks/bench_repeated_fit.py`), more than a small step's training. Without it,
    `AUTOTUNE` parallelism is the number of cores.
    """
    if batches is None:
        return data
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.repeat().with_options(options)


def _as_list(predictions):
    return list(predictions) if isinstance(predictions, (list, tuple)) else [predictions]


def _chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def _check_arguments(model, epochs, batch_size, min_delta, refit, folds, ensemble, tta):
    if not (isinstance(model, keras.Model) or callable(model)):
        raise ValueError(
            f"{_OWNER}: `model` must be a keras.Model or a build function "
            f"`build(input_shape, num_classes)`. Received: model={model!r}."
        )
    checks.check_choice(_OWNER, "refit", refit, ("auto", True, False))
    return (
        checks.check_int(_OWNER, "epochs", epochs, example=60),
        checks.check_int(_OWNER, "batch_size", batch_size, example=32),
        checks.check_number(
            _OWNER, "min_delta", min_delta, low=0, allow=("auto",),
            fix="E.g. min_delta='auto' (a gain beyond noise) or min_delta=0.01.",
        ),
        checks.check_int(
            _OWNER, "folds", folds, allow=("auto",), example=5,
            expectation="1 (your validation split) or an int >= 2 (cross-validation)",
        ),
        checks.check_bool(_OWNER, "ensemble", ensemble, error=ValueError),
        checks.check_bool(_OWNER, "tta", tta, error=ValueError),
    )  # fmt: skip


def _check_tricks(tricks):
    if tricks == "auto":
        return [trick for trick in TRICKS if trick not in OPT_IN]
    if isinstance(tricks, str) or not isinstance(tricks, (list, tuple)) or not all(
        trick in TRICKS for trick in tricks
    ):
        raise ValueError(
            f"{_OWNER}: `tricks` must be 'auto' or a list of {list(TRICKS)}. Received: "
            f"tricks={tricks!r}."
        )
    return [trick for trick in TRICKS if trick in tricks]
