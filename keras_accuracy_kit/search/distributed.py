"""keras-tuner's own chief/worker mode, with a free port, clear time-outs and a prompt exit.

The protocol is keras-tuner's: the chief serves its `Oracle` through keras-tuner's gRPC
`OracleServicer`, workers reach it through keras-tuner's `OracleClient`, selected by the
environment variables `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and
`KERASTUNER_ORACLE_PORT`. The kit adds what keras-tuner leaves to the user: the chief binds
a free port and publishes it in the shared project directory, workers wait for it for at
most `timeout` seconds, and the chief exits within a second of the last worker instead of
keras-tuner's 20-second polling.
"""

import contextlib
import logging
import os
import time
from concurrent import futures

# The conventions shared with `kit.improve`'s chief and workers (address file, waits,
# keras-tuner's variables) live in `_core`, below both.
from keras_accuracy_kit._core.tuner_cluster import (  # noqa: F401
    ADDRESS_FILE,
    ENVIRONMENT,
    ROLES,
    address_path,
    publish_address,
    read_address,
    role_from_environment,
    tuner_environment,
    wait_for_chief,
)

logger = logging.getLogger("keras_accuracy_kit.search")


def serve_oracle(oracle, ip, port, project_dir, timeout, poll_seconds=0.2):
    """Serves `oracle` with keras-tuner's servicer until the workers are done.

    Binds `ip:port` (port 0 picks a free one), publishes the bound address in
    `project_dir`, and returns once a worker was told to stop and no trial is running
    and no worker is waiting, as keras-tuner's own chief decides.

    Raises:
        TimeoutError: if no worker asks for a trial within `timeout` seconds.

    Returns:
        The port it served on.
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    bound = server.add_insecure_port(f"{ip}:{port}")
    if not bound:
        raise ValueError(
            f"kit.search.tune: `oracle_port` must be free on {ip}. Received: "
            f"oracle_ip={ip!r}, oracle_port={port!r}. Pass oracle_port=0 to pick a free port."
        )
    server.start()
    publish_address(project_dir, ip, bound)
    logger.info("chief: oracle serving on %s:%d (published in %s)", ip, bound, project_dir)
    started = time.monotonic()
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(oracle)):
            if not oracle.trials and not oracle.tuner_ids:
                if time.monotonic() - started > timeout:
                    raise TimeoutError(
                        f"kit.search.tune: no worker asked the chief for a trial within "
                        f"{timeout:g} s. Received: the chief at {ip}:{bound}. Start workers "
                        "with `kak tune --worker` and the same `--directory`, or raise "
                        "`timeout`."
                    )
            time.sleep(poll_seconds)
    finally:
        server.stop(grace=1.0).wait()
        with contextlib.suppress(FileNotFoundError):
            os.remove(address_path(project_dir))
    return bound


def quiet_keras_tuner():
    """Removes the debug `print` keras-tuner 1.4 left in `Parent.to_proto`.

    A conditional hyperparameter (`hp.conditional_scope`, as `DepthSearch` uses) is sent
    between chief and workers as a proto, and keras-tuner's `Parent.to_proto` prints its
    first value on the way (the stray `1`, `2` lines of a distributed search). The
    method is replaced by the same conversion without the print; `keras-tuner` is pinned
    below 1.5 (the `tuner` extra), and a version whose method differs is left alone.
    """
    from keras_tuner.src.engine import conditions

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
