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
import dataclasses
import logging
import os
import socket
import time

from keras_accuracy_kit._core import keras_compat

# The conventions shared with `kit.improve`'s chief and workers (address file, waits,
# keras-tuner's variables) live in `_core`, below both.
from keras_accuracy_kit._core.tuner_cluster import (  # noqa: F401
    ADDRESS_FILE,
    ENVIRONMENT,
    ROLES,
    address_path,
    publish_address,
    read_address,
    check_settings,
    role_from_environment,
    serve,
    tuner_environment,
    wait_for_chief,
)

logger = logging.getLogger("keras_accuracy_kit.search")

_OWNER = "kit.search.Distributed"


@dataclasses.dataclass(frozen=True)
class Distributed:
    """How one process takes part in a distributed search: keras-tuner's chief/worker mode.

    Run one process with `Distributed("chief")` and any number with
    `Distributed("worker")`, all passing the same `directory` to `kit.search.tune`. The
    chief binds `oracle_ip:oracle_port` (0 picks a free port), publishes the address in the
    project directory and serves the oracle until the workers are done; workers read it
    (or use `oracle_ip`/`oracle_port` when `oracle_port` is non-zero) and fail with a
    TimeoutError if no chief answers within `timeout` seconds. Setting keras-tuner's
    variables `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`
    yourself selects the role and address the same way (`Distributed.from_environment()`).

    Args:
        role: `"chief"` or `"worker"`.
        oracle_ip: String. The chief's address. Defaults to `"127.0.0.1"`.
        oracle_port: Int. The chief's port; 0 lets the chief pick a free one and the
            workers read it from the directory. Defaults to `0`.
        tuner_id: Optional string. A worker's id (without "chief"). Defaults to
            `"worker-<host>-<pid>"` for a worker, `"chief"` for the chief.
        timeout: Positive number. Seconds a worker waits for the chief and the chief for
            a first worker. Defaults to `120`.

    Example:

    >>> Distributed("worker", tuner_id="worker-0").tuner_id
    'worker-0'
    >>> Distributed("chief").tuner_id
    'chief'
    """

    role: str
    oracle_ip: str = "127.0.0.1"
    oracle_port: int = 0
    tuner_id: str = None
    timeout: float = 120.0

    def __post_init__(self):
        port = check_settings(
            _OWNER, self.role, self.oracle_ip, self.oracle_port, self.tuner_id, self.timeout
        )
        object.__setattr__(self, "oracle_port", port)
        tuner_id = "chief" if self.role == "chief" else self.tuner_id
        tuner_id = tuner_id or f"worker-{socket.gethostname()}-{os.getpid()}"
        object.__setattr__(self, "tuner_id", tuner_id)

    @classmethod
    def from_environment(cls, timeout=120.0):
        """The settings keras-tuner's variables select, or None when they are not set."""
        role = role_from_environment()
        if role is None:
            return None
        return cls(
            role,
            oracle_ip=os.environ["KERASTUNER_ORACLE_IP"],
            oracle_port=int(os.environ.get("KERASTUNER_ORACLE_PORT", "0")),
            tuner_id=os.environ.get("KERASTUNER_TUNER_ID") if role == "worker" else None,
            timeout=timeout,
        )

    def environment(self, port=None):
        """keras-tuner's variables for this process, set for the duration of a block."""
        return tuner_environment(
            self.tuner_id, self.oracle_ip, self.oracle_port if port is None else port
        )


#: The keyword arguments `tune` took before `Distributed` (still accepted).
LEGACY_ARGUMENTS = ("role", "oracle_ip", "oracle_port", "tuner_id", "timeout")


def from_legacy_arguments(owner, distributed, legacy):
    """The `Distributed` of `tune(distributed=..., **legacy)`: the object, or one built from
    the old loose keyword arguments (`role=`, `oracle_ip=`, ...), or the environment's."""
    unknown = sorted(set(legacy) - set(LEGACY_ARGUMENTS))
    if unknown:
        raise TypeError(f"{owner}() got an unexpected keyword argument {unknown[0]!r}")
    if distributed is not None and not isinstance(distributed, Distributed):
        raise TypeError(
            f"{owner}: `distributed` must be None or a `kit.search.Distributed`. Received: "
            f"distributed={distributed!r}. E.g. distributed=kit.search.Distributed('worker')."
        )
    given = {name: value for name, value in legacy.items() if value is not None}
    if distributed is not None and given:
        raise ValueError(
            f"{owner}: `distributed` and {sorted(given)} must not both be given. Received: "
            f"both. Put them in the settings: kit.search.Distributed(role=..., oracle_ip=..., "
            "oracle_port=..., tuner_id=..., timeout=...)."
        )
    if distributed is not None:
        return distributed
    timeout = given.pop("timeout", 120.0)
    role = given.pop("role", None)
    if role is None:
        return Distributed.from_environment(timeout=timeout)
    return Distributed(role, timeout=timeout, **given)


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
    server, servicer, bound = serve(oracle, ip, port, project_dir, "kit.search.tune")
    logger.info("chief: oracle serving on %s:%d (published in %s)", ip, bound, project_dir)
    started = time.monotonic()
    try:
        while not keras_compat.chief_may_exit(servicer, oracle):
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


# Patches keras-tuner's private `Parent.to_proto` (its stray print): in `_core.keras_compat`.
quiet_keras_tuner = keras_compat.quiet_keras_tuner
