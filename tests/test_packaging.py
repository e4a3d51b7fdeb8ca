"""The distributions as a user gets them (issue 18 item 5): built, checked, installed, run.

Builds the kit's and the plugin's sdist and wheel (no network: `--no-isolation` with this
environment's setuptools), runs `twine check --strict` on them, checks the classifiers
against PyPI's list (`trove-classifiers`), then installs `keras-accuracy-kit[all]` from the
built wheels into a fresh venv with `--no-index` and runs `kak` there. The fresh venv sees
this environment's third-party packages (TensorFlow, ...) through a directory of links
that leaves out the kit and the plugin, so what runs is the wheel's code.
"""

import os
import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "tensorboard_plugin_accuracy_kit"
OURS = ("keras_accuracy_kit", "tensorboard_plugin_accuracy_kit", "__editable__")

pytestmark = pytest.mark.slow


def _run(*command, cwd, env=None, timeout=600):
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    for project in (ROOT, PLUGIN):
        _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, project,
             cwd=out)  # fmt: skip
    return out


def test_twine_check_passes_on_every_built_file(dist):
    pytest.importorskip("twine")
    files = sorted(dist.iterdir())
    assert len(files) == 4, files  # an sdist and a wheel of each distribution
    _run(sys.executable, "-m", "twine", "check", "--strict", *files, cwd=dist)


def test_metadata_license_classifiers_and_the_plugin_in_all(dist):
    trove = pytest.importorskip("trove_classifiers")
    (wheel,) = dist.glob("keras_accuracy_kit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert any(n.endswith(".dist-info/LICENSE") for n in names)
    assert "keras_accuracy_kit_launcher.py" in names
    classifiers = [line.split(": ", 1)[1] for line in metadata.splitlines()
                   if line.startswith("Classifier: ")]  # fmt: skip
    assert classifiers and not set(classifiers) - trove.classifiers
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: ")]
    assert 'Requires-Dist: tensorboard-plugin-accuracy-kit; extra == "all"' in requires
    assert "Requires-Dist: scikit-learn" in requires  # the digits of `kak improve`
    assert not any("pytest" in line and 'extra == "all"' in line for line in requires)


def test_wheels_install_in_a_fresh_venv_and_kak_runs(dist, tmp_path):
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    # This environment's third-party packages, without the kit and the plugin.
    links = tmp_path / "third_party"
    links.mkdir()
    site_packages = pathlib.Path(sysconfig.get_paths()["purelib"])
    for entry in site_packages.iterdir():
        if not entry.name.startswith(OURS) and not entry.name.endswith(".pth"):
            (links / entry.name).symlink_to(entry)
    fresh_site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                      cwd=tmp_path).stdout.strip()  # fmt: skip
    pathlib.Path(fresh_site, "third_party.pth").write_text(f"{links}\n")
    _run(python, "-m", "pip", "install", "--no-index", "--find-links", dist,
         "keras-accuracy-kit[all]", cwd=tmp_path)  # fmt: skip

    # Without the suite's TF_CPP_MIN_LOG_LEVEL: `kak` must quiet TensorFlow itself.
    environment = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL")
    }
    where = _run(python, "-c", "import keras_accuracy_kit as kit, tensorboard_plugin_accuracy_kit"
                 " as plugin; print(kit.__file__); print(plugin.__file__)",
                 cwd=tmp_path, env=environment).stdout.split()  # fmt: skip
    assert all(path.startswith(fresh_site) for path in where), where
    kak = venv / "bin" / "kak"
    help_text = _run(kak, "--help", cwd=tmp_path, env=environment).stdout
    assert "improve" in help_text and "history" in help_text
    result = _run(kak, "improve", "--dataset", "digits", "--budget", "10s", "--logdir",
                  tmp_path / "runs", cwd=tmp_path, env=environment)  # fmt: skip
    assert "Best model" in result.stdout and (tmp_path / "runs" / "best.keras").exists()
    assert "cudart" not in result.stderr and "cuInit" not in result.stderr
