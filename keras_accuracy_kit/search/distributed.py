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
import json
import logging
import os
import time
from concurrent import futures

from keras_accuracy_kit._core import atomic

#: The file in the project directory where the chief publishes its address.
ADDRESS_FILE = "oracle_address.json"
#: Roles of `kit.search.tune(..., role=...)`.
ROLES = ("chief", "worker")
ENVIRONMENT = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")

logger = logging.getLogger("keras_accuracy_kit.search")


@contextlib.contextmanager
def tuner_environment(tuner_id, ip, port):
    """Sets keras-tuner's three variables for the duration of the block, then restores them."""
    saved = {name: os.environ.get(name) for name in ENVIRONMENT}
    os.environ.update(
        KERASTUNER_TUNER_ID=str(tuner_id),
        KERASTUNER_ORACLE_IP=str(ip),
        KERASTUNER_ORACLE_PORT=str(port),
    )
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def role_from_environment():
    """`"chief"`/`"worker"` when keras-tuner's variables select distributed mode, else None."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return None
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def address_path(project_dir):
    return os.path.join(project_dir, ADDRESS_FILE)


def publish_address(project_dir, ip, port):
    """Writes `{"ip", "port", "pid"}` atomically where workers look for the chief."""
    payload = json.dumps({"ip": ip, "port": int(port), "pid": os.getpid()}).encode()
    atomic.atomic_write_bytes(address_path(project_dir), payload)


def read_address(project_dir, timeout):
    """Waits up to `timeout` seconds for the chief's address file; returns `(ip, port)`."""
    path = address_path(project_dir)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as stream:
                address = json.load(stream)
            return address["ip"], int(address["port"])
        except (OSError, ValueError, KeyError):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"kit.search.tune: no chief published its address within {timeout:g} s. "
                    f"Received: no readable {path!r}. Start `kak tune --chief` with the same "
                    "`--directory` and `--project-name` first, or pass the chief's address "
                    "with `--oracle-ip`/`--oracle-port` (KERASTUNER_ORACLE_IP/PORT)."
                ) from None
            time.sleep(0.2)


def wait_for_chief(ip, port, timeout):
    """Raises TimeoutError unless the chief's gRPC server answers within `timeout` seconds."""
    import grpc

    channel = grpc.insecure_channel(f"{ip}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise TimeoutError(
            f"kit.search.tune: no chief answered at {ip}:{port} within {timeout:g} s. "
            f"Received: oracle_ip={ip!r}, oracle_port={port!r}. Check that `kak tune "
            "--chief` runs and that this machine can reach that address, or raise "
            "`timeout`."
        ) from None
    finally:
        channel.close()


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
