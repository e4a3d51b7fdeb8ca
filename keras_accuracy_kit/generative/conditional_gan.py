"""ConditionalGAN: a small class-conditional GAN for small data, as a Keras 3 model."""

import keras
import numpy as np
import tensorflow as tf

from keras_accuracy_kit._core import checks
from keras_accuracy_kit.generative.diff_augment import POLICIES, diff_augment

_OWNER = "ConditionalGAN"
#: Saved in `get_config`: 2 since the auxiliary classifier is its own network (a file of
#: version 1, whose classifier was a head of the discriminator, cannot load its weights).
ARCHITECTURE = 2


def _check_image_shape(image_shape):
    return checks.check_shape(
        _OWNER, "image_shape", image_shape, names=("height", "width", "channels"),
        fix="E.g. image_shape=(8, 8, 1) for load_digits; pass one image's shape, not a batch's.",
    )  # fmt: skip


def _check_policy(augment):
    names = checks.check_choices(
        _OWNER, "augment", augment, POLICIES, "['translation', 'cutout']",
        items=f"names from {list(POLICIES)} (empty for none)", allow_empty=True,
    )  # fmt: skip
    return tuple(names)


def _check_learning_rate(learning_rate):
    if isinstance(learning_rate, dict):  # from `get_config`
        learning_rate = keras.optimizers.schedules.deserialize(learning_rate)
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate
    return checks.check_number(
        _OWNER, "learning_rate", learning_rate, low=0, open_low=True,
        expectation="a positive number or a keras.optimizers.schedules.LearningRateSchedule",
        fix="E.g. learning_rate=2e-4 or keras.optimizers.schedules.CosineDecay(5e-4, steps).",
    )  # fmt: skip


def _num_upsamplings(height, width):
    """How many 2x steps the generator takes (the discriminator as many 2x reductions)."""
    steps = 0
    while steps < 3:
        factor = 2 ** (steps + 1)
        if height % factor or width % factor or height // factor < 2 or width // factor < 2:
            break
        steps += 1
    return steps


class _Initializers:
    """Seeded kernel initialisers, one seed per layer (the same seed gives the same model)."""

    def __init__(self, seed):
        self.seed = seed
        self.count = 0

    def __call__(self):
        self.count += 1
        seed = None if self.seed is None else (self.seed * 1009 + self.count) % (2**31)
        return keras.initializers.GlorotUniform(seed=seed)


def _build_generator(image_shape, num_classes, latent_dim, filters, initializers, name):
    height, width, channels = image_shape
    steps = _num_upsamplings(height, width)
    base_h, base_w = height // 2**steps, width // 2**steps
    noise = keras.Input((latent_dim,), name="noise")
    label = keras.Input((), dtype="int32", name="label")
    embedded = keras.layers.Embedding(
        num_classes, latent_dim, embeddings_initializer=initializers(), name="label_embedding"
    )(label)
    x = keras.layers.Concatenate()([noise, embedded])
    width_now = filters * 2**steps
    x = keras.layers.Dense(base_h * base_w * width_now, kernel_initializer=initializers())(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Reshape((base_h, base_w, width_now))(x)
    for _ in range(steps):
        width_now = max(width_now // 2, filters)
        x = keras.layers.UpSampling2D(2)(x)
        x = keras.layers.Conv2D(
            width_now, 3, padding="same", kernel_initializer=initializers()
        )(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=initializers())(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    images = keras.layers.Conv2D(
        channels, 3, padding="same", activation="tanh", kernel_initializer=initializers()
    )(x)
    return keras.Model([noise, label], images, name=name)


def _build_discriminator(image_shape, num_classes, filters, initializers):
    """A projection discriminator (Miyato & Koyama, 2018) with spectral normalisation."""
    height, width, _ = image_shape
    steps = _num_upsamplings(height, width)
    images = keras.Input(image_shape, name="images")
    label = keras.Input((), dtype="int32", name="label")
    sn = keras.layers.SpectralNormalization
    x = sn(keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=initializers()))(
        images
    )
    x = keras.layers.LeakyReLU(0.2)(x)
    width_now = filters
    for _ in range(steps):
        width_now *= 2
        x = sn(
            keras.layers.Conv2D(
                width_now, 4, strides=2, padding="same", kernel_initializer=initializers()
            )
        )(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    features = keras.layers.GlobalAveragePooling2D()(x)
    unconditional = sn(keras.layers.Dense(1, kernel_initializer=initializers()))(features)
    # The label's embedding as a spectrally normalised Dense on its one-hot code.
    one_hot = keras.layers.CategoryEncoding(num_classes, output_mode="one_hot")(label)
    embedded = sn(
        keras.layers.Dense(width_now, use_bias=False, kernel_initializer=initializers())
    )(one_hot)
    projection = keras.layers.Dot(axes=1)([embedded, features])
    logits = keras.layers.Add()([unconditional, projection])
    return keras.Model([images, label], logits, name="discriminator")


def _build_classifier(image_shape, num_classes, filters, initializers):
    """The auxiliary classifier: a plain CNN of the real images (no spectral normalisation,
    so that it can become accurate and confident), with as many 2x reductions as the
    discriminator."""
    height, width, _ = image_shape
    steps = _num_upsamplings(height, width)
    images = keras.Input(image_shape, name="images")
    x = keras.layers.Conv2D(
        2 * filters, 3, padding="same", kernel_initializer=initializers()
    )(images)
    x = keras.layers.LeakyReLU(0.2)(x)
    for _ in range(max(steps, 1)):
        x = keras.layers.Conv2D(
            4 * filters, 3, strides=2, padding="same", kernel_initializer=initializers()
        )(x)
        x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    class_logits = keras.layers.Dense(num_classes, kernel_initializer=initializers())(x)
    return keras.Model(images, class_logits, name="classifier")


@keras.saving.register_keras_serializable(package="keras_accuracy_kit")
class ConditionalGAN(keras.Model):
    """A small class-conditional GAN that learns from a few hundred labelled images.

    Made for the small data where augmentation matters most: the discriminator sees real
    and generated images through the same differentiable augmentation (DiffAugment:
    brightness, translation, cutout), its layers are spectrally normalised and it projects
    the label onto its features (a projection discriminator); the hinge loss trains both
    players with Adam(beta_1=0, beta_2=0.99). A third network, an auxiliary classifier
    (a plain CNN, `gan.classifier`), learns the classes from the same augmented real
    images, and the generator is also trained to make images it classifies as their label:
    that is what holds generated images to their class. Samples come from an exponential
    moving average (EMA) of the generator's weights, which is smoother than the last
    step's.

    Train it with `fit` on the same `(images, labels)` data as the classifier, in the
    data's own value range and dtype (labels: integer class ids). Then take
    `gan.dataset(per_class=...)` as a `tf.data` source of generated pairs, and mix it into
    the real pipeline with `kit.generative.mix`. Measure before you use it:
    `gan.report(images, labels)` gives the class consistency and a Fréchet distance.

    Args:
        image_shape: Tuple `(height, width, channels)` of one image.
        num_classes: Int. The number of classes (labels are `0 .. num_classes - 1`).
        latent_dim: Int. The size of the noise vector. Defaults to `64`.
        filters: Int. The width of the first/last convolution; deeper ones are wider.
            Defaults to `64`.
        value_range: Pair of floats. The range of float images (ignored for uint8/uint16,
            whose full scale is used). Defaults to `(0.0, 1.0)`.
        image_dtype: String. The dtype of the real images, which generated images share.
            Defaults to `"float32"`.
        augment: List of names from `("brightness", "translation", "cutout")`: the
            differentiable augmentation applied to every image the discriminator sees.
            Defaults to all three.
        ema_decay: Float in [0, 1). The decay of the generator's moving average.
            Defaults to `0.995`.
        learning_rate: Float, or a `keras.optimizers.schedules.LearningRateSchedule`
            (e.g. `CosineDecay(5e-4, decay_steps)`: a rate that decays to 0 over the
            training keeps the generator nearer its best; on load_digits a constant rate
            loses a quarter of the class consistency after its peak, the decaying one
            ends within 0.06 of it; README). Adam's learning rate for both players.
            Defaults to `2e-4`.
        class_loss_weight: Float >= 0. The weight, in the generator's loss, of the
            auxiliary classifier's cross-entropy on generated images and their labels
            (the classifier itself learns from real images only, with Adam at 1e-3).
            `0` leaves the conditioning to the projection and does not train the
            classifier. Defaults to `1.0`.
        seed: Optional int. Seeds the weights and the training noise. Defaults to `None`.
        **kwargs: Base `keras.Model` arguments.

    Example:

    ```python
    gan = kit.generative.ConditionalGAN((8, 8, 1), num_classes=10, seed=0)
    gan.compile()
    gan.fit(train.batch(64), epochs=300)
    print(gan.report(images, labels))
    train = kit.generative.mix(train, gan.dataset(per_class=100, seed=0), fraction=0.3)
    ```
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        latent_dim=64,
        filters=64,
        value_range=(0.0, 1.0),
        image_dtype="float32",
        augment=POLICIES,
        ema_decay=0.995,
        learning_rate=2e-4,
        class_loss_weight=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = _check_image_shape(image_shape)
        self.num_classes = checks.check_int(
            _OWNER, "num_classes", num_classes, minimum=2, example=10
        )
        self.latent_dim = checks.check_positive_int(_OWNER, "latent_dim", latent_dim, 64)
        self.filters = checks.check_positive_int(_OWNER, "filters", filters, 64)
        self.value_range = checks.check_value_range(_OWNER, value_range)
        self.image_dtype = checks.check_image_dtype(_OWNER, image_dtype).name
        self.augment = _check_policy(augment)
        self.ema_decay = checks.check_number(
            _OWNER, "ema_decay", ema_decay, low=0, high=1, open_high=True,
            fix="E.g. ema_decay=0.995; 0 samples from the last step's weights.",
        )  # fmt: skip
        self.learning_rate = _check_learning_rate(learning_rate)
        self.class_loss_weight = checks.check_number(
            _OWNER, "class_loss_weight", class_loss_weight, low=0,
            fix="E.g. class_loss_weight=1.0; 0 leaves the conditioning to the projection.",
        )  # fmt: skip
        self.seed = checks.check_seed(_OWNER, seed)
        initializers = _Initializers(self.seed)
        arguments = (self.image_shape, self.num_classes, self.latent_dim, self.filters)
        self.generator = _build_generator(*arguments, initializers, "generator")
        self.ema_generator = _build_generator(*arguments, initializers, "ema_generator")
        self.ema_generator.set_weights(self.generator.get_weights())
        self.discriminator = _build_discriminator(
            self.image_shape, self.num_classes, self.filters, initializers
        )
        self.classifier = _build_classifier(
            self.image_shape, self.num_classes, self.filters, initializers
        )
        self.generator_optimizer = keras.optimizers.Adam(
            self.learning_rate, beta_1=0.0, beta_2=0.99, name="generator_optimizer"
        )
        self.discriminator_optimizer = keras.optimizers.Adam(
            self.learning_rate, beta_1=0.0, beta_2=0.99, name="discriminator_optimizer"
        )
        self.classifier_optimizer = keras.optimizers.Adam(1e-3, name="classifier_optimizer")
        # Built now, so that a saved GAN's optimizer state loads into a new one.
        self.generator_optimizer.build(self.generator.trainable_variables)
        self.discriminator_optimizer.build(self.discriminator.trainable_variables)
        self.classifier_optimizer.build(self.classifier.trainable_variables)
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="noise_seed")
        self.ema_steps = keras.Variable(0, dtype="int64", trainable=False, name="ema_steps")
        self.discriminator_loss_tracker = keras.metrics.Mean(name="discriminator_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.classifier_loss_tracker = keras.metrics.Mean(name="classifier_loss")
        self.built = True

    # -- conversions between the data's units and the networks' [-1, 1] ----------------
    def _to_network(self, images):
        return checks.to_unit_float(images, self.value_range) * 2.0 - 1.0

    def _to_data(self, images):
        unit = (tf.cast(images, tf.float32) + 1.0) * 0.5
        dtype = tf.as_dtype(self.image_dtype)
        if dtype in checks.INTEGER_IMAGE_DTYPES:
            full = checks.INTEGER_IMAGE_DTYPES[dtype]
            return tf.cast(tf.clip_by_value(tf.round(unit * full), 0.0, full), dtype)
        low, high = self.value_range
        return tf.cast(tf.clip_by_value(unit * (high - low) + low, low, high), dtype)

    def _labels(self, labels):
        labels = tf.convert_to_tensor(labels)
        if labels.shape.rank == 2 and labels.shape[-1] == self.num_classes:
            labels = tf.argmax(labels, axis=-1)  # one-hot
        elif labels.shape.rank == 2 and labels.shape[-1] == 1:
            labels = labels[:, 0]
        if labels.shape.rank != 1 or not (labels.dtype.is_integer or labels.dtype.is_floating):
            raise ValueError(
                f"{_OWNER}: `labels` must be class ids of shape (batch,) (or one-hot of "
                f"shape (batch, {self.num_classes})). Received: labels with shape "
                f"{labels.shape} and dtype {labels.dtype.name}. Batch (images, labels) pairs "
                "with integer labels."
            )
        return tf.cast(labels, tf.int32)

    def _check_images(self, images):
        if tuple(images.shape[1:]) != self.image_shape or images.dtype.name != self.image_dtype:
            raise ValueError(
                f"{_OWNER}: `images` must be batches of shape (batch, *{self.image_shape}) "
                f"and dtype {self.image_dtype}, as declared by `image_shape` and `image_dtype`. "
                f"Received: images with shape {images.shape} and dtype {images.dtype.name}. "
                "Batch the dataset, or build the GAN with the data's image_shape and "
                "image_dtype."
            )

    # -- Keras model ---------------------------------------------------------------------
    def compile(self, **kwargs):
        """Compiles for `fit`. The optimizers and losses are the GAN's own: pass nothing
        (Keras arguments such as `jit_compile` or `steps_per_execution` are accepted)."""
        for name in ("optimizer", "loss", "metrics"):
            if kwargs.get(name) is not None:
                raise ValueError(
                    f"{_OWNER}: `{name}` must not be given: the GAN trains with its own "
                    f"optimizers and hinge loss. Received: {name}={kwargs[name]!r}. Call "
                    "`gan.compile()`; set `learning_rate` when constructing the GAN."
                )
        kwargs.pop("optimizer", None)
        super().compile(**kwargs)

    def get_compile_config(self):
        return {"compiled": True}

    def compile_from_config(self, config):
        self.compile()

    @property
    def metrics(self):
        trackers = [self.discriminator_loss_tracker, self.generator_loss_tracker]
        if self.class_loss_weight:
            trackers.append(self.classifier_loss_tracker)
        return trackers

    def call(self, inputs, training=False):
        """`gan([noise, labels])`: generated images from the EMA generator, in [-1, 1]."""
        noise, labels = inputs
        return self.ema_generator([noise, self._labels(labels)], training=training)

    def train_step(self, data):
        images, labels = data[0], data[1]
        self._check_images(images)
        real = self._to_network(images)
        labels = self._labels(labels)
        batch = tf.shape(real)[0]
        seeds = [self.seed_generator.next() for _ in range(4)]
        noise = tf.random.stateless_normal([batch, self.latent_dim], seeds[0])
        # Under a tf.distribute strategy the replicas' gradients are summed: each loss is
        # divided by the replica count, so the update is the global batch's (as in Keras'
        # own `train_step`).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync

        with tf.GradientTape() as tape:
            fake = self.generator([noise, labels], training=True)
            both = tf.concat([real, tf.cast(fake, real.dtype)], axis=0)
            both = diff_augment(both, seeds[1], self.augment)
            logits = self.discriminator([both, tf.concat([labels, labels], 0)], training=True)
            real_logits, fake_logits = tf.split(logits, 2, axis=0)
            discriminator_loss = tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(
                tf.nn.relu(1.0 + fake_logits)
            )
            scaled = discriminator_loss / replicas
        weights = self.discriminator.trainable_weights
        gradients = tape.gradient(scaled, weights)
        self.discriminator_optimizer.apply_gradients(zip(gradients, weights))
        if self.class_loss_weight:
            # The classifier learns from the augmented real images the discriminator saw.
            self._classifier_step(tf.stop_gradient(both[:batch]), labels, replicas)

        noise = tf.random.stateless_normal([batch, self.latent_dim], seeds[2])
        with tf.GradientTape() as tape:
            fake = self.generator([noise, labels], training=True)
            fake = diff_augment(fake, seeds[3], self.augment)
            generator_loss = -tf.reduce_mean(self.discriminator([fake, labels], training=True))
            if self.class_loss_weight:
                generator_loss += self.class_loss_weight * tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels, self.classifier(fake))
                )
            scaled = generator_loss / replicas
        weights = self.generator.trainable_weights
        gradients = tape.gradient(scaled, weights)
        self.generator_optimizer.apply_gradients(zip(gradients, weights))

        # EMA with a warm-up (the average of the first steps is not dominated by the
        # random initial weights).
        self.ema_steps.assign_add(1)
        steps = tf.cast(self.ema_steps, tf.float32)
        decay = tf.minimum(self.ema_decay, (1.0 + steps) / (10.0 + steps))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * weight)

        self.discriminator_loss_tracker.update_state(discriminator_loss)
        self.generator_loss_tracker.update_state(generator_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def _classifier_step(self, real, labels, replicas):
        with tf.GradientTape() as tape:
            classifier_loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels, self.classifier(real, training=True)
                )
            )
            scaled = classifier_loss / replicas
        weights = self.classifier.trainable_weights
        gradients = tape.gradient(scaled, weights)
        self.classifier_optimizer.apply_gradients(zip(gradients, weights))
        self.classifier_loss_tracker.update_state(classifier_loss)

    # -- sampling ------------------------------------------------------------------------
    def generate(self, labels, seed=0, batch_size=256):
        """Generates one image per label from the EMA generator, in the data's units.

        Args:
            labels: 1-D array of class ids.
            seed: Int. The same seed and labels give the same images. Defaults to `0`.
            batch_size: Int. Images generated per call of the generator. Defaults to `256`.

        Returns:
            A tensor `(len(labels), *image_shape)` of dtype `image_dtype`, in `value_range`.
        """
        seed = checks.check_seed(_OWNER, seed)
        if seed is None:
            raise ValueError(
                f"{_OWNER}: `seed` must be an int. Received: seed=None. Pass seed=0: "
                "generated data must be reproducible."
            )
        batch_size = checks.check_positive_int(_OWNER, "batch_size", batch_size, 256)
        labels = np.asarray(labels)
        if labels.ndim != 1 or (labels.size and (labels.min() < 0 or labels.max() >= self.num_classes)):
            raise ValueError(
                f"{_OWNER}: `labels` must be a 1-D array of class ids in [0, "
                f"{self.num_classes - 1}]. Received: labels with shape {labels.shape} and "
                f"values in [{labels.min() if labels.size else ''}, "
                f"{labels.max() if labels.size else ''}]. Pass one id per image."
            )
        labels = tf.constant(labels, tf.int32)
        noise = tf.random.stateless_normal(
            [int(labels.shape[0]), self.latent_dim], tf.constant([seed % 2**31, 21], tf.int64)
        )
        parts = [
            self.ema_generator([noise[i : i + batch_size], labels[i : i + batch_size]])
            for i in range(0, int(labels.shape[0]), batch_size)
        ]
        if not parts:
            return tf.zeros((0, *self.image_shape), self.image_dtype)
        return self._to_data(tf.concat(parts, axis=0))

    def dataset(self, per_class, seed=0, label_dtype="int32"):
        """A `tf.data` source of generated `(image, label)` pairs, one image at a time.

        Classes take turns (`0, 1, ..., num_classes - 1, 0, 1, ...`), so any prefix is
        balanced. Images are in the real data's value range and dtype.

        Args:
            per_class: Int. Images generated per class.
            seed: Int. The same seed gives the same dataset. Defaults to `0`.
            label_dtype: String. The labels' dtype. Defaults to `"int32"`
                (`kit.generative.mix` casts them to the real data's).

        Returns:
            A `tf.data.Dataset` of `per_class * num_classes` unbatched pairs.
        """
        per_class = checks.check_positive_int(_OWNER, "per_class", per_class, 100)
        labels = np.tile(np.arange(self.num_classes), per_class)
        images = self.generate(labels, seed=seed)
        labels = tf.constant(labels, tf.as_dtype(label_dtype))
        return tf.data.Dataset.from_tensor_slices((images, labels))

    def report(self, images, labels, judge=None, num_images=1000, seed=0):
        """Measures the generated images against the real ones; see `QualityJudge.measure`.

        Args:
            images: Array `(N, *image_shape)`. Real images (the training data or better,
                held-out ones).
            labels: Array `(N,)`. Their class ids.
            judge: Optional `QualityJudge` already trained on real data; one is trained on
                `images, labels` otherwise.
            num_images: Int. Generated images measured (classes balanced). Defaults to
                `1000`.
            seed: Int. Seeds the judge's training and the generated images. Defaults to `0`.

        Returns:
            A dict: `class_consistency` (fraction of generated images the judge classifies
            as their conditioning label), `frechet_distance` (between the judge's
            penultimate features of real and generated images), `num_images`, `feature`.
        """
        from keras_accuracy_kit.generative.quality_judge import QualityJudge

        if judge is None:
            judge = QualityJudge(
                self.image_shape, self.num_classes, value_range=self.value_range, seed=seed
            )
            judge.fit(images, labels)
        num_images = checks.check_positive_int(_OWNER, "num_images", num_images, 1000)
        generated_labels = np.arange(num_images) % self.num_classes
        generated = self.generate(generated_labels, seed=seed)
        return judge.measure(generated, generated_labels, images)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": list(self.image_shape),
                "num_classes": self.num_classes,
                "latent_dim": self.latent_dim,
                "filters": self.filters,
                "value_range": list(self.value_range),
                "image_dtype": self.image_dtype,
                "augment": list(self.augment),
                "ema_decay": self.ema_decay,
                "learning_rate": (
                    keras.optimizers.schedules.serialize(self.learning_rate)
                    if isinstance(
                        self.learning_rate, keras.optimizers.schedules.LearningRateSchedule
                    )
                    else self.learning_rate
                ),
                "class_loss_weight": self.class_loss_weight,
                "seed": self.seed,
                "architecture": ARCHITECTURE,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        architecture = config.pop("architecture", 1)
        if architecture != ARCHITECTURE:
            raise ValueError(
                f"{_OWNER}: this GAN was saved with architecture {architecture} (an earlier "
                f"keras-accuracy-kit, whose auxiliary classifier was a head of the "
                f"discriminator); this version builds architecture {ARCHITECTURE} (the "
                "classifier is its own network) and cannot load its weights. Retrain the "
                "GAN with this version (`gan.fit` on the same data) and save it again."
            )
        return cls(**config)
