"""Imports every command module so each can register itself with the Typer app.

A command module lives at ``kinlink/cli/cmd_<name>.py`` and decorates its
function with ``@app.command()``; discovery by name keeps command modules
independent of each other.
"""

import importlib
import pkgutil

import kinlink.cli as _cli

for _info in sorted(pkgutil.iter_modules(_cli.__path__), key=lambda m: m.name):
    if _info.name.startswith("cmd_"):
        importlib.import_module(f"kinlink.cli.{_info.name}")
