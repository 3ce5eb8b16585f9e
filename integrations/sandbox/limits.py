"""Named limits of the sandboxes: each one is on unless a test switches it off by its name."""

from __future__ import annotations

from collections.abc import Iterable


def switched_off(names: Iterable[str], known: frozenset[str], sandbox: str) -> frozenset[str]:
    """The names in `names`, checked against the sandbox's `known` limits (a typo is an error,
    never a limit silently left on or off)."""
    if isinstance(names, str):
        raise TypeError(f"limits_off takes a collection of names, e.g. {{{names!r}}}.")
    chosen = frozenset(names)
    unknown = sorted(chosen - known)
    if unknown:
        raise ValueError(
            f"The {sandbox} sandbox has no limit named {', '.join(map(repr, unknown))}; "
            f"its limits are {', '.join(sorted(known))}."
        )
    return chosen
