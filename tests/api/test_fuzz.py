"""The API fuzzed against its own OpenAPI schema (schemathesis, bounded): no 500s.

Each operation gets a bounded number of generated requests (derandomised, so a
failure reproduces); every error response must have the API's one error shape.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from .conftest import World, make_env

schemathesis = pytest.importorskip("schemathesis", reason="pip install schemathesis")

EXAMPLES_PER_OPERATION = 12


def test_no_server_errors(world: World, tmp_path) -> None:
    env = make_env(world, tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", env.client.app)
    failures: list[str] = []
    operations = 0
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # A supervisor reaches every reviewer endpoint; admin endpoints get an admin.
        user = "admin" if operation.path.startswith("/api/v1/admin") else "sup_a"

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            response = case.call(headers=env.auth(user))  # noqa: B023 - run() is called at once
            calls[0] += 1
            where = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                failures.append(f"{where} -> {response.status_code}: {response.text[:200]}")
            elif (
                response.status_code >= 400
                and case.path.startswith("/api/")
                and set(response.json()) != {"error"}
            ):
                failures.append(f"{where} -> error body {response.text[:200]}")

        run()
    env.store.close()
    assert operations >= 15 and calls[0] >= operations * 3
    assert not failures, "\n".join(sorted(set(failures))[:20])
