"""Script detection for single tokens.

Why: the best romaniser depends on the writing system (ICU BGN rules for
Cyrillic, a name-oriented table for Arabic script, anyascii for Ge'ez and
Devanagari, ...), and a record may mix scripts inside one name ("Ahmed محمد").
Detection works on code-point ranges, which is fast, total and needs no data.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata

# (start, end_inclusive, script). Sorted by start. Only the scripts that need
# their own romaniser are listed; everything else falls back to "Other".
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latin"),
    (0x0061, 0x007A, "Latin"),
    (0x00C0, 0x024F, "Latin"),
    (0x0250, 0x02AF, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0700, 0x074F, "Other"),
    (0x0750, 0x077F, "Arabic"),
    (0x0780, 0x07BF, "Other"),
    (0x0870, 0x08FF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x0DFF, "Indic"),
    (0x0E00, 0x0FFF, "Other"),
    (0x1000, 0x109F, "Myanmar"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1200, 0x139F, "Ethiopic"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x2D80, 0x2DDF, "Ethiopic"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0xA8E0, 0xA8FF, "Devanagari"),
    (0xA9E0, 0xA9FF, "Myanmar"),
    (0xAA60, 0xAA7F, "Myanmar"),
    (0xAB00, 0xAB2F, "Ethiopic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0xFF21, 0xFF3A, "Latin"),
    (0xFF41, 0xFF5A, "Latin"),
    (0x1E7E0, 0x1E7FF, "Ethiopic"),
)
_STARTS = [r[0] for r in _RANGES]

COMMON = "Common"


def char_script(ch: str) -> str:
    """Script of one character; ``"Common"`` for digits, punctuation, marks, spaces.

    Combining marks are Common so that they stay attached to the run of the
    letter they decorate instead of splitting it.
    """
    cp = ord(ch)
    if cp < 0x80:
        return "Latin" if ch.isalpha() else COMMON
    cat = unicodedata.category(ch)
    if cat[0] != "L":
        return COMMON
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0:
        start, end, script = _RANGES[i]
        if start <= cp <= end:
            return script
    return "Other"


def detect_script(token: str) -> str:
    """Dominant script of a token (most letters); ``"Common"`` if it has no letters."""
    if type(token) is str:
        return _detect_script_cached(token)
    return _detect_script(token)


@functools.lru_cache(maxsize=1 << 16)
def _detect_script_cached(token: str) -> str:
    if token.isascii():  # what char_script says of each ASCII character, at once
        return "Latin" if _ASCII_LETTER.search(token) else COMMON
    return _detect_script(token)


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _detect_script(token: str) -> str:
    counts: dict[str, int] = {}
    for ch in token:
        s = char_script(ch)
        if s != COMMON:
            counts[s] = counts.get(s, 0) + 1
    if not counts:
        return COMMON
    return max(sorted(counts), key=lambda k: counts[k])


def script_runs(token: str) -> list[tuple[str, str]]:
    """Split a token into maximal runs of one script; Common chars join the current run."""
    runs: list[tuple[str, str]] = []
    cur_script = COMMON
    buf: list[str] = []
    for ch in token:
        s = char_script(ch)
        if COMMON in (s, cur_script) or s == cur_script:
            buf.append(ch)
            if cur_script == COMMON and s != COMMON:
                cur_script = s
            continue
        runs.append((cur_script, "".join(buf)))
        buf = [ch]
        cur_script = s
    if buf:
        runs.append((cur_script, "".join(buf)))
    return runs
