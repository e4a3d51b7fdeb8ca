"""Every touch of a Keras or keras-tuner private, in one place.

The kit uses public APIs wherever they exist. Where it cannot (the `training` flag of the
enclosing Keras call, Keras' progress printer, keras-tuner's gRPC oracle servicer for a
chief that exits promptly, an oracle's records directory and retry queue, a tuner's trial
step, the stray print of keras-tuner's `Parent.to_proto`, the nested layers of a model, a
layer's own variables and their tracking, an optimizer's stored rate, the `safe_mode` of a
load under way), the private access lives here, behind a function, falling back to a safe
answer where it can when a new release moves the private.
"""

import contextlib
import logging


def call_context_training():
    """`training` of the enclosing Keras call (e.g. a model called with `training=False`).

    Returns None when there is no enclosing call, or when this Keras has no such private.
    """
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # a Keras without this private module: treat as unknown
        return None
    context = global_state.get_global_attribute("current_call_ctx")
    return getattr(context, "training", None)


def print_message(message, logger_name=__name__):
    """Prints `message` like Keras' callbacks (honouring its interactive-logging switch).

    Falls back to `logging` (logger `logger_name`, level INFO) if Keras moves its helper.
    """
    try:
        from keras.src.utils.io_utils import print_msg
    except ImportError:  # Keras moved it: fall back to logging.
        logging.getLogger(logger_name).info(message)
        return
    print_msg(message)


def add_oracle_servicer(oracle, server):
    """Registers keras-tuner's gRPC `OracleServicer` for `oracle` on a `grpc.server`.

    Returns:
        The servicer (its `stop_triggered` tells when a worker was told to stop).
    """
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    return servicer


def set_oracle_directory(oracle, directory, project_name):
    """Gives a keras-tuner `Oracle` used without a tuner its records' directory (what a
    tuner's constructor does through the oracle's private `_set_project_dir`)."""
    oracle._set_project_dir(directory, project_name)


def clear_oracle_retries(oracle):
    """Drops the trials a keras-tuner `Oracle` queued for a retry (its private
    `_retry_queue`), so a stopping oracle hands out nothing more."""
    retries = getattr(oracle, "_retry_queue", None)
    if retries is not None:
        retries.clear()


def run_and_update_trial(tuner, trial):
    """Runs `trial` on a keras-tuner tuner and reports it to the oracle, with keras-tuner's
    own error handling and retries (the private step of `BaseTuner.search`'s loop)."""
    tuner._try_run_and_update_trial(trial)


def chief_may_exit(servicer, oracle):
    """Whether a chief may stop serving, as keras-tuner's own chief decides: a worker was
    told to stop, and no trial is running and no worker is waiting."""
    from keras_tuner.src.distribute import oracle_chief

    return bool(servicer.stop_triggered and oracle_chief.exit_chief(oracle))


def quiet_keras_tuner():
    """Removes the debug `print` keras-tuner 1.4 left in `Parent.to_proto`.

    A conditional hyperparameter (`hp.conditional_scope`, as `DepthSearch` uses) is sent
    between chief and workers as a proto, and keras-tuner's `Parent.to_proto` prints its
    first value on the way (the stray `1`, `2` lines of a distributed search). The
    method is replaced by the same conversion without the print; a keras-tuner whose
    method has no print (or that moved it) is left alone.
    """
    try:
        from keras_tuner.src.engine import conditions
    except ImportError:  # a keras-tuner that moved it: nothing to patch
        return

    parent = conditions.Parent
    if getattr(parent.to_proto, "_kit_quiet", False):
        return
    code = parent.to_proto.__code__
    if "print" not in code.co_names:  # a keras-tuner without the print: nothing to do
        return
    parent.to_proto = _parent_to_proto


def _parent_to_proto(self):
    from keras_tuner.src import protos

    proto = protos.get_proto()
    first = self.values[0]
    if isinstance(first, str):
        field = "string_value"
    elif isinstance(first, bool):
        field = "boolean_value"
    elif isinstance(first, int):
        field = "int_value"
    else:
        field = "float_value"
    values = [proto.Value(**{field: value}) for value in self.values]
    return proto.Condition(parent=proto.Condition.Parent(name=self.name, values=values))


_parent_to_proto._kit_quiet = True


# -- layers, models and optimizers (Keras 3 has no public equivalent) ---------------------


def flatten_layers(model, include_self=True):
    """Every layer of `model`, nested ones included, as Keras' `Layer._flatten_layers`.

    `model.layers` lists only the top level; a backbone inside a `Sequential` inside a
    functional model is found only this way.
    """
    return list(model._flatten_layers(include_self=include_self))


def num_calls(layer):
    """How many times `layer` was called on symbolic inputs (its inbound nodes)."""
    return len(layer._inbound_nodes)


def own_variables(layer):
    """`(trainable, non_trainable)`: the variables `layer` tracks itself, without those of
    its sublayers (what `layer.trainable_weights` adds them to)."""
    return list(layer._trainable_variables), list(layer._non_trainable_variables)


def track_variable(layer, variable):
    """Makes `layer` track `variable` as its own (call inside `unlocked_tracking`)."""
    layer._track_variable(variable)


def untrack_variable(layer, variable):
    """Makes `layer` forget `variable` (call inside `unlocked_tracking` once built)."""
    layer._untrack_variable(variable)


@contextlib.contextmanager
def unlocked_tracking(layer):
    """Lets `layer` track new variables after Keras locked its state (a built layer, or
    one rebuilt by `keras.saving.load_model`), and locks it again afterwards."""
    was_locked = layer._tracker.locked
    layer._tracker.unlock()
    try:
        yield
    finally:
        if was_locked:
            layer._tracker.lock()


def stored_learning_rate(optimizer):
    """The learning rate as `optimizer` stores it: a `keras.Variable` for a float rate,
    the `LearningRateSchedule` or callable otherwise (`optimizer.learning_rate` reads the
    current value of either)."""
    return optimizer._learning_rate


def set_stored_learning_rate(optimizer, learning_rate):
    """Stores `learning_rate` as is, as `Optimizer.__init__` does (for a subclass whose
    `learning_rate` setter cannot run yet)."""
    optimizer._learning_rate = learning_rate


def optimizer_own_variables(optimizer):
    """The variables `optimizer` itself tracks (its iteration count and rate, no slots
    of a wrapped optimizer)."""
    return list(optimizer._variables)


def in_safe_mode():
    """Keras' `safe_mode` of the `keras.saving.load_model` under way: True, False, or None
    outside a load (or in a Keras without the private flag)."""
    try:
        from keras.src.saving import serialization_lib
    except ImportError:  # a Keras without it: no flag
        return None
    safe_mode = serialization_lib.in_safe_mode()
    return None if safe_mode is None else bool(safe_mode)
