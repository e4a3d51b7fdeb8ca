"""FineTuneHistory: the `History` of both phases of `kit.transfer.fine_tune`, and its decisions."""

import keras


class FineTuneHistory(keras.callbacks.History):
    """A Keras `History` over both phases of `kit.transfer.fine_tune`, plus its decisions.

    `history` and `epoch` cover the head phase and the fine-tuning phase, numbered across
    them, as one `fit` would. The attributes say what the recipe did, so a caller can
    report it or repeat it: a refit on train + validation, which has no held-out data to
    decide with, passes `**history.refit_arguments()` to `fine_tune` to replay the decisions.

    Attributes:
        head_epochs: Int. Epochs the head phase ran.
        cached: Bool. Whether the head phase trained on cached backbone features.
        floor: Float or None. The monitored validation value of the trained head on the
            frozen backbone: what fine-tuning had to beat. None without validation data.
        fine_tune_epochs: Int. Epochs the fine-tuning phase ran (0: not tried).
        best_fine_tune_epochs: Int. Fine-tuning epochs kept: the best epoch's count, or 0
            when the recipe rolled back to the head.
        best_value: Float or None. The monitored validation value of the returned model.
        rolled_back: Bool. Whether fine-tuning did not beat the floor and the model went
            back to the trained head on the frozen backbone.
        monitor: String. The validation log key the decisions read.
    """

    def __init__(self):
        super().__init__()
        self.history, self.epoch = {}, []
        self.head_epochs = 0
        self.cached = False
        self.floor = None
        self.fine_tune_epochs = 0
        self.best_fine_tune_epochs = 0
        self.best_value = None
        self.rolled_back = False
        self.monitor = None

    def extend(self, history, model):
        """Appends the epochs of one `fit`'s `History`; returns how many it ran."""
        self.epoch.extend(history.epoch)
        for key, values in history.history.items():
            self.history.setdefault(key, []).extend(values)
        self.params = history.params
        self.set_model(model)
        return len(history.epoch)

    def refit_arguments(self):
        """`fine_tune` arguments that replay this run's decisions without validation data.

        The head phase needs no decision (it trains until its training loss converges);
        the fine-tuning phase runs for the epochs that were kept here, or not at all.

        Returns:
            A dict `{"fine_tune_epochs": best_fine_tune_epochs}`.
        """
        return {"fine_tune_epochs": self.best_fine_tune_epochs}
