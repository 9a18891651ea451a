"""Progress bars for long work, shown only where someone is watching.

:func:`progress_bar` returns a tqdm bar when tqdm is installed (the
``touchpoint[progress]`` extra) *and* the output goes to a terminal or a
Jupyter notebook; otherwise a silent stand-in with the same small interface.
Libraries that depend on touchpoint therefore never see stray output.

``enabled=True``/``False`` forces the choice; the environment variable
``TOUCHPOINT_PROGRESS`` (``0``/``1``) sets the default.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sized
from types import TracebackType
from typing import Any, TypeVar

__all__ = ["NullBar", "progress_bar", "progress_enabled", "track"]

T = TypeVar("T")


class NullBar:
    """A progress bar that shows nothing (same methods as the tqdm bar we use)."""

    n: int = 0

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` (counted, not shown)."""
        self.n += n

    def set_postfix_str(self, s: str) -> None:
        """Ignore a status string."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> NullBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    get = getattr(shell, "get_ipython", None)
    ip = get() if get is not None else None
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def progress_enabled(enabled: bool | None = None) -> bool:
    """Whether a bar would be shown: forced by ``enabled``, else env var, else TTY/notebook.

    Examples
    --------
    >>> progress_enabled(False)
    False
    """
    if enabled is not None:
        return bool(enabled)
    env = os.environ.get("TOUCHPOINT_PROGRESS", "").strip().lower()
    if env in ("0", "false", "no", "off"):
        return False
    if env in ("1", "true", "yes", "on"):
        return True
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except ValueError:  # closed stream
        tty = False
    return tty or _in_notebook()


def progress_bar(
    *, total: float | None = None, desc: str = "", unit: str = "it", enabled: bool | None = None
) -> Any:
    """A progress bar (context manager with ``update(n)``): tqdm or a silent stand-in.

    Parameters
    ----------
    total : float, optional
        Expected total of the updates (unknown when None).
    desc, unit : str
        Label and unit shown by tqdm.
    enabled : bool, optional
        Force showing (True) or hiding (False); default: see :func:`progress_enabled`.

    Examples
    --------
    >>> with progress_bar(total=3, enabled=False) as bar:
    ...     for _ in range(3):
    ...         bar.update(1)
    >>> bar.n
    3
    """
    if not progress_enabled(enabled):
        return NullBar()
    try:
        if _in_notebook():
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
    except ImportError:
        return NullBar()
    return tqdm(total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True)


def track(
    iterable: Iterable[T],
    *,
    total: float | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool | None = None,
) -> Iterator[T]:
    """Iterate over ``iterable``, advancing a progress bar by one per item.

    Examples
    --------
    >>> list(track(range(3), enabled=False))
    [0, 1, 2]
    """
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    with progress_bar(total=total, desc=desc, unit=unit, enabled=enabled) as bar:
        for item in iterable:
            yield item
            bar.update(1)
