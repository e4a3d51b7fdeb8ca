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


def test_print_of_a_real_history_version_is_one_line(tmp_path):
    import keras_accuracy_kit as kit
    from tests.history.helpers import digits_data, digits_model

    x, y, x_val, y_val = digits_data()
    for units in (32, 16):
        model = digits_model(units=units)
        callback = kit.callbacks.CheckpointOnChange(tmp_path, hparams={"units": units})
        model.fit(x[:200], y[:200], validation_data=(x_val[:100], y_val[:100]), epochs=2,
                  batch_size=64, callbacks=[callback], verbose=0)
    history = kit.History(tmp_path)
    try:
        first, second = history.versions()
    finally:
        history.close()
    assert str(first) == (
        f"Version(id=1, parent=None, val_accuracy={first.best:.4f} at epoch "
        f"{first.best_epoch} (max), epochs=2, changes=[first version])"
    )
    text = str(second)
    assert "\n" not in text and len(text) < 200
    assert text.startswith(f"Version(id=2, parent=1, val_accuracy={second.best:.4f} at epoch ")
    assert "hparams.units: 32 -> 16" in text
