"""Which process may write files under `tf.distribute`: only the chief."""

import json
import os


def is_chief(strategy=None):
    """Whether this process is the chief of a (multi-worker) `tf.distribute` cluster.

    The chief is the `chief` task if the cluster has one, else worker 0. A single process
    (no cluster, or `MirroredStrategy` on one machine) is always the chief.

    Args:
        strategy: Optional `tf.distribute.Strategy`, e.g. `model.distribute_strategy`.
            Without one, `TF_CONFIG` is read.

    Returns:
        Bool.

    Example:

    >>> is_chief()
    True
    """
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is not None and getattr(resolver, "task_type", None) is not None:
        task_type, task_id = resolver.task_type, resolver.task_id
        cluster = resolver.cluster_spec().as_dict()
    else:
        config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
        task = config.get("task") or {}
        task_type, task_id = task.get("type"), task.get("index", 0)
        cluster = config.get("cluster") or {}
    if task_type is None:
        return True
    if task_type == "chief":
        return True
    return task_type == "worker" and int(task_id or 0) == 0 and "chief" not in cluster
