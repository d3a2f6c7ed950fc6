"""The hub's FastAPI application: database, registry, ingest and API, owned by the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hub.access import Caller
from hub.alerts.metrics import alert_source
from hub.alerts.service import AlertService
from hub.alerts.store import AlertStore
from hub.api.auth import Authenticated
from hub.api.deps import HubState
from hub.api.limits import BodyLimit
from hub.api.main import api_router
from hub.api.responses import validation_error
from hub.api.routes.enrolment import ENROL_PATH, enrol_body_bytes
from hub.api.routes.health import healthz_router
from hub.api.routes.metrics import metrics_router
from hub.audit import Audit
from hub.commands import Commander
from hub.config_push import ConfigPusher
from hub.config_versions import ConfigVersions
from hub.configuration import Configuration
from hub.db import make_engine
from hub.enrolment import Enroller
from hub.erasures import Erasures
from hub.influx import InfluxConfig
from hub.ingest import Ingest
from hub.live import HubLive
from hub.login_limit import LoginLimiter
from hub.metrics import HubMetrics, hub_source, influx_source
from hub.migrate import upgrade
from hub.pruning import Pruner
from hub.ratings import Ratings
from hub.registry import load_sites
from hub.reports import Reports
from hub.rollup_metrics import rollup_source
from hub.rollups import UsageRollups
from hub.settings import HubSettings
from hub.store import Store
from hub.supervisor import Supervisor
from hub.users import Users
from hub.web import install_web
from protocol.aio import wait_within

logger = logging.getLogger(__name__)


def create_app(settings: HubSettings | None = None, *, connect_mqtt: bool = True) -> FastAPI:
    """The hub app; with ``connect_mqtt=False`` it serves the database without a broker."""
    settings = settings or HubSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        try:
            store = Store(
                engine,
                series_max=settings.room_series_max,
                clock_skew_max_s=settings.clock_skew_max_s,
            )
            await asyncio.to_thread(upgrade, engine)
            registry = None
            if settings.sites_file is not None:
                registry = await asyncio.to_thread(load_sites, settings.sites_file)
                await asyncio.to_thread(store.upsert_sites, registry.specs())
                logger.info("registry: %d sites from %s", len(registry.sites), settings.sites_file)
            ratings = Ratings.of(settings, registry)
            tz = ZoneInfo(settings.report_timezone)
            store.rollups = UsageRollups(ratings, tz) if settings.rollups else None
            await asyncio.to_thread(store.load_roster)
            logger.info("registry: %d rooms", len(store.roster))
            commander = Commander(
                store,
                None,
                root=settings.topic_root,
                hub_id=settings.hub_id,
                default_timeout_s=settings.command_timeout_s,
            )
            pruner = Pruner(
                store,
                keep=settings.dead_letters_max,
                max_age=timedelta(seconds=settings.dead_letters_max_age_s),
                interval_s=settings.prune_interval_s,
            )
            metrics = HubMetrics()
            ingest = (
                Ingest(settings, store, on_reply=commander.resolve, metrics=metrics)
                if connect_mqtt
                else None
            )
            commander.publisher = ingest
            backoff = {"min_s": settings.restart_min_s, "max_s": settings.restart_max_s}
            supervisor = None
            if ingest is not None:
                supervisor = Supervisor(f"hub {settings.hub_id} ingest", ingest.run, **backoff)
                ingest.on_batch = pruner.noted
            pruning = Supervisor(f"hub {settings.hub_id} pruning", pruner.run, **backoff)
            influx_config = InfluxConfig.from_settings(settings)
            influx = None
            if influx_config is not None and ingest is not None:
                from hub.influx.exporter import InfluxExporter  # only a hub that exports loads it

                influx = InfluxExporter(influx_config)
                ingest.observers.append(influx.observe)
                logger.info("InfluxDB export to %s, bucket %s", influx_config.safe_url,
                            influx_config.bucket)  # fmt: skip
            publish = ingest.publish if ingest is not None else None
            alerts: AlertService | None = None
            alerting: Supervisor | None = None
            live = HubLive(
                keep=settings.live_events_max,
                max_listeners=settings.live_listeners_max,
                telemetry_interval_s=settings.live_telemetry_interval_s,
                stream_max_s=settings.live_stream_max_s,
            )
            if settings.alerts:
                alerts = AlertService(AlertStore(engine), settings, publish=publish)
                if ingest is not None:
                    ingest.observers.append(alerts.observe)
                alerting = Supervisor(f"hub {settings.hub_id} alerts", alerts.run, **backoff)
                alerts.listeners.append(live.alert_changed)
            if ingest is not None:
                ingest.observers.append(live.observe)
            users = Users(
                engine,
                session_idle=timedelta(seconds=settings.session_idle_s),
                session_max=timedelta(seconds=settings.session_max_s),
                argon2_time_cost=settings.argon2_time_cost,
                argon2_memory_kib=settings.argon2_memory_kib,
            )
            retention = settings.audit_retention_days
            audit = Audit(engine, retention=timedelta(days=retention) if retention else None)
            pruner.audit = audit
            limiter = LoginLimiter(
                max_failures=settings.login_failures_max,
                address_failures=settings.login_address_failures_max,
                window_s=settings.login_window_s,
            )
            pusher = ConfigPusher(
                ConfigVersions(engine),
                ingest,
                audit,
                root=settings.topic_root,
                hub_id=settings.hub_id,
                ack_timeout_s=settings.config_push_timeout_s,
                retry_max_s=settings.config_retry_max_s,
            )
            app.state.configuration = Configuration(pusher.versions, pusher, audit)
            erasures = Erasures(
                engine,
                commander,
                retry_s=settings.erasure_retry_s,
                timeout_s=settings.erasure_timeout_s,
            )
            app.state.hub = HubState(
                settings,
                store,
                commander,
                ingest,
                users=users,
                audit=audit,
                limiter=limiter,
                metrics=metrics,
                supervisor=supervisor,
                pruner=pruner,
                config_pusher=pusher,
                alerts=alerts,
                influx=influx,
                reports=Reports(engine, ratings, tz),
                live=live,
                erasures=erasures,
                enroller=Enroller(max_bytes=settings.enrol_photo_max_bytes,
                                  max_px=settings.enrol_photo_max_px),
            )  # fmt: skip
            metrics.add_source(hub_source(app.state.hub))
            if alerts is not None:
                metrics.add_source(alert_source(alerts))
            if influx is not None:
                metrics.add_source(influx_source(influx.stats))
            if store.rollups is not None:
                metrics.add_source(rollup_source(store.rollups))
            pushing = Supervisor(f"hub {settings.hub_id} config push", pusher.run, **backoff)
            erasing = Supervisor(f"hub {settings.hub_id} erasures", erasures.run, **backoff)
            tasks = [
                asyncio.create_task(pruning.run(), name="hub-pruning"),
                asyncio.create_task(pushing.run(), name="hub-config-push"),
            ]
            if ingest is not None:  # without MQTT nothing can be sent
                ingest.observers.append(erasures.observe)
                tasks.append(asyncio.create_task(erasing.run(), name="hub-erasures"))
            if alerting is not None:
                tasks.append(asyncio.create_task(alerting.run(), name="hub-alerts"))
            task = asyncio.create_task(supervisor.run(), name="hub-ingest") if supervisor else None
            try:
                yield
            finally:
                if app.state.hub.enroller is not None:
                    app.state.hub.enroller.close()
                if ingest is not None:
                    await ingest.stop(task)
                if influx is not None:
                    await influx.stop()  # after the ingest: its last batches are exported
                pruning.stopping = pushing.stopping = erasing.stopping = True
                pruner.stop()
                pusher.stop()
                erasures.stop()
                if alerting is not None and alerts is not None:
                    alerting.stopping = True
                    alerts.stop()
                for t in tasks:
                    try:
                        await wait_within(t, 30)
                    except (TimeoutError, asyncio.CancelledError):
                        logger.warning("hub %s: %s did not stop in time", settings.hub_id, t)
                if alerts is not None:
                    await alerts.close()
        finally:
            engine.dispose()

    app = FastAPI(
        title="smartclass hub",
        version="0.1.0",
        openapi_url=None,  # served below, to signed-in callers only
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(api_router)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Annotated[Caller, Depends(Authenticated())]) -> JSONResponse:
        return JSONResponse(app.openapi())

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes,
        larger={ENROL_PATH: enrol_body_bytes(settings.enrol_photo_max_bytes)},
    )  # fmt: skip
    app.include_router(healthz_router)
    app.include_router(metrics_router)
    install_web(app)
    return app


__all__ = ["create_app"]
