"""Parameter checks shared by every public function.

In the manner of scikit-learn's ``utils/_param_validation.py``: a public function
checks each of its parameters on entry with one of the functions below, and every
refusal has one message style, naming the parameter, what it must be and the value::

    `alpha` must be a number in (0, 1) (got 5).

The errors are :class:`~touchpoint.exceptions.InvalidParameterError`, a
``ValueError`` and a ``TypeError`` at once (as scikit-learn's), so callers may catch
either. Values that are numbers are refused when they are booleans, NaN or infinite
(unless a bound is infinite and the caller allows it), so no NaN ever switches a
range test off. ``tests/test_public_functions.py`` feeds every public function bad
values and asserts this message.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import functools
import inspect
import math
import numbers
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Literal, NoReturn, ParamSpec, TypeVar

import attrs
import numpy as np

from touchpoint.exceptions import InvalidParameterError, UnknownTouchpointError

__all__ = [
    "ALPHA",
    "CONFIDENCE",
    "TZ",
    "Boolean",
    "Constraint",
    "Custom",
    "Duration",
    "Instance",
    "Integer",
    "Number",
    "Options",
    "Pair",
    "Seed",
    "Text",
    "boolean",
    "choice",
    "did_you_mean",
    "duration",
    "error",
    "fail",
    "integer",
    "is_number",
    "known_names",
    "name_list",
    "number",
    "pair",
    "probability",
    "seed",
    "short_traceback",
    "time_zone",
    "validate_params",
]

Closed = Literal["both", "left", "right", "neither"]
T = TypeVar("T")


def error(name: str, must: str, value: Any) -> InvalidParameterError:
    """The one message: "`name` must be <must> (got <value>)." (to ``raise``)."""
    return InvalidParameterError(f"`{name}` must be {must} (got {_show(value)}).")


def fail(name: str, must: str, value: Any) -> NoReturn:
    """Raise :func:`error`."""
    raise error(name, must, value)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _range_text(low: float | None, high: float | None, closed: Closed) -> str:
    if low is None and high is None:
        return ""
    if high is None or high == math.inf:
        op = ">=" if closed in ("both", "left") else ">"
        return f" {op} {low:g}"
    if low is None or low == -math.inf:
        op = "<=" if closed in ("both", "right") else "<"
        return f" {op} {high:g}"
    left = "[" if closed in ("both", "left") else "("
    right = "]" if closed in ("both", "right") else ")"
    return f" in {left}{low:g}, {high:g}{right}"


def _inside(x: float, low: float | None, high: float | None, closed: Closed) -> bool:
    if low is not None and (x < low or (x == low and closed in ("right", "neither"))):
        return False
    return not (high is not None and (x > high or (x == high and closed in ("left", "neither"))))


def is_number(value: Any) -> bool:
    """A real number that is not a boolean (NaN and infinities included)."""
    return _is_number(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    closed: Closed = "both",
    allow_inf: bool = False,
) -> float:
    """A real number (never a boolean, never NaN) inside the given range.

    Infinite values pass only with ``allow_inf`` and when the range includes them.

    Examples
    --------
    >>> number("alpha", 0.05, low=0, high=1, closed="neither")
    0.05
    >>> number("alpha", 5, low=0, high=1, closed="neither")
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `alpha` must be a number in (0, 1) (got 5).
    """
    must = "a number" + _range_text(low, high, closed)
    if not _is_number(value):
        fail(name, must, value)
    x = float(value)
    if math.isnan(x) or (math.isinf(x) and not allow_inf):
        fail(name, "a finite number" + _range_text(low, high, closed), value)
    if not _inside(x, low, high, closed):
        fail(name, must, value)
    return x


def probability(name: str, value: Any) -> float:
    """A number in [0, 1]."""
    return number(name, value, low=0.0, high=1.0)


def integer(
    name: str,
    value: Any,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int:
    """An integer (a Python or numpy integer, never a boolean or a float) in [low, high].

    Examples
    --------
    >>> integer("n_resamples", 0, low=1)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `n_resamples` must be an integer >= 1 (got 0).
    """
    must = "an integer" + _range_text(low, high, "both")
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        fail(name, must, value)
    x = int(value)
    if not _inside(x, low, high, "both"):
        fail(name, must, value)
    return x


def boolean(name: str, value: Any) -> bool:
    """True or False (numpy booleans too)."""
    if not isinstance(value, bool | np.bool_):
        fail(name, "True or False", value)
    return bool(value)


def choice(name: str, value: T, options: Collection[Any]) -> T:
    """One of ``options`` (compared by equality, never by truthiness).

    Examples
    --------
    >>> choice("mode", "strict", ("ordered", "any"))
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `mode` must be 'ordered' or 'any' (got 'strict').
    """
    try:
        ok = any(value == o and type(value) is type(o) for o in options) or (
            isinstance(value, str) and value in options
        )
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        must = ("" if len(options) == 2 else "one of ") + _or(options)
        strings = [o for o in options if isinstance(o, str)]
        close = difflib.get_close_matches(value, strings, n=1) if isinstance(value, str) else []
        if close:
            hint = f"; did you mean {close[0]!r}?"
            raise InvalidParameterError(f"`{name}` must be {must} (got {_show(value)}{hint}).")
        fail(name, must, value)
    return value


def _or(options: Iterable[Any]) -> str:
    shown = [repr(o) for o in options]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " or " + shown[-1]


def pair(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    ordered: bool = True,
) -> tuple[float, float]:
    """Two finite numbers ``(a, b)``, each in [low, high], with ``a <= b`` if ``ordered``."""
    must = "a pair (low, high) of finite numbers" + (
        _range_text(low, high, "both").replace(" in ", " inside ") if low is not None else ""
    )
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        fail(name, must, value)
    items = list(value)
    if len(items) != 2 or not all(_is_number(v) for v in items):
        fail(name, must, value)
    a, b = float(items[0]), float(items[1])
    if not (math.isfinite(a) and math.isfinite(b)) or (ordered and a > b):
        fail(name, must, value)
    if not (_inside(a, low, high, "both") and _inside(b, low, high, "both")):
        fail(name, must, value)
    return (a, b)


def duration(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    """A positive, finite duration in seconds: a timedelta, a numpy timedelta64 or a number.

    Examples
    --------
    >>> duration("gap", _dt.timedelta(minutes=30))
    1800.0
    >>> duration("gap", float("nan"))
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `gap` must be a positive finite timedelta, number of seconds or text such as '7D' or '7 days' (got nan).
    """
    must = "a positive finite timedelta, number of seconds or text such as '7D' or '7 days'"
    if value is None and allow_none:
        return None
    if isinstance(value, str):
        from touchpoint._lib.durations import parse_duration

        parsed = parse_duration(value)
        if parsed is None:
            fail(name, must, value)
        value = parsed
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, np.timedelta64):
        if np.isnat(value):
            fail(name, must, value)
        seconds = float(value / np.timedelta64(1, "s"))
    elif _is_number(value):
        seconds = float(value)
    else:
        fail(name, must, value)
    if not (math.isfinite(seconds) and seconds > 0):
        fail(name, must, value)
    return seconds


def known_names(
    name: str,
    values: Any,
    known: Sequence[str],
    *,
    what: str = "touchpoint",
    error: type[Exception] = UnknownTouchpointError,
) -> tuple[str, ...]:
    """``values`` (one name or several) as a tuple, refusing names not in ``known``.

    The refusal suggests the closest known name, so a misspelt ``exclude=`` entry
    is never silently ignored.

    Examples
    --------
    >>> known_names("exclude", ["chekout"], ["ad", "checkout"])
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.UnknownTouchpointError: `exclude` must be names of touchpoints in the data (got 'chekout'; did you mean 'checkout'?).
    """
    items = [values] if isinstance(values, str) else list(values)
    known_set = set(known)
    for v in items:
        if not isinstance(v, str) or v not in known_set:
            close = difflib.get_close_matches(str(v), list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {_or(known[:10])}"
            msg = f"`{name}` must be names of {what}s in the data (got {_show(v)}{hint})."
            raise error(msg)
    return tuple(items)


def did_you_mean(name: Any, known: Iterable[Any]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` to ``name``, else ``""``.

    Examples
    --------
    >>> did_you_mean("chekout", ["ad", "checkout"])
    "; did you mean 'checkout'?"
    """
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def name_list(known: Iterable[Any], limit: int = 20) -> str:
    """Known names for a message: sorted, quoted, at most ``limit`` and a count of the rest.

    Examples
    --------
    >>> name_list(["site", "ad", "buy"], limit=2)
    "'ad', 'buy' and 1 more"
    """
    names = sorted({str(k) for k in known})
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def seed(name: str, value: Any) -> int | None:
    """None or a non-negative integer (what ``numpy.random.default_rng`` takes)."""
    if value is None:
        return None
    if isinstance(value, np.random.Generator):
        return value  # type: ignore[return-value]
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or value < 0:
        fail(name, "None or an integer >= 0", value)
    return int(value)


# ------------------------------------------------------------------ declarative form
@attrs.frozen
class Constraint:
    """A parameter check for :func:`validate_params`, with values it must refuse.

    ``bad`` lists values the check refuses; the common test over the public API
    (``tests/test_public_functions.py``) feeds each one to every function using
    the constraint and asserts the message.
    """

    check: Callable[[str, Any], Any]
    bad: tuple[Any, ...]
    text: str

    def __call__(self, name: str, value: Any) -> None:
        self.check(name, value)

    def __repr__(self) -> str:
        return self.text


def _none_ok(check: Callable[[str, Any], Any], none: bool) -> Callable[[str, Any], Any]:
    def run(name: str, value: Any) -> None:
        if not (none and value is None):
            check(name, value)

    return run


def Number(  # noqa: N802 - constraint constructors read like types, as in scikit-learn
    low: float | None = None,
    high: float | None = None,
    *,
    closed: Closed = "both",
    none: bool = False,
) -> Constraint:
    """A constraint: :func:`number` (``none=True`` also accepts None)."""
    bad: list[Any] = [math.nan, "1", True, math.inf]
    if low is not None:
        bad.append(low - 1 if closed in ("both", "left") else low)
    if high is not None:
        bad.append(high + 1 if closed in ("both", "right") else high)
    return Constraint(
        _none_ok(lambda n, v: number(n, v, low=low, high=high, closed=closed), none),
        tuple(bad),
        "number" + _range_text(low, high, closed),
    )


def Integer(  # noqa: N802
    low: int | None = None, high: int | None = None, *, none: bool = False
) -> Constraint:
    """A constraint: :func:`integer` (``none=True`` also accepts None)."""
    bad: list[Any] = [1.5, math.nan, "1", True]
    if low is not None:
        bad.append(low - 1)
    if high is not None:
        bad.append(high + 1)
    return Constraint(
        _none_ok(lambda n, v: integer(n, v, low=low, high=high), none),
        tuple(bad),
        "integer" + _range_text(low, high, "both"),
    )


def Options(*options: Any) -> Constraint:  # noqa: N802
    """A constraint: :func:`choice` among ``options``."""
    return Constraint(lambda n, v: choice(n, v, options), ("no such option", 3.5), _or(options))


def Pair(  # noqa: N802
    low: float | None = None, high: float | None = None, *, none: bool = False
) -> Constraint:
    """A constraint: :func:`pair` (``none=True`` also accepts None)."""
    return Constraint(
        _none_ok(lambda n, v: pair(n, v, low=low, high=high), none),
        ((0, math.nan), (math.nan, 1), (1, 0), (0, 1, 2), "01", (True, 1)),
        "pair",
    )


def Duration(*, none: bool = False, auto: bool = False) -> Constraint:  # noqa: N802
    """A constraint: :func:`duration` (also None, or "auto", when allowed)."""

    def run(name: str, value: Any) -> None:
        if auto and isinstance(value, str) and value == "auto":
            return
        duration(name, value, allow_none=none)

    return Constraint(
        run,
        (math.nan, math.inf, 0, -1.0, "soon", True, np.timedelta64("NaT")),
        "duration",
    )


def Boolean() -> Constraint:  # noqa: N802
    """A constraint: :func:`boolean`."""
    return Constraint(boolean, ("yes", 2, None), "boolean")


def Seed() -> Constraint:  # noqa: N802
    """A constraint: :func:`seed`."""
    return Constraint(seed, (-1, 1.5, "1", True), "seed")


def Text(*, none: bool = False) -> Constraint:  # noqa: N802
    """A constraint: a non-empty string (a column or touchpoint name)."""

    def run(name: str, value: Any) -> None:
        if none and value is None:
            return
        if not isinstance(value, str) or not value:
            fail(name, "a non-empty string" + (" or None" if none else ""), value)

    return Constraint(run, (5, "", ("a",)), "text")


def Instance(*types: type, none: bool = False) -> Constraint:  # noqa: N802
    """A constraint: an instance of one of ``types`` (or None when ``none``)."""
    names = " or ".join(t.__name__ for t in types) + (" or None" if none else "")

    def run(name: str, value: Any) -> None:
        if not ((none and value is None) or isinstance(value, types)):
            fail(name, f"a {names}", value)

    return Constraint(run, ("x", 3), names)


def Custom(check: Callable[[str, Any], Any], *bad: Any) -> Constraint:  # noqa: N802
    """A constraint from a check function and values it refuses."""
    return Constraint(check, bad, getattr(check, "__name__", "custom"))


def time_zone(name: str, value: Any) -> str:
    """A time-zone name: ``"UTC"`` (also for None) or an IANA name such as ``"Europe/Berlin"``."""
    if value is None or value == "UTC":
        return "UTC"
    must = "a time-zone name such as 'UTC' or 'Europe/Berlin'"
    if not isinstance(value, str):
        fail(name, must, value)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        fail(name, must, value)
    return value


#: A time-zone name (None and "UTC" mean UTC).
TZ = Constraint(time_zone, (5, "Mars/Olympus_Mons", ""), "time zone")
CONFIDENCE = Number(0.0, 1.0, closed="neither")
ALPHA = Number(0.0, 1.0, closed="neither")

P = ParamSpec("P")
R = TypeVar("R")


def _run_checks(
    constraints: Mapping[str, Constraint], sig: inspect.Signature, arguments: Mapping[str, Any]
) -> None:
    for name, check in constraints.items():
        if name in arguments:
            check(name, arguments[name])
        else:
            default = sig.parameters[name].default
            if default is not inspect.Parameter.empty:
                check(name, default)


E = TypeVar("E", bound=BaseException)


def short_traceback(err: E) -> E:
    """``err`` without the frames it has passed so far, marked for the outer wrappers.

    A parameter error re-raised as ``raise short_traceback(err) from None`` shows
    the public function's frame and the message, not the 5-7 internal frames
    of the checks (``Constraint.__call__``, ``fail``, ...). Wrappers further out
    (:func:`~touchpoint._lib.compat.deprecated_params`) re-raise a marked error
    the same way, so the traceback stays short through them.
    """
    err.__touchpoint_short__ = True  # type: ignore[attr-defined]
    return err.with_traceback(None)


def is_short(err: BaseException) -> bool:
    """Whether ``err`` came through :func:`short_traceback`."""
    return bool(getattr(err, "__touchpoint_short__", False))


def validate_params(
    constraints: Mapping[str, Constraint],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a public function so that it checks its parameters on every call.

    ``constraints`` maps parameter names to checks (:func:`Number`, :func:`Integer`,
    :func:`Options`, ...). Checks run on the bound arguments, defaults included, so
    a wrong default is caught by the tests too. Parameters without a constraint
    (the data) are checked by the function itself.

    Examples
    --------
    >>> @validate_params({"alpha": ALPHA})
    ... def f(x, *, alpha=0.05):
    ...     return alpha
    >>> f(1, alpha=5)
    Traceback (most recent call last):
    ...
    touchpoint.exceptions.InvalidParameterError: `alpha` must be a number in (0, 1) (got 5).
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:  # a renamed parameter must not silently lose its check
            msg = f"constraints for unknown parameters {sorted(unknown)} of {func.__qualname__}"
            raise AssertionError(msg)

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:
                return func(*args, **kwargs)  # Python's own message for a wrong call
            try:
                _run_checks(constraints, sig, bound.arguments)
            except InvalidParameterError as err:  # raised from here: no check frames above it
                raise short_traceback(err) from None
            return func(*args, **kwargs)

        wrapper.__touchpoint_constraints__ = dict(constraints)  # type: ignore[attr-defined]
        return wrapper

    return decorate
