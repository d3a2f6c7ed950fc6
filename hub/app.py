"""The hub's FastAPI application: database, registry, ingest and API, owned by the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from hub.api.deps import HubState
from hub.api.limits import BodyLimit
from hub.api.main import api_router
from hub.api.responses import validation_error
from hub.commands import Commander
from hub.db import create_schema, make_engine
from hub.ingest import Ingest
from hub.registry import load_sites
from hub.settings import HubSettings
from hub.store import Store

logger = logging.getLogger(__name__)


def create_app(settings: HubSettings | None = None, *, connect_mqtt: bool = True) -> FastAPI:
    """The hub app; with ``connect_mqtt=False`` it serves the database without a broker."""
    settings = settings or HubSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        try:
            store = Store(engine)
            await asyncio.to_thread(create_schema, engine)  # Alembic migrations come later
            if settings.sites_file is not None:
                registry = await asyncio.to_thread(load_sites, settings.sites_file)
                await asyncio.to_thread(store.upsert_sites, registry.specs())
                logger.info("registry: %d sites from %s", len(registry.sites), settings.sites_file)
            commander = Commander(
                store,
                None,
                root=settings.topic_root,
                hub_id=settings.hub_id,
                default_timeout_s=settings.command_timeout_s,
            )
            ingest = Ingest(settings, store, on_reply=commander.resolve) if connect_mqtt else None
            commander.publisher = ingest
            app.state.hub = HubState(settings, store, commander, ingest)
            task = asyncio.create_task(ingest.run(), name="hub-ingest") if ingest else None
            try:
                yield
            finally:
                if ingest is not None:
                    await ingest.stop(task)
        finally:
            engine.dispose()

    app = FastAPI(
        title="smartclass hub",
        version="0.1.0",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.include_router(api_router)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


__all__ = ["create_app"]
