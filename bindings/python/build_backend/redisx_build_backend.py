"""In-tree PEP 517 backend: scikit-build-core, plus a copy of the project's
SWIG interface files into the sdist.

In the repository the CMake build finds ../../swig/redisx.i by itself. An
sdist must build without the repository, so build_sdist copies swig/*.i next
to pyproject.toml for the duration of the call (sdist.include picks them up)
and removes the copies afterwards: they are never committed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import scikit_build_core.build as _skb

_HERE = Path(__file__).resolve().parent.parent  # bindings/python
_REPO_SWIG = _HERE.parent.parent / "swig"

for _hook in (
    "build_wheel",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "prepare_metadata_for_build_wheel",
    "build_editable",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_editable",
):
    if hasattr(_skb, _hook):
        globals()[_hook] = getattr(_skb, _hook)


def build_sdist(sdist_directory, config_settings=None):
    vendored = _HERE / "swig"
    copied = []
    if (_REPO_SWIG / "redisx.i").exists() and not (vendored / "redisx.i").exists():
        vendored.mkdir(exist_ok=True)
        for name in ("redisx.i", "python.i"):
            shutil.copy2(_REPO_SWIG / name, vendored / name)
            copied.append(vendored / name)
    try:
        return _skb.build_sdist(sdist_directory, config_settings)
    finally:
        for path in copied:
            path.unlink()
        if copied and not any(vendored.iterdir()):
            vendored.rmdir()
