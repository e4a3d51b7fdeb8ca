"""keras-tuner's chief/worker mode: the conventions `kit.search.tune` and `kit.improve` share.

The protocol is keras-tuner's: the chief serves an `Oracle` through keras-tuner's gRPC
`OracleServicer`, workers reach it through keras-tuner's `OracleClient`, selected by the
environment variables `KERASTUNER_TUNER_ID`, `KERASTUNER_ORACLE_IP` and
`KERASTUNER_ORACLE_PORT`. What keras-tuner leaves to the user is here, once: the chief
binds a free port and publishes it in the shared directory (`ADDRESS_FILE`), workers
wait for it for at most `timeout` seconds and then for the chief to answer.

Lives in `_core` because both `search/` and `ladder/` (one tier, not importing each
other) drive keras-tuner's chief and workers.
"""

import contextlib
import json
import os
import time

from keras_accuracy_kit._core import atomic

#: The file in the shared directory where the chief publishes its address.
ADDRESS_FILE = "oracle_address.json"
#: Roles of a process in chief/worker mode.
ROLES = ("chief", "worker")
ENVIRONMENT = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")

_TUNE_HINT = (
    "Start `kak tune --chief` with the same `--directory` and `--project-name` first, or "
    "pass the chief's address with `--oracle-ip`/`--oracle-port` (KERASTUNER_ORACLE_IP/PORT)."
)


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


def address_path(directory):
    return os.path.join(directory, ADDRESS_FILE)


def publish_address(directory, ip, port):
    """Writes `{"ip", "port", "pid"}` atomically where workers look for the chief."""
    payload = json.dumps({"ip": ip, "port": int(port), "pid": os.getpid()}).encode()
    atomic.atomic_write_bytes(address_path(directory), payload)


def read_address(directory, timeout, owner="kit.search.tune", hint=_TUNE_HINT):
    """Waits up to `timeout` seconds for the chief's address file; returns `(ip, port)`.

    Raises:
        TimeoutError: naming `owner` and, as `hint`, how to start the chief.
    """
    path = address_path(directory)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as stream:
                address = json.load(stream)
            return address["ip"], int(address["port"])
        except (OSError, ValueError, KeyError):
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{owner}: no chief published its address within {timeout:g} s. "
                    f"Received: no readable {path!r}. {hint}"
                ) from None
            time.sleep(0.2)


def wait_for_chief(ip, port, timeout, owner="kit.search.tune", command="kak tune"):
    """Raises TimeoutError unless the chief's gRPC server answers within `timeout` seconds."""
    import grpc

    channel = grpc.insecure_channel(f"{ip}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout)
    except grpc.FutureTimeoutError:
        raise TimeoutError(
            f"{owner}: no chief answered at {ip}:{port} within {timeout:g} s. "
            f"Received: oracle_ip={ip!r}, oracle_port={port!r}. Check that `{command} "
            "--chief` runs and that this machine can reach that address, or raise "
            "`timeout`."
        ) from None
    finally:
        channel.close()
