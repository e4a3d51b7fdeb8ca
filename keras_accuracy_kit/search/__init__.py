"""Depth and image-size search on keras-tuner (the `tuner` extra).

`kit.search.DepthSearch` and `kit.search.SizeSearch` are keras-tuner hypermodels whose
trials record exactly the model they trained; `kit.search.tune` runs them with the kit's
callbacks, on one machine or with keras-tuner's chief/worker mode.
"""

from keras_accuracy_kit.search.requirements import INSTALL_HINT, import_keras_tuner

import_keras_tuner()

from keras_accuracy_kit.search.blocks import BLOCKS  # noqa: E402
from keras_accuracy_kit.search.depth_search import DepthSearch  # noqa: E402
from keras_accuracy_kit.search.distributed import Distributed  # noqa: E402
from keras_accuracy_kit.search.hparams_logger import HParamsLogger  # noqa: E402
from keras_accuracy_kit.search.result import SearchResult, active_values  # noqa: E402
from keras_accuracy_kit.search.size_search import COLOR_SPACES, SizeSearch  # noqa: E402
from keras_accuracy_kit.search.tuning import tune  # noqa: E402

__all__ = [
    "BLOCKS",
    "COLOR_SPACES",
    "DepthSearch",
    "Distributed",
    "HParamsLogger",
    "INSTALL_HINT",
    "SearchResult",
    "SizeSearch",
    "active_values",
    "tune",
]
