"""Generated training data: a class-conditional GAN as a `tf.data` source, and its quality.

`ConditionalGAN` learns from the real `(images, labels)`; `gan.dataset(per_class=...)` is a
source of generated pairs and `mix` mixes it into the real pipeline; `QualityJudge`,
`QualityMonitor` and `gan.report(...)` measure the generated images (class consistency and a
Fréchet distance on a small classifier's features) before anyone trusts them.
"""

from keras_accuracy_kit.generative.conditional_gan import ConditionalGAN
from keras_accuracy_kit.generative.mix import mix
from keras_accuracy_kit.generative.quality import class_consistency, frechet_distance
from keras_accuracy_kit.generative.quality_judge import QualityJudge
from keras_accuracy_kit.generative.quality_monitor import QualityMonitor

__all__ = [
    "ConditionalGAN",
    "QualityJudge",
    "QualityMonitor",
    "class_consistency",
    "frechet_distance",
    "mix",
]
