"""CheckpointOnChange in a two-worker MultiWorkerMirroredStrategy cluster: the chief alone
writes one version."""

import pytest

import keras_accuracy_kit as kit
from tests.callbacks.test_distributed_and_resume import records, start_cluster


@pytest.mark.slow
def test_one_version_written_by_the_chief_only(tmp_path):
    results = start_cluster(
        tmp_path, per_worker=lambda index: ["--history-dir", str(tmp_path / f"history_{index}")]
    )
    for code, output in results:
        assert code == 0, output[-3000:]
    assert records(tmp_path / "record_0.jsonl") == records(tmp_path / "record_1.jsonl")
    history = kit.History(tmp_path / "history_0")
    versions = history.versions()
    assert len(versions) == 1
    assert versions[0].epochs == 7 and versions[0].best is not None
    assert sorted(versions[0].files) == ["best", "last"]
    assert not (tmp_path / "history_1").exists()
