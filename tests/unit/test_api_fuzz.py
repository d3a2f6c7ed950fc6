"""The hub API against its own OpenAPI description: schemathesis, in process, without a broker."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.access import Role
from hub.app import create_app
from hub.db import create_schema, make_engine
from hub.settings import HubSettings
from hub.store import Store
from hub.users import Users
from tests.unit.hub_helpers import ROOM, SITE, bearer, event, item, state, status, telemetry

OFFLINE = r"/(commands|config/push|panel/pairing|attendance/(consent|roster|enrol))$"
"""Operations that need the broker: without one they answer 503, as documented."""
ENDLESS = r"/stream$"
"""The live stream never ends by itself: its own tests read it (tests/unit/test_live.py)."""

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 12, "database": "none", "mode": "all"},
        "operations": [
            {
                "include-path-regex": OFFLINE,
                "checks": {
                    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}
                },
            },
            {"include-path-regex": ENDLESS, "enabled": False},
        ],
    }
)

# Generated from the description alone: building an app touches no database.
schema = schemathesis.openapi.from_dict(
    create_app(HubSettings(), connect_mqtt=False).openapi(), config=CONFIG
)


TOKENS: dict[Role, dict[str, str]] = {}
"""A real token of a user of each role (made with the app's database)."""


@pytest.fixture(scope="module")
def hub_app(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> FastAPI:
    """One app and database for every operation and example, with a room worth reading.

    Hypothesis runs all the examples of an operation inside one test call, so a fixture of the
    function would not be fresh for each example anyway. Schemathesis starts the app's lifespan
    on its first request and ends it with each test.
    """
    tmp_path = tmp_path_factory.mktemp("fuzz")
    sites = tmp_path / "sites.yaml"
    sites.write_text(f"sites:\n  - id: {SITE}\n    name: A school\n    rooms: ['{ROOM}', 6a2]\n")
    url = module_database_url  # the module runs on SQLite, then on PostgreSQL
    engine = make_engine(url)
    try:  # something to show: a room online with devices, readings, events and dead letters
        create_schema(engine)
        Store(engine).write_batch(
            [
                status("online", ts=1),
                state("lights", ts=2, front={"on": True, "level": 60}),
                event(1, ts=3),
                *(telemetry(i, ts=i * 30) for i in range(2, 40)),
                item("sc/a/b/telemetry", b"\xff{not json"),
            ]
        )
        users = Users(engine)
        for role in Role:
            TOKENS[role] = bearer(users, role)
    finally:
        engine.dispose()
    return create_app(HubSettings(database_url=url, sites_file=sites), connect_mqtt=False)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Half of the generated rooms (and schools) are the known one: random ids alone only ever
    meet a 404."""
    if path_parameters and {"site", "room"} <= path_parameters.keys():
        known = {**path_parameters, "site": SITE, "room": ROOM}
        return st.sampled_from([path_parameters, known])
    if path_parameters and "site" in path_parameters:
        return st.sampled_from([path_parameters, {**path_parameters, "site": SITE}])
    return st.just(path_parameters)


@pytest.mark.parametrize("role", list(Role))
@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, hub_app: FastAPI, role: Role
) -> None:
    """As each role: what one may not do is a documented 403, never a server error."""
    case.call_and_validate(
        app=hub_app,
        headers=TOKENS[role],
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
