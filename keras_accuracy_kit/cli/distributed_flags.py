"""The chief/worker flags that `kak improve` and `kak tune` share, defined once.

Both commands run keras-tuner's chief/worker mode: one `--chief` and any number of
`--worker` processes with the same `--directory`. What differs is only what the chief and
the workers do (the help of `--chief`, `--worker` and `--directory`) and how long a
process waits by default (`--timeout`). Imports nothing heavy: `kak --help` runs without
TensorFlow.
"""

#: The `argparse` destinations of the shared flags (`--chief`/`--worker` set `role`).
DESTINATIONS = ("role", "directory", "oracle_ip", "oracle_port", "tuner_id", "timeout")

#: Exit status of a command whose chief (or workers) did not answer within `--timeout`.
TIMEOUT_EXIT_STATUS = 3


def add_distributed_flags(
    parser, *, chief_help, worker_help, directory_help, description, timeout_default=None
):
    """Adds `--chief`/`--worker`, `--directory`, `--oracle-ip`, `--oracle-port`,
    `--tuner-id` and `--timeout` to `parser`, in an "across machines" group.

    Args:
        parser: An `argparse.ArgumentParser` (a `kak` subcommand's).
        chief_help: String. What `--chief` does in this command.
        worker_help: String. What `--worker` does in this command.
        directory_help: String. What `--directory` holds in this command.
        description: String. The group's paragraph in `--help`.
        timeout_default: Optional float. `--timeout` when not given, in seconds.
            Defaults to `None` (the library's own default).

    Returns:
        The argument group, for flags of this command alone (`kak improve`'s
        `--heartbeat-timeout`).

    Example:

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="demo")
    >>> _ = add_distributed_flags(parser, chief_help="serve", worker_help="train",
    ...                           directory_help="shared", description="chief/worker")
    >>> args = parser.parse_args(["--worker", "--directory", "d", "--oracle-port", "8000"])
    >>> args.role, args.directory, args.oracle_port, args.timeout
    ('worker', 'd', 8000, None)
    """
    group = parser.add_argument_group("across machines", description)
    role = group.add_mutually_exclusive_group()
    role.add_argument("--chief", dest="role", action="store_const", const="chief",
                      help=chief_help)  # fmt: skip
    role.add_argument("--worker", dest="role", action="store_const", const="worker",
                      help=worker_help)  # fmt: skip
    group.add_argument("--directory", help=directory_help)
    group.add_argument("--oracle-ip", help="chief's address (default 127.0.0.1)")
    group.add_argument("--oracle-port", type=int, help="chief's port (default: a free one)")
    group.add_argument("--tuner-id", help="this worker's id (default worker-<host>-<pid>)")
    group.add_argument(
        "--timeout",
        type=float,
        default=timeout_default,
        help="seconds to wait for the chief/a worker",
    )
    return group
