# The SWIG-generated extension (swig/redisx.i + swig/python.i): C functions
# named as in the C API, plus the pyx_* helpers. Untyped on purpose: the
# public, typed surface is redisx.Client / Lock / LockInfo / Event.
from typing import Any

def __getattr__(name: str) -> Any: ...
