"""HubSource: a TF-Hub / Kaggle model URL behind `FeatureExtractor`, downloaded once."""

import hashlib
import os
import socket
import tarfile
import tempfile
import urllib.parse

import tensorflow as tf

from keras_accuracy_kit.transfer.saved_model_source import SavedModelSource, resolve_local_handle

_OWNER = "FeatureExtractor"
#: Seconds to wait for a TF-Hub / Kaggle host before reporting that it is unreachable.
_CONNECT_TIMEOUT_SECONDS = 5.0


class HubSource(SavedModelSource):
    """An `http(s)://` model handle, resolved by `tensorflow_hub` into `$TFHUB_CACHE_DIR`.

    Every way the URL can fail (malformed, no host, unreachable, an HTTP error such as 404,
    a broken download) is a `ValueError` at construction naming the handle and the fix.
    Restoring a layer from its config never downloads: only a cached copy is loaded.

    Args:
        handle: String. An `https://` (or `http://`) TF-Hub / Kaggle model URL.
        signature: Optional string. A named signature to call instead of `__call__`.
        output_key: Optional string. The entry to return from a dict output.
        output_shape: Optional tuple. The output shape without the batch axis.
        variable_specs: Optional list of dicts, from the layer config (see
            `SavedModelSource`).
    """

    def __init__(
        self, handle, signature=None, output_key=None, output_shape=None, variable_specs=None
    ):
        super().__init__(handle, signature, output_key, output_shape, variable_specs)
        self.host, self.port = parse_hub_url(handle)

    def locate(self):
        hub = _import_hub(self.handle)
        cached = hub_cache_path(self.handle)
        if not (os.path.isdir(cached) and os.listdir(cached)):
            self._check_reachable(cached)
        try:
            directory = hub.resolve(self.handle)
        except (OSError, ValueError, RuntimeError, tarfile.TarError, tf.errors.OpError) as error:
            raise ValueError(
                f"{_OWNER}: `handle` must be a model URL that downloads. Received: "
                f"handle={self.handle!r}, but {_describe_download_error(error)}. Check the "
                "URL (the model path and its version, e.g. on kaggle.com/models), or "
                "download the model where it works and pass its local SavedModel directory "
                "as `handle`."
            ) from error
        try:
            return resolve_local_handle(directory)
        except ValueError as error:
            raise ValueError(
                f"{_OWNER}: `handle` must download a SavedModel. Received: handle="
                f"{self.handle!r}, resolved to {directory!r}, which is not one ({error}). "
                f"Delete {cached!r} and try again, or pass a local SavedModel directory."
            ) from error

    def locate_when_restoring(self):
        cached = hub_cache_path(self.handle)
        if os.path.isfile(os.path.join(cached, "saved_model.pb")):
            return cached
        return None

    def _check_reachable(self, cached):
        try:
            address = (self.host, self.port)
            socket.create_connection(address, timeout=_CONNECT_TIMEOUT_SECONDS).close()
        except OSError as error:
            raise ValueError(
                f"{_OWNER}: `handle` must be reachable or already cached. Received: "
                f"handle={self.handle!r}, but {self.host} is unreachable ({error}) and "
                f"nothing is cached at {cached!r} ($TFHUB_CACHE_DIR/<sha1 of the handle>). "
                "Download the model where there is network and copy the extracted "
                "SavedModel to that directory, or pass its local directory as `handle`."
            ) from error


def parse_hub_url(handle):
    """Returns `(host, port)` of an `http(s)://` handle; a malformed URL raises at once.

    Example:

    >>> parse_hub_url("https://tfhub.dev/google/model/5")
    ('tfhub.dev', 443)
    """
    try:
        url = urllib.parse.urlsplit(handle)
        host, port = url.hostname, url.port
    except ValueError as error:
        raise ValueError(
            f"{_OWNER}: `handle` must be a well-formed URL. Received: handle={handle!r}, "
            f"which cannot be parsed ({error}). Fix the URL (an IPv6 host goes in brackets, "
            "`https://[::1]:8080/model`; a port is 0-65535), or pass a local SavedModel "
            "directory."
        ) from error
    if not host:
        raise ValueError(
            f"{_OWNER}: `handle` URL must name a host. Received: handle={handle!r}. Write it "
            "as `https://host/path/to/model`, or pass a local directory (a path or "
            "`file:///path`)."
        )
    return host, port or (443 if url.scheme == "https" else 80)


def hub_cache_path(handle):
    """Where `tensorflow_hub` caches `handle`: `$TFHUB_CACHE_DIR/<sha1 of the handle>`.

    Example:

    >>> import hashlib, os
    >>> handle = "https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5"
    >>> os.path.basename(hub_cache_path(handle)) == hashlib.sha1(handle.encode()).hexdigest()
    True
    """
    cache_dir = os.environ.get("TFHUB_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "tfhub_modules"
    )
    return os.path.join(cache_dir, hashlib.sha1(handle.encode("utf8")).hexdigest())


def _import_hub(handle):
    try:
        import tensorflow_hub as hub
    except ImportError as error:
        raise ValueError(
            f"{_OWNER}: `handle` URLs need the optional `tensorflow-hub` package. Received: "
            f'handle={handle!r}. Install it with `pip install "keras-accuracy-kit[hub]"`, '
            "or pass a local SavedModel directory."
        ) from error
    return hub


def _describe_download_error(error):
    code = getattr(error, "code", None)
    if isinstance(code, int):
        reason = getattr(error, "reason", "") or ""
        return f"the server answered HTTP {code} {reason}".rstrip()
    return f"the download failed ({type(error).__name__}: {error})"
