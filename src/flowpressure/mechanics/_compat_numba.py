"""Numba ``njit`` when numba is importable, else the plain function and a warning.

Kernels are written as plain Python over NumPy arrays and wrapped by :func:`jit`; the same
source then runs compiled (``cache=True``: the machine code is kept on disk next to the module,
so a new process loads it instead of compiling again) or, through :func:`python_twin`, as
Python with every jitted helper it calls swapped for its Python source. Parity tests compare
the two.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["HAS_NUMBA", "PerformanceWarning", "jit", "python_twin"]

F = TypeVar("F", bound=Callable[..., Any])


class PerformanceWarning(UserWarning):
    """A kernel runs as plain Python because numba cannot be imported (it is much slower)."""


_numba: Any
try:
    import numba as _numba
except ImportError:  # pragma: no cover - numba is a runtime dependency
    _numba = None

HAS_NUMBA = _numba is not None


def jit(func: F) -> F:
    """Compile ``func`` with ``numba.njit(cache=True)``; without numba return it unchanged.

    A function numba cannot cache (one typed at a prompt) is compiled without the cache.

    Examples
    --------
    >>> def add(a, b):
    ...     return a + b
    >>> jit(add)(1.0, 2.0)
    3.0
    """
    if _numba is None:  # pragma: no cover - numba is a runtime dependency
        warnings.warn(
            f"numba is not importable: {func.__name__} runs as plain Python (slow)",
            PerformanceWarning,
            stacklevel=2,
        )
        return func
    try:
        return cast("F", _numba.njit(cache=True, nogil=True)(func))
    except RuntimeError:  # no file to cache next to
        return cast("F", _numba.njit(nogil=True)(func))


def python_twin(func: Callable[..., Any]) -> Callable[..., Any]:
    """Return ``func`` as plain Python, with the jitted functions it calls also as Python.

    The twin shares the kernel's source line for line, so a test comparing it with the
    compiled kernel checks the compilation (types, integer widths, float order), not a
    second implementation. Jitted helpers are followed into the modules that define them.

    Examples
    --------
    >>> def twice(x):
    ...     return 2 * x
    >>> python_twin(jit(twice))(21)
    42
    """
    made: dict[int, types.FunctionType] = {}

    def twin(f: Any) -> types.FunctionType:
        source = getattr(f, "py_func", f)
        if id(source) in made:
            return made[id(source)]
        namespace: dict[str, Any] = dict(source.__globals__)
        copy = types.FunctionType(
            source.__code__, namespace, source.__name__, source.__defaults__, source.__closure__
        )
        made[id(source)] = copy
        for name, value in source.__globals__.items():
            if isinstance(getattr(value, "py_func", None), types.FunctionType):
                namespace[name] = twin(value)
        return copy

    return twin(func)
