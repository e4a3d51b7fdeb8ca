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
from concurrent import futures

from keras_accuracy_kit._core import atomic, checks, keras_compat

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


def check_settings(owner, role, oracle_ip, oracle_port, tuner_id, timeout, allow_none=False):
    """Checks the settings of a process in chief/worker mode; returns `oracle_port` as an
    int (or None). With `allow_none`, a None address means "not given" (filled in later
    from keras-tuner's variables)."""
    checks.check_choice(owner, "role", role, ROLES)
    if not (allow_none and oracle_ip is None) and (not isinstance(oracle_ip, str) or not oracle_ip):
        raise ValueError(
            f"{owner}: `oracle_ip` must be a host name or address. Received: "
            f"oracle_ip={oracle_ip!r}. E.g. oracle_ip='127.0.0.1'."
        )
    if not (allow_none and oracle_port is None):
        oracle_port = checks.check_int(owner, "oracle_port", oracle_port, minimum=0, example=0)
        if oracle_port > 65535:
            raise ValueError(
                f"{owner}: `oracle_port` must be a port, at most 65535. Received: "
                f"oracle_port={oracle_port!r}. Pass 0 to let the chief pick a free port."
            )
    checks.check_number(
        owner, "timeout", timeout, low=0, open_low=True,
        expectation="a positive number of seconds", fix="E.g. timeout=120.",
    )  # fmt: skip
    if role == "worker" and tuner_id not in (None, ""):  # not given: a default id
        check_worker_id(owner, tuner_id)
    return oracle_port


def check_worker_id(owner, tuner_id, source=""):
    """Refuses a worker id keras-tuner would take for the chief's."""
    if not isinstance(tuner_id, str) or not tuner_id or "chief" in tuner_id:
        raise ValueError(
            f"{owner}: `tuner_id` of a worker must not contain 'chief' and must be a "
            "non-empty string. Received: "
            f"tuner_id={tuner_id!r}{source}. keras-tuner treats such ids as the chief."
        )
    return tuner_id


def serve(oracle, ip, port, directory, owner, max_workers=1):
    """Serves `oracle` with keras-tuner's own servicer on `ip:port` (0: a free port), in
    a gRPC server's threads, and publishes the bound address in `directory`.

    Returns:
        `(server, servicer, port)`: the started `grpc.Server` (stop it when done), the
        servicer (`keras_compat.chief_may_exit` reads it) and the bound port.
    """
    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    servicer = keras_compat.add_oracle_servicer(oracle, server)
    bound = server.add_insecure_port(f"{ip}:{port}")
    if not bound:
        raise ValueError(
            f"{owner}: `oracle_port` must be free on {ip}. Received: oracle_ip={ip!r}, "
            f"oracle_port={port!r}. Pass oracle_port=0 to pick a free port."
        )
    server.start()
    publish_address(directory, ip, bound)
    return server, servicer, bound


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
