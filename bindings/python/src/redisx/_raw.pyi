# SWIG's Python proxy of the generated layer (see _rawc.pyi).
from typing import Any

def __getattr__(name: str) -> Any: ...
