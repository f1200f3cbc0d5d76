from typer.testing import CliRunner

from kinlink.cli import app
from kinlink.cli import commands as _commands  # noqa: F401  (registers commands)


def test_version_and_db_status(kinlink_home):
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).output.startswith("kinlink ")
    out = runner.invoke(app, ["db", "status"]).output
    assert str(kinlink_home) in out
    current, newest = out.split("schema:")[1].split("(newest:")
    assert current.strip() == newest.strip(" )\n")
