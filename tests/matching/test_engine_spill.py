"""DuckDB spills into a private folder under the temporary directory, never ./.tmp."""

import gc
import os

from kinlink.matching.engine import Engine


def test_spill_directory_is_private_and_removed(tmp_path, monkeypatch):
    root = tmp_path / "spill-root"
    monkeypatch.setenv("KINLINK_TEMP_DIR", str(root))
    monkeypatch.chdir(tmp_path)
    engine = Engine("duckdb")
    con = engine.db_api.duckdb_con
    (setting,) = con.execute("select current_setting('temp_directory')").fetchone()
    assert setting == engine.spill_directory
    assert os.path.dirname(setting) == str(root) and os.path.isdir(setting)
    # make DuckDB spill: a sort well over a small memory limit
    con.execute("SET memory_limit = '64MB'")
    con.execute("SET threads = 1")
    n = con.execute(
        "select count(*) from (select i, (i * 7919 % 1000003)::varchar as h"
        " from range(3000000) t(i) order by h)"
    ).fetchone()[0]
    assert n == 3_000_000
    assert os.listdir(setting)  # DuckDB wrote its temporary files here
    assert not (tmp_path / ".tmp").exists()  # nothing in the working directory
    spill = engine.spill_directory
    con.close()
    del engine, con
    gc.collect()
    assert not os.path.exists(spill)


def test_spill_directory_defaults_to_the_system_temporary_directory(monkeypatch):
    import tempfile

    monkeypatch.delenv("KINLINK_TEMP_DIR", raising=False)
    engine = Engine("duckdb")
    assert os.path.dirname(engine.spill_directory) == tempfile.gettempdir()
