"""Figure: a picture the kit drew for a notebook, with the numbers it shows."""

import os

import numpy as np

from keras_accuracy_kit._core import atomic
from keras_accuracy_kit.reporting import rendering


class Figure:
    """A picture the kit drew (a PNG for notebooks and scripts) and the numbers it shows.

    The kit's notebook views (`kit.show_batch`, `LRFinderResult.plot`, the plots of
    `kit.interpret`) return one. Jupyter displays it as an image (it has `_repr_png_`);
    in a script, `save(path)` writes the PNG (or pass `path=` to the view). The numbers
    drawn are in `data`, so a test or a later cell reads them instead of pixels.

    Args:
        image: Array `(height, width, 3)`, floats in [0, 1] (or `(1, height, width, 3)`,
            as `image_grid` returns).
        data: Optional dict. The numbers the picture shows. Defaults to `None` (empty).
        title: String. What the picture is, for `repr`. Defaults to `"figure"`.

    Example:

    >>> figure = Figure(np.ones((4, 6, 3)), data={"answer": 42}, title="blank")
    >>> figure
    Figure('blank', 6x4 px, data: answer)
    >>> figure.png()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """

    def __init__(self, image, data=None, title="figure"):
        image = np.asarray(image, np.float32)
        if image.ndim == 4 and image.shape[0] == 1:
            image = image[0]
        if image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(
                "Figure: `image` must be an RGB array (height, width, 3). Received: "
                f"image of shape {image.shape}. Draw it with `reporting.image_grid`."
            )
        self.image = np.clip(image, 0.0, 1.0)
        self.data = dict(data or {})
        self.title = str(title)
        self.path = None

    def png(self):
        """The picture as PNG bytes."""
        return rendering.encode_png(self.image)

    def _repr_png_(self):
        return self.png()

    def save(self, path):
        """Writes the PNG to `path` atomically (temporary file, fsync, rename).

        Args:
            path: String or path-like. The PNG file; its directory must exist.

        Returns:
            The path, as a string (also kept as `figure.path`).
        """
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
            raise TypeError(
                f"Figure.save: `path` must be a file path. Received: path={path!r}. "
                "E.g. path='confusion_matrix.png'."
            )
        path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise ValueError(
                f"Figure.save: `path` must be in an existing directory. Received: path={path!r}. "
                f"Create {directory!r} first."
            )
        atomic.atomic_write_bytes(path, self.png())
        self.path = path
        return path

    def __repr__(self):
        height, width = self.image.shape[:2]
        keys = ", ".join(self.data) or "none"
        return f"Figure({self.title!r}, {width}x{height} px, data: {keys})"


def finish(image, data, title, path):
    """A `Figure`, saved to `path` when one is given (what every notebook view returns)."""
    figure = Figure(image, data=data, title=title)
    if path is not None:
        figure.save(path)
    return figure
