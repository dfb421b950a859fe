"""Errors raised for bad input.

Every error the user can cause is an :class:`InputError`: it names the file (or source), the
element (a row, a key, an id), what is wrong and how to fix it. The CLI turns it into a one- or
two-line message and exit code 2; nothing else in mobsim prints tracebacks for bad input.
"""

from __future__ import annotations


class MobsimError(Exception):
    """Base class of every error mobsim raises on purpose."""


class InputError(MobsimError):
    """Bad input: a scenario, network, demand or parameter that cannot be used.

    Parameters
    ----------
    what:
        What is wrong, in one sentence.
    source:
        The file (or ``"--set"``, ``"generator"``, ...) the problem is in.
    element:
        The element: a TOML key, a CSV row (``"row 12"``), an id (``"link 'a-b'"``).
    fix:
        How to fix it, in one sentence.
    """

    def __init__(self, what: str, *, source: str | None = None, element: str | None = None,
                 fix: str | None = None) -> None:
        self.what = what
        self.source = source
        self.element = element
        self.fix = fix
        super().__init__(self.format())

    def format(self) -> str:
        where = ": ".join(str(p) for p in (self.source, self.element) if p)
        msg = f"{where}: {self.what}" if where else self.what
        if self.fix:
            msg += f"\n  fix: {self.fix}"
        return msg


class RunError(MobsimError):
    """A run failed for a reason other than bad input (exit code 1 from the CLI)."""
