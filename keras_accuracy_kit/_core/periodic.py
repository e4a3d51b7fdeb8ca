"""When a periodic callback acts: every `every` epochs, and after the last epoch of `fit`."""


def due(epoch, every, params):
    """Whether a callback that acts every `every` epochs acts at the end of `epoch`.

    Args:
        epoch: Int. The epoch that ended, counted from 0 (Keras' `on_epoch_end` argument).
        every: Positive int.
        params: The callback's `params` (Keras sets `params["epochs"]` in `fit`), or None.

    Returns:
        True at epochs `every - 1, 2 * every - 1, ...` and at the last epoch of `fit`.

    Example:

    >>> [epoch for epoch in range(7) if due(epoch, 3, {"epochs": 7})]
    [2, 5, 6]
    """
    last = params.get("epochs") if params else None
    return (epoch + 1) % every == 0 or epoch + 1 == last
