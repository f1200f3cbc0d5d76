"""kinlink: family tracing and record matching for child protection in emergencies.

The record's journey is laid out as sub-packages, in the order a record meets them:
``kinlink.ingest`` (read and validate record format v1) -> ``kinlink.store``
(keep it, versioned) -> ``kinlink.phonetics`` (normalise names) ->
``kinlink.blocking`` (find candidate pairs) -> ``kinlink.matching`` (score,
rank, cluster) -> ``kinlink.api`` (caseworkers review). ``kinlink.eval`` and
``kinlink.datasets`` measure the whole.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kinlink")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
