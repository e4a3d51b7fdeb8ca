"""The `kak` command's entry point: `kak --help` answers without importing TensorFlow.

`import keras_accuracy_kit` imports TensorFlow and Keras (it registers the kit's layers,
so that `keras.saving.load_model` finds them after that import alone), which takes
seconds. A console script inside the package would pay that before argparse runs. This
module lives outside the package: it makes the package importable without running its
`__init__` (the standard `importlib.util.module_from_spec` step, before `exec_module`),
parses the arguments with the CLI's light modules, and runs the package's `__init__`
only for a command that does work (after `kak` has silenced TensorFlow's start-up lines).
"""

import importlib.util
import sys

_PACKAGE = "keras_accuracy_kit"


def main(argv=None):
    """Parses `argv` (default `sys.argv[1:]`) and runs the `kak` command; returns its status."""
    spec = None
    if _PACKAGE not in sys.modules:
        spec = importlib.util.find_spec(_PACKAGE)
        sys.modules[_PACKAGE] = importlib.util.module_from_spec(spec)
    try:
        from keras_accuracy_kit.cli import main as cli

        args = cli.build_parser().parse_args(argv)  # --help and usage errors exit here
    except BaseException:
        if spec is not None:  # leave no half-made package behind
            for name in [n for n in sys.modules if n == _PACKAGE or n.startswith(_PACKAGE + ".")]:
                del sys.modules[name]
        raise
    if spec is not None:
        cli.quiet_tensorflow(verbose=getattr(args, "verbose", 1))
        spec.loader.exec_module(sys.modules[_PACKAGE])
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
