"""kit.search.tune prints its progress (issue 18 item 6), and keras-tuner prints nothing stray."""

import pytest

import keras_accuracy_kit as kit
from keras_accuracy_kit.search import distributed
from tests.search.helpers import dense_block, digits


def _search(tmp_path, **kwargs):
    train, validation = digits()
    depth = kit.search.DepthSearch(dense_block, 1, 2, input_shape=(8, 8, 1), num_classes=10)
    return kit.search.tune(
        depth, train, validation, strategy="random", max_trials=2, epochs=1,
        directory=tmp_path, seed=0, **kwargs,
    )  # fmt: skip


def test_progress_is_printed_by_default_and_silenced_by_verbose_0(tmp_path, capsys):
    _search(tmp_path / "loud")
    out = capsys.readouterr().out
    assert "kit.search.tune: trial 0/2 started: num_blocks=" in out
    assert "kit.search.tune: trial 1/2 completed in " in out and "(best so far " in out
    _search(tmp_path / "quiet", verbose=0)
    assert "kit.search.tune" not in capsys.readouterr().out


def test_bad_verbose_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"tune: `verbose` must be 0 \(silent\) or 1"):
        _search(tmp_path, verbose=3)


@pytest.mark.parametrize(
    "values, field",
    [([1, 2], "int_value"), (["a", "b"], "string_value"), ([True], "boolean_value"),
     ([0.5, 1.5], "float_value")],  # fmt: skip
)
def test_conditions_are_sent_without_keras_tuners_stray_print(capsys, values, field):
    from keras_tuner.src import protos
    from keras_tuner.src.engine import conditions

    distributed.quiet_keras_tuner()
    proto = conditions.Parent("num_blocks", values).to_proto()
    assert capsys.readouterr().out == ""  # keras-tuner 1.4 printed values[0] here
    # The proto built by hand, as keras-tuner's own method builds it.
    get = protos.get_proto()
    expected = get.Condition(
        parent=get.Condition.Parent(
            name="num_blocks", values=[get.Value(**{field: v}) for v in values]
        )
    )
    assert proto == expected
    assert conditions.Parent.from_proto(proto).values == values
