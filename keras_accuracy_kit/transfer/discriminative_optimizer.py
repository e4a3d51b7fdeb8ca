"""DiscriminativeOptimizer: one optimizer, a lower learning rate for chosen variables."""

import numbers

import keras

from keras_accuracy_kit._core import keras_compat

_OWNER = "DiscriminativeOptimizer"


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class DiscriminativeOptimizer(keras.optimizers.Optimizer):
    """Trains some variables at a multiple of the learning rate ("discriminative" rates).

    Fine-tuning a pretrained backbone at the head's learning rate destroys what it learnt;
    the usual recipe (ULMFiT, fastai, the Keras fine-tuning guide) trains the backbone at a
    fraction of the rate. Keras 3 has no per-layer learning rate, so this wrapper keeps one
    copy of `optimizer` per distinct multiplier, each with its own slots, and sends every
    variable to the copy of its multiplier (1 when unlisted). Setting `learning_rate` (as
    `ReduceLROnPlateau` does) sets every copy, keeping the ratios; reading it gives the
    base rate. `kit.transfer.fine_tune` builds one for you.

    Args:
        optimizer: A `keras.optimizers.Optimizer` (or its name or config) with a float
            learning rate: the base rate and the algorithm.
        lr_multipliers: Dict from a variable's `path` (e.g.
            `"feature_extractor/kernel"`) to the positive factor its rate is multiplied by.
        name: Optional string. Defaults to `"discriminative_optimizer"`.
        **kwargs: Base optimizer arguments (ignored by the inner updates).

    Example:

    ```python
    backbone_paths = {v.path: 0.1 for v in model.get_layer("feature_extractor").weights}
    model.compile(kit.transfer.DiscriminativeOptimizer(keras.optimizers.Adam(1e-3), backbone_paths),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    ```
    """

    def __init__(self, optimizer, lr_multipliers, name=None, **kwargs):
        optimizer = keras.optimizers.get(optimizer)
        base_rate = optimizer.learning_rate
        stored_rate = keras_compat.stored_learning_rate(optimizer)
        if not isinstance(stored_rate, keras.Variable):
            raise ValueError(
                f"{_OWNER}: `optimizer` must have a float learning rate. Received: "
                f"optimizer={type(optimizer).__name__} with learning_rate="
                f"{stored_rate!r}. Pass a float rate; lower it on plateaus "
                "with `kit.callbacks.ReduceLROnPlateau`."
            )
        if not isinstance(lr_multipliers, dict):
            raise ValueError(
                f"{_OWNER}: `lr_multipliers` must be a dict from variable path to factor. "
                f"Received: lr_multipliers={lr_multipliers!r}. E.g. "
                "{v.path: 0.1 for v in backbone.weights}."
            )
        for path, factor in lr_multipliers.items():
            if (
                isinstance(factor, bool)
                or not isinstance(factor, numbers.Real)
                or not factor > 0
                or not isinstance(path, str)
            ):
                raise ValueError(
                    f"{_OWNER}: `lr_multipliers` must map variable paths (strings) to "
                    f"positive factors. Received: {path!r}: {factor!r}. Use e.g. 0.1."
                )
        super().__init__(learning_rate=0.0, name=name or "discriminative_optimizer", **kwargs)
        self.optimizer = optimizer
        self.lr_multipliers = {path: float(factor) for path, factor in lr_multipliers.items()}
        base_config = optimizer.get_config()
        rate = float(keras.ops.convert_to_numpy(base_rate))
        self._groups = {1.0: optimizer}
        for factor in sorted(set(self.lr_multipliers.values()) - {1.0}):
            config = dict(base_config, learning_rate=rate * factor)
            config["name"] = f"{base_config['name']}_x{factor:g}"
            self._groups[factor] = type(optimizer).from_config(config)

    def _factor(self, variable):
        return self.lr_multipliers.get(variable.path, 1.0)

    def _split(self, values, variables):
        groups = {factor: ([], []) for factor in self._groups}
        for value, variable in zip(values, variables):
            chosen = groups[self._factor(variable)]
            chosen[0].append(value)
            chosen[1].append(variable)
        return groups

    def build(self, var_list):
        for factor, (_, variables) in self._split(var_list, var_list).items():
            self._groups[factor].build(variables)
        self.built = True

    @property
    def variables(self):
        own = keras_compat.optimizer_own_variables(self)
        for factor in sorted(self._groups):
            own.extend(self._groups[factor].variables)
        return own

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            raise ValueError(
                f"{_OWNER}: `trainable_variables` must be passed to `apply`. Received: "
                "trainable_variables=None. Call `apply(grads, variables)` or "
                "`apply_gradients(zip(grads, variables))`."
            )
        grads, trainable_variables = list(grads), list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        for factor, (values, variables) in self._split(grads, trainable_variables).items():
            if variables:
                self._groups[factor].apply(values, variables)

    @property
    def iterations(self):
        return self.optimizer.iterations

    @property
    def learning_rate(self):
        return self.optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        # `Optimizer.__init__` sets the wrapper's own (unused) rate before the groups exist.
        if "_groups" not in self.__dict__:
            keras_compat.set_stored_learning_rate(self, learning_rate)
            return
        rate = float(keras.ops.convert_to_numpy(learning_rate))
        for factor, optimizer in self._groups.items():
            optimizer.learning_rate = rate * factor

    def finalize_variable_values(self, var_list):
        for factor, (_, variables) in self._split(var_list, var_list).items():
            if variables:
                self._groups[factor].finalize_variable_values(variables)

    def get_config(self):
        return {
            "name": self.name,
            "optimizer": keras.optimizers.serialize(self.optimizer),
            "lr_multipliers": dict(self.lr_multipliers),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer"] = keras.optimizers.deserialize(
            config["optimizer"], custom_objects=custom_objects
        )
        return cls(**config)
