"""kinlink's tests. Every folder is a package (``tests.api``, ``tests.matching``, ...), so
modules with the same name in two folders (each folder's ``conftest``) never clash, and
shared helpers are imported relatively (``from .conftest import Env``)."""
