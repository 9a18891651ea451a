"""Deprecation helpers for renamed parameters and parameters that became keyword-only.

:func:`deprecated_params` wraps a public function whose signature changed: the old
name of a renamed parameter, and an optional parameter passed by position where it
is now keyword-only, still work for one release with a :class:`DeprecationWarning`
that says what to write instead.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

__all__ = ["deprecated_params", "warn_deprecated"]

P = ParamSpec("P")
R = TypeVar("R")


def warn_deprecated(message: str, *, stacklevel: int = 3) -> None:
    """Emit a :class:`DeprecationWarning` pointing at the caller's caller."""
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


def deprecated_params(
    *, renamed: Mapping[str, str] | None = None, positional: tuple[str, ...] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Accept old parameter names and old positional use for one release, with a warning.

    Parameters
    ----------
    renamed
        ``{old_name: new_name}``.
    positional
        The parameters, in their old order, that used to be accepted by position
        right after the parameters that still are (they are now keyword-only).

    Examples
    --------
    >>> import warnings
    >>> @deprecated_params(renamed={"n_bootstrap": "n_resamples"}, positional=("k",))
    ... def f(x, *, k=1, n_resamples=0):
    ...     return x, k, n_resamples
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(1, 2, n_bootstrap=5)
    (1, 2, 5)
    >>> len(w)
    2
    """
    renames = dict(renamed or {})

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        params = inspect.signature(func).parameters.values()
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        n_positional = sum(p.kind in kinds for p in params)
        name = func.__name__

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if len(args) > n_positional:
                extra = args[n_positional:]
                if len(extra) > len(positional):
                    msg = (
                        f"{name}() takes {n_positional} positional argument"
                        f"{'s' if n_positional != 1 else ''} but {len(args)} were given."
                    )
                    raise TypeError(msg)
                names = positional[: len(extra)]
                warn_deprecated(
                    f"passing {', '.join(f'`{n}`' for n in names)} to {name}() by position is "
                    f"deprecated; write {', '.join(f'{n}=...' for n in names)}."
                )
                for n, v in zip(names, extra, strict=True):
                    if n in kwargs:
                        msg = f"{name}() got multiple values for argument {n!r}."
                        raise TypeError(msg)
                    kwargs[n] = v
                args = args[:n_positional]  # type: ignore[assignment]
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        msg = f"{name}() got both {old!r} and its new name {new!r}; use {new!r}."
                        raise TypeError(msg)
                    warn_deprecated(
                        f"`{old}=` of {name}() is deprecated and will be removed in the next "
                        f"release; use `{new}=`."
                    )
                    kwargs[new] = kwargs.pop(old)
            try:
                return func(*args, **kwargs)
            except Exception as err:
                from touchpoint._lib.checks import is_short, short_traceback

                if is_short(err):  # a parameter error: keep its traceback short
                    raise short_traceback(err) from None
                raise

        return wrapper

    return decorate
