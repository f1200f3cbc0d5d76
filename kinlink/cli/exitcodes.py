"""Exit codes scripts can rely on (documented in README.md, section CLI)."""

OK = 0
#: Something unexpected went wrong (a bug): please report it.
INTERNAL_ERROR = 1
#: The command line itself was wrong (Typer/Click's own usage errors also use 2).
USAGE = 2
#: The input file could not be read at all (missing, binary, wrong encoding, empty).
BAD_FILE = 3
#: Some rows were invalid. With ``--on-error=skip`` the valid rows were stored;
#: with ``--on-error=abort`` (the default) nothing was stored.
INVALID_ROWS = 4
#: The store could not be reached or is locked by another process.
STORE_UNAVAILABLE = 5
#: A requested object (record, model, run) does not exist.
NOT_FOUND = 6
#: ``kinlink audit verify``: the audit log's hash chain is broken (an entry was
#: altered, removed or reordered).
AUDIT_BROKEN = 7
#: Another ``kinlink sweep`` holds the sweep lock (nothing was done; try again later).
SWEEP_RUNNING = 8
#: ``--engine spark`` but pyspark or Java is missing (``pip install 'kinlink[spark]'``).
ENGINE_UNAVAILABLE = 9
