"""Every touch of a Keras or keras-tuner private, in one place.

The kit uses public APIs wherever they exist. Where it cannot (the `training` flag of the
enclosing Keras call, Keras' progress printer, keras-tuner's gRPC oracle servicer for a
chief that exits promptly, the stray print of keras-tuner's `Parent.to_proto`), the private
access lives here, behind a function, falling back to a safe answer where it can when a
new release moves the private.
"""

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
