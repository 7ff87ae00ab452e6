"""The package as it would be published: the sdist and wheel hold what they should, and the floors stay in step."""

import pathlib
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

import pytest

ROOT = pathlib.Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.mark.slow
def test_the_sdist_and_wheel_hold_the_library_its_license_and_no_part_of_the_suite(tmp_path):
    command = [
        sys.executable,
        "-m",
        "build",
        "--no-isolation",
        "--sdist",
        "--wheel",
        "--outdir",
        str(tmp_path),
        str(ROOT),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    version = PYPROJECT["project"]["version"]
    (wheel,) = tmp_path.glob(f"jax_weightinit-{version}-*.whl")
    (sdist,) = tmp_path.glob(f"jax_weightinit-{version}.tar.gz")
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "jax_weightinit").rglob("*.py")} | {"jax_weightinit/py.typed"}

    wheel_files = set(zipfile.ZipFile(wheel).namelist())
    assert modules <= wheel_files
    assert f"jax_weightinit-{version}.dist-info/licenses/LICENSE" in wheel_files
    assert not [f for f in wheel_files if f.startswith(("tests/", "benchmarks/", "examples/"))]
    metadata = zipfile.ZipFile(wheel).read(f"jax_weightinit-{version}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in metadata and "License-File: LICENSE" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    assert {"flax", "equinox", "haiku", "plot", "docs"} <= set(re.findall(r"Provides-Extra: (\S+)", metadata))

    prefix = f"jax_weightinit-{version}/"
    sdist_files = {name.removeprefix(prefix) for name in tarfile.open(sdist).getnames()}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} | modules <= sdist_files
    assert not [f for f in sdist_files if f.startswith(("tests", "benchmarks", "examples", "docs", ".ci"))]


def test_the_changelog_has_an_entry_for_this_version():
    version = PYPROJECT["project"]["version"]
    assert re.search(
        rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", (ROOT / "CHANGELOG.md").read_text(), re.M
    )


def _floors(requirements: list[str]) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for r in requirements if (m := re.fullmatch(r"([\w.-]+)>=([\w.]+)", r))}


def test_the_floors_file_pins_every_runtime_and_framework_floor_of_pyproject():
    """.ci/floors.txt, which the floors leg of CI installs, pins exactly the floors pyproject.toml declares."""
    project = PYPROJECT["project"]
    declared = _floors(project["dependencies"])
    for extra in ("flax", "equinox", "haiku"):
        declared |= _floors(project["optional-dependencies"][extra])
    declared |= {"optax": _floors(project["optional-dependencies"]["test"])["optax"]}
    lines = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "floors.txt").read_text().splitlines()]
    pinned = {m.group(1).lower(): m.group(2) for line in lines if (m := re.fullmatch(r"([\w.-]+)==([\w.]+)", line))}
    assert pinned == declared


BLOCKED = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("flax", "equinox"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Missing())
import jax_weightinit as wi
try:
    getattr(wi, sys.argv[1])
except ImportError as e:
    print(type(e).__name__, e)
"""


@pytest.mark.parametrize("namespace", ["flax", "equinox"])
def test_a_framework_namespace_without_its_framework_names_the_extra(namespace):
    result = subprocess.run([sys.executable, "-c", BLOCKED, namespace], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == (
        f"ImportError wi.{namespace} needs {namespace}, which is not installed; install it with "
        f'pip install "jax_weightinit[{namespace}]".'
    )
