"""kit.interpret against independent numbers: sklearn's confusion matrix, Keras' own
cross-entropy and losses derived by hand; every plot is a PNG that decodes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

import keras_accuracy_kit as kit
from keras_accuracy_kit.reporting import interpretation, rendering
from keras_accuracy_kit.reporting.interpretation import Interpretation
from tests.reporting.digits import CLASS_NAMES, digits, tiny_model


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_val, y_val) = digits(num_train=600, num_val=200)
    model = tiny_model(learning_rate=0.02)
    model.fit(x_train, y_train, epochs=3, batch_size=64, verbose=0)
    return model, x_val, y_val


def test_a_hand_made_table_gives_the_hand_computed_losses_and_confusions():
    outputs = np.array(
        [
            [0.7, 0.2, 0.1],  # true 0, right: -log 0.7
            [0.1, 0.3, 0.6],  # true 1, predicted 2: -log 0.3
            [0.5, 0.4, 0.1],  # true 2, predicted 0: -log 0.1
            [0.05, 0.05, 0.9],  # true 2, right: -log 0.9
            [0.2, 0.1, 0.7],  # true 1, predicted 2: -log 0.1
        ]
    )
    labels = np.array([0, 1, 2, 2, 1])
    interp = Interpretation(np.zeros((5, 4, 4, 3)), labels, outputs, class_names=list("abc"))
    expected = np.array([-np.log(0.7), -np.log(0.3), -np.log(0.1), -np.log(0.9), -np.log(0.1)])
    np.testing.assert_allclose(interp.losses, expected, rtol=1e-12)
    losses, indices = interp.top_losses(3)
    # The two losses of 2.303 tie: the data's order decides (index 2 before 4).
    assert indices.tolist() == [2, 4, 1]
    np.testing.assert_allclose(losses, [-np.log(0.1), -np.log(0.1), -np.log(0.3)])
    assert interp.confusion_matrix().tolist() == [[1, 0, 0], [0, 0, 2], [1, 0, 1]]
    assert interp.most_confused() == [("b", "c", 2), ("c", "a", 1)]
    assert interp.most_confused(min_count=2) == [("b", "c", 2)]
    assert interp.accuracy == pytest.approx(2 / 5)
    assert interp.top_losses(99)[1].tolist() == [2, 4, 1, 0, 3]


def test_logits_and_one_hot_labels_give_keras_cross_entropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 4)) * 3
    labels = rng.integers(0, 4, size=50)
    one_hot = np.eye(4)[labels]
    interp = Interpretation(np.zeros((50, 2, 2, 1)), one_hot, logits)
    reference = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    np.testing.assert_allclose(interp.losses, np.asarray(reference), rtol=1e-5, atol=1e-6)


def test_interpret_a_trained_model_matches_sklearn_and_keras(trained):
    model, x_val, y_val = trained
    dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(32)
    interp = kit.interpret(model, dataset, class_names=CLASS_NAMES)
    probabilities = model.predict(x_val, verbose=0)
    predicted = probabilities.argmax(axis=-1)
    np.testing.assert_array_equal(
        interp.confusion_matrix(), sklearn_confusion_matrix(y_val, predicted, labels=range(10))
    )
    reference = np.asarray(keras.losses.sparse_categorical_crossentropy(y_val, probabilities))
    np.testing.assert_allclose(interp.losses, reference, rtol=1e-5, atol=1e-6)
    losses, indices = interp.top_losses(5)
    np.testing.assert_array_equal(indices, np.argsort(-reference, kind="stable")[:5])
    assert interp.accuracy == pytest.approx(float(np.mean(predicted == y_val)))
    # Arrays give the same as a dataset.
    same = kit.interpret(model, (x_val, y_val), class_names=CLASS_NAMES, batch_size=7)
    np.testing.assert_array_equal(same.confusion_matrix(), interp.confusion_matrix())
    matrix = interp.confusion_matrix()
    for true_name, predicted_name, count in interp.most_confused():
        true, guess = CLASS_NAMES.index(true_name), CLASS_NAMES.index(predicted_name)
        assert true != guess and matrix[true, guess] == count
    counts = [count for _, _, count in interp.most_confused()]
    assert counts == sorted(counts, reverse=True)
    assert sum(counts) == int(matrix.sum() - np.trace(matrix))
    expected = f"Interpretation(200 examples, 10 classes, accuracy={interp.accuracy:.4f})"
    assert repr(interp) == expected


def test_plot_confusion_matrix_writes_a_png_that_decodes_to_the_picture(trained, tmp_path):
    model, x_val, y_val = trained
    interp = kit.interpret(model, (x_val, y_val), class_names=CLASS_NAMES)
    figure = interp.plot_confusion_matrix(path=tmp_path / "cm.png")
    np.testing.assert_array_equal(figure.data["confusion_matrix"], interp.confusion_matrix())
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "cm.png"))).numpy()
    expected = rendering.confusion_matrix_image(interp.confusion_matrix(), CLASS_NAMES)[0]
    assert decoded.shape == expected.shape
    np.testing.assert_array_equal(decoded, np.round(expected * 255))
    assert figure._repr_png_() == (tmp_path / "cm.png").read_bytes()
    assert figure.path == str(tmp_path / "cm.png")


def test_plot_top_losses_shows_the_top_loss_images_with_their_numbers(trained, tmp_path):
    model, x_val, y_val = trained
    interp = kit.interpret(model, (x_val, y_val))
    figure = interp.plot_top_losses(9, num_columns=4, path=tmp_path / "top.png")
    losses, indices = interp.top_losses(9)
    np.testing.assert_array_equal(figure.data["indices"], indices)
    np.testing.assert_array_equal(figure.data["losses"], losses)
    first = indices[0]
    true, guess = int(y_val[first]), int(interp.predictions[first])
    assert figure.data["captions"][0] == [
        f"true {true}",
        f"pred {guess}",
        f"loss {losses[0]:.2f} p{interp.probabilities[first, true]:.2f}",
    ]
    decoded = tf.io.decode_png(tf.io.read_file(str(tmp_path / "top.png"))).numpy()
    cell_height = rendering.CELL_SIZE + rendering.CAPTION_HEIGHT + interpretation.LINE_HEIGHT
    cell = rendering.CELL_SIZE
    assert decoded.shape == (3 * (cell_height + 2), 4 * (cell + 2), 3)
    # Cell (row 1, column 1) is the 6th top loss: its 8x8 digit drawn 12x12 per pixel.
    sixth = x_val[indices[5], :, :, 0]
    y0, x0 = cell_height + 2, cell + 2
    shown = decoded[y0 + 6 : y0 + 96 : 12, x0 + 6 : x0 + 96 : 12, 0]
    np.testing.assert_array_equal(shown, np.round(sixth * 255))


def test_interpretation_rejects_bad_input_early():
    outputs = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"`labels` must be class indices in \[0, 3\)"):
        Interpretation(np.zeros((2, 4, 4, 1)), np.array([0, 3]), outputs)
    with pytest.raises(ValueError, match=r"`class_names` must hold one name per class \(3\)"):
        Interpretation(np.zeros((2, 4, 4, 1)), np.array([0, 1]), outputs, class_names=["a"])
    with pytest.raises(ValueError, match="same number of examples"):
        Interpretation(np.zeros((3, 4, 4, 1)), np.array([0, 1]), outputs)
    interp = Interpretation(np.zeros((2, 4, 4, 1)), np.array([0, 1]), outputs)
    with pytest.raises(ValueError, match=r"`k` must be a positive integer. Received: k=0"):
        interp.top_losses(0)
    with pytest.raises(TypeError, match=r"`dataset` must be a tf.data.Dataset"):
        kit.interpret(keras.Sequential([keras.layers.Dense(3)]), [1, 2])
    flat = Interpretation(np.zeros((2, 16)), np.array([0, 1]), outputs)
    with pytest.raises(ValueError, match=r"Read `top_losses\(k\)` instead"):
        flat.plot_top_losses(2)
