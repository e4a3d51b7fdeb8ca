"""Argument checks shared by the search hypermodels and `tune`."""

import numbers


def check_count(owner, arg, value, minimum=1):
    """Returns `value` as an int if it is an integer of at least `minimum`, else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{owner}: `{arg}` must be an integer of at least {minimum}. Received: "
            f"{arg}={value!r}. Pass a whole number, e.g. {arg}={max(minimum, 2)}."
        )
    return int(value)
