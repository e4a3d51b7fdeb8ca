"""`print(history.versions()[0])` is one readable line, not the configuration dict."""

from keras_accuracy_kit.history.history import Version


def version(**overrides):
    values = dict(
        id=3,
        parent=2,
        created="2026-01-01T00:00:00Z",
        changes=[
            "hparams.dropout: 0.5 -> 0",
            "hparams.batch_size: 64 -> 16",
            "model.layers[3].inbound_nodes[0].args[0].config.shape: [null, 8] -> [null, 16]",
        ],
        monitor="val_accuracy",
        mode="max",
        best=0.97214,
        best_epoch=7,
        epochs=12,
        wall_time=30.0,
        files={"best": "/x/best.keras", "last": "/x/last.keras"},
        configuration={"model": {"layers": list(range(1000))}},
        fingerprint="f" * 64,
        file_status={"best": "ok", "last": "ok"},
    )
    values.update(overrides)
    return Version(**values)


def test_version_repr_shows_id_parent_best_epochs_and_the_first_changes():
    assert repr(version()) == (
        "Version(id=3, parent=2, val_accuracy=0.9721 at epoch 7 (max), epochs=12, "
        "changes=[hparams.dropout: 0.5 -> 0; hparams.batch_size: 64 -> 16; +1 more])"
    )


def test_version_repr_without_a_best_value_or_changes_and_with_damaged_files():
    text = repr(
        version(
            id=1, parent=None, changes=[], best=None, best_epoch=None, epochs=0,
            file_status={"best": "corrupt", "last": "ok"},
        )
    )
    assert text == (
        "Version(id=1, parent=None, val_accuracy=- (max), epochs=0, best file corrupt, "
        "changes=[])"
    )
    assert "files deleted" in repr(version(files_deleted=True))


def test_version_repr_shortens_a_long_change():
    text = repr(version(changes=["a" * 200]))
    assert "a" * 45 + "..." in text and "a" * 46 not in text
    assert len(text) < 160
