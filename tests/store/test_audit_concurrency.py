"""Two processes writing the audit log of one SQLite file at once: no error, no fork.

Two uvicorn workers share one SQLite store; each request appends to the hash-chained
audit log. Without the write lock taken before the chain's head is read, both read
the same head and one fails on the unique ``seq`` more often than it retries.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WRITER = """
import sys
from kinlink.store import Store
from kinlink.store.audit import Event, record
store = Store(sys.argv[1])
for i in range(int(sys.argv[2])):
    record(store, Event(actor=sys.argv[3], action="view_record", record_ids=[str(i)]), attempts=1)
"""


def test_two_processes_append_without_collisions(tmp_path: Path) -> None:
    from kinlink.store import Store
    from kinlink.store.audit import count, verify

    url = f"sqlite:///{tmp_path / 'kinlink.sqlite'}"
    store = Store(url)
    with store.session() as session:  # creates and migrates the file first
        assert count(session) == 0
    n = 150
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(n), f"worker{i}"], stderr=subprocess.PIPE
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()[-2000:]
    with store.session() as session:
        result = verify(session)
        assert result.entries == 2 * n
        assert result.ok, result.problems
