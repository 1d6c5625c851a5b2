"""In-tree PEP 517 backend: scikit-build-core, plus what an sdist needs to
build on its own, copied from the repository for the duration of a call:

- swig/redisx.i, swig/python.i: the project's SWIG interface;
- core-src/: the C core as scripts/core-sources writes it (sources, the
  embedded Lua scripts, SOURCES, VERSION), which the extension compiles;
- LICENSE: the repository's root licence, for the wheel's and the sdist's
  metadata.

The copies are removed afterwards: they are never committed. In an sdist
they are already present and nothing is copied. The backend also refuses
platforms the package does not support, before anything is compiled.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import scikit_build_core.build as _skb

_HERE = Path(__file__).resolve().parent.parent  # bindings/python
_REPO = _HERE.parent.parent
_REPO_SWIG = _REPO / "swig"


def _check_platform():
    if not sys.platform.startswith("linux"):
        raise RuntimeError(
            f"redisx-client supports Linux only (this is {sys.platform}); "
            "there is no wheel or source build for this platform"
        )


@contextlib.contextmanager
def _repo_files(with_core):
    """Copies the repository's files that an sdist carries, when building
    from the repository; removes them on the way out."""
    made = []  # paths to remove, files and folders
    try:
        licence = _HERE / "LICENSE"
        if (_REPO / "LICENSE").exists() and not licence.exists():
            shutil.copy2(_REPO / "LICENSE", licence)
            made.append(licence)
        vendored = _HERE / "swig"
        if (_REPO_SWIG / "redisx.i").exists() and not (vendored / "redisx.i").exists():
            vendored.mkdir(exist_ok=True)
            made.append(vendored)
            for src in sorted(_REPO_SWIG.glob("*.i")):  # redisx.i, python.i and what they include
                shutil.copy2(src, vendored / src.name)
        core = _HERE / "core-src"
        tool = _REPO / "scripts" / "core-sources"
        if with_core and tool.exists() and not (core / "SOURCES").exists():
            made.append(core)
            subprocess.run(["bash", str(tool), str(core)], check=True)
        yield
    finally:
        for path in reversed(made):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _wrap(name, with_core=False, platform=True):
    hook = getattr(_skb, name, None)
    if hook is None:
        return

    def call(*args, **kwargs):
        if platform:
            _check_platform()
        with _repo_files(with_core):
            return hook(*args, **kwargs)

    call.__name__ = name
    globals()[name] = call


# A wheel built in the repository compiles the core through CMake
# (scripts/core-sources into its build folder); only the sdist carries a copy.
for _hook in (
    "build_wheel",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_wheel",
    "build_editable",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_editable",
):
    _wrap(_hook)
# An sdist is the same on every platform; it is its build that refuses.
_wrap("get_requires_for_build_sdist", platform=False)
_wrap("build_sdist", with_core=True, platform=False)
