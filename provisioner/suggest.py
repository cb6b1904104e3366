"""Did-you-mean hints for errors: the closest known name to what was typed."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(typed: str, known: Iterable[str]) -> str:
    """``" (did you mean 'staging'?)"`` for the closest known name, or "" when none is close."""
    close = difflib.get_close_matches(typed, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
