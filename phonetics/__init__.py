"""kinlink.phonetics: multilingual name normalisation, phonetic keys and name similarity.

Pure functions, no I/O at call time (the curated table is read once at
import). Every public function is total on arbitrary Unicode text and cached
by unique input, because caseload names are Zipf-distributed.
"""

from kinlink.phonetics.encode import EncodedName, encode_name, encode_names
from kinlink.phonetics.keys import name_keys, token_keys
from kinlink.phonetics.nicknames import canonical_token
from kinlink.phonetics.romanize import romanize
from kinlink.phonetics.scripts import detect_script
from kinlink.phonetics.similarity import name_similarity, token_similarity
from kinlink.phonetics.structure import NameStructure, split_name
from kinlink.phonetics.tokens import name_tokens, normalize_name, normalize_token

__all__ = [
    "EncodedName",
    "NameStructure",
    "canonical_token",
    "detect_script",
    "encode_name",
    "encode_names",
    "name_keys",
    "name_similarity",
    "name_tokens",
    "normalize_name",
    "normalize_token",
    "romanize",
    "split_name",
    "token_keys",
    "token_similarity",
]
