"""Name structure: patronymic chains.

Why: in many caseload cultures a person's second and third names are the
father's and grandfather's given names (Somali, Sudanese, Chadian, Yemeni,
Iraqi, Ethiopian and Eritrean naming), and in Ukrainian/Russian names the
patronymic is derived from the father's given name (Petrovych <- Petro).
A matcher that knows this can compare a child's second name with the
father's given name in a tracing request, instead of only whole names.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from kinlink.phonetics.nicknames import canonical_token, culture_of
from kinlink.phonetics.scripts import detect_script
from kinlink.phonetics.tokens import connector_positions, name_tokens

_SLAVIC_PATRONYMIC = re.compile(
    r"^([a-z]{2,}?)(ovich|evich|ievich|ovych|evych|iiovich|ovitch|ich|ych|ovna|evna|ivna|ichna|ovni)$"
)
_CHAIN_CULTURES = frozenset({"arabic", "ethiopian", "persian", "pashto"})
_CHAIN_SCRIPTS = frozenset({"Arabic", "Ethiopic"})

CONVENTIONS = ("chain", "slavic", "unknown")


@dataclass(frozen=True, slots=True)
class NameStructure:
    """A name split into parts; ``father``/``grandfather`` only where the convention says so.

    ``convention`` is ``"chain"`` (given, father, grandfather...), ``"slavic"``
    (given, patronymic, family; ``father`` derived from the patronymic) or
    ``"unknown"`` (given first, family last, no parent information).
    """

    tokens: tuple[str, ...]
    convention: str
    given: str | None
    father: str | None
    grandfather: str | None
    family: str | None


def _slavic_father(token: str) -> str | None:
    m = _SLAVIC_PATRONYMIC.match(token)
    if not m:
        return None
    stem = m.group(1)
    # Petrovych -> petr(o); Serhiyovych -> serhi(y); Ivanovich -> ivan
    return canonical_token(stem)


def _infer_convention(text: str, tokens: tuple[str, ...]) -> str:
    if any(_SLAVIC_PATRONYMIC.match(t) for t in tokens[1:]) and len(tokens) >= 2:
        return "slavic"
    if connector_positions(text):
        return "chain"
    scripts = {detect_script(w) for w in text.split()}
    if scripts & _CHAIN_SCRIPTS:
        return "chain"
    chain_votes = sum(1 for t in tokens if culture_of(canonical_token(t)) in _CHAIN_CULTURES)
    if len(tokens) >= 2 and chain_votes >= 2:
        return "chain"
    return "unknown"


def split_name(text: str, convention: str | None = None) -> NameStructure:
    """Split a full name into given name and, where the culture has one, a parent chain.

    ``convention`` forces ``"chain"``, ``"slavic"`` or ``"unknown"``; ``None``
    infers it from patronymic suffixes, connectors (bin, ould, wad), script
    (Arabic, Ge'ez) and the cultures of known tokens.
    """
    if not isinstance(text, str):
        raise TypeError("split_name() expects str")
    if convention is not None and type(convention) is not str:
        return _split_name.__wrapped__(text, convention)
    return _split_name(text, convention)


@functools.lru_cache(maxsize=1 << 16)
def _split_name(text: str, convention: str | None) -> NameStructure:
    """:func:`split_name`, cached (names repeat; the result is immutable)."""
    tokens = name_tokens(text)
    if not tokens:
        return NameStructure((), "unknown", None, None, None, None)
    conv = convention if convention in CONVENTIONS else _infer_convention(text, tokens)
    if conv == "slavic":
        for idx in range(1, len(tokens)):
            father = _slavic_father(tokens[idx])
            if father:
                given = tokens[idx - 1]
                rest = [t for k, t in enumerate(tokens) if k not in (idx - 1, idx)]
                return NameStructure(
                    tokens, "slavic", given, father, None, rest[0] if rest else None
                )
        return NameStructure(
            tokens, "slavic", tokens[0], None, None, tokens[-1] if len(tokens) > 1 else None
        )
    if conv == "chain":
        return NameStructure(
            tokens,
            "chain",
            tokens[0],
            tokens[1] if len(tokens) > 1 else None,
            tokens[2] if len(tokens) > 2 else None,
            tokens[-1] if len(tokens) > 3 else None,
        )
    return NameStructure(
        tokens, "unknown", tokens[0], None, None, tokens[-1] if len(tokens) > 1 else None
    )
