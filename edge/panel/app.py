"""The panel's web app: the page, the pairing page, a small JSON API and the live stream.

A browser without a paired tablet's cookie sees only the pairing page: ``/`` sends it to
``/pair``, and every ``/api`` route answers 401. Actions take JSON only (a form posted from
another site cannot send it), and the cookie is ``SameSite=Strict`` and ``HttpOnly``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import parse_qs

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from edge.panel.control import HELP_REASONS, Outcome
from edge.panel.pairing import COOKIE, COOKIE_MAX_AGE_S, Paired, normalize
from edge.panel.views import layout_token
from protocol.attendance import STUDENT_ID_PATTERN
from protocol.help import HelpTopic
from ui.i18n import N_
from ui.live import LiveEvent, last_event_id
from ui.pages import Pages, language_routes, locale_of, mount_static

if TYPE_CHECKING:
    from edge.panel.server import PanelServer

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_PATH = "/static/panel"
BODY_MAX_BYTES = 4096
"""Longest request body the panel reads (a tap's JSON is a few dozen bytes)."""
HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
"""Sent with every answer: no framing, no sniffing, and ``/pair?code=`` never in a Referer."""
SCENE_LABELS = {
    "lesson": N_("Lesson"),
    "projection": N_("Projection"),
    "off": N_("All off"),
    "reading": N_("Reading"),
}
ZONE_LABELS = {
    "front": N_("Front"),
    "middle": N_("Middle"),
    "back": N_("Back"),
    "board": N_("Board"),
    "window": N_("Window side"),
    "door": N_("Door side"),
}
INPUT_LABELS = {"video": N_("Video"), "network": N_("Network"), "usb": "USB", "vga": "VGA",
                "hdmi": "HDMI", "dvi": "DVI", "dp": "DisplayPort"}  # fmt: skip
"""Names a room file gives its scenes, zones and inputs, as the panel shows them (others: as
they are written)."""
REASON_LABELS = {
    "projector": N_("Projector"),
    "sound": N_("Sound"),
    "network": N_("Network"),
    "other": N_("Something else"),
}
MANUAL_BY = "teacher (panel)"
"""Who a mark made on the room's tablet is recorded as made by (the tablet is the room's)."""
DIMMER_LEVELS = (30, 70, 100)
"""The levels a dimmer zone offers (big buttons, not a slider a finger misses)."""


class HelpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: HelpTopic
    text: str = Field(default="", max_length=150)


class MarkBody(BaseModel):
    """A teacher's correction of one student's mark for the current period."""

    model_config = ConfigDict(extra="forbid")

    student: str = Field(pattern=STUDENT_ID_PATTERN)
    status: Literal["present", "late", "absent"]


class NoBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _input_label(name: str) -> tuple[str, str]:
    """(label to translate, number) of an input name: ``hdmi1`` → (HDMI, 1)."""
    match = re.fullmatch(r"([a-z]+)[_-]?(\d*)", name)
    if match is None or match[1] not in INPUT_LABELS:
        return name, ""
    return INPUT_LABELS[match[1]], match[2]


class Guard:
    """Around the whole app: refuse a body over ``BODY_MAX_BYTES`` (413) or of no stated
    length (411) before it is read, add ``HEADERS`` to every answer, and turn any exception
    into a 500 (logged): a fault of the panel never goes further than its request."""

    def __init__(self, app: ASGIApp, label: str) -> None:
        self.app = app
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if scope["method"] in ("POST", "PUT", "PATCH") and (length is None or not length.isdigit()):
            await JSONResponse({"detail": "say the body's length (Content-Length)"}, 411)(
                scope, receive, send
            )
            return
        if length is not None and length.isdigit() and int(length) > BODY_MAX_BYTES:
            await JSONResponse({"detail": "request body too large"}, 413)(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.lower().encode(), v.encode()) for k, v in HEADERS.items()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("%s: panel: %s %s failed", self.label, scope["method"], scope["path"])
            if not started:
                response = JSONResponse({"detail": "the panel failed; see the agent's log"}, 500)
                await response(scope, receive, send_with_headers)


def parse(model: type[M], data: Any) -> M:
    """``data`` as ``model``, or a 422 that names the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:5]
        ]
        raise HTTPException(422, "; ".join(problems)) from None


def make_app(server: PanelServer) -> FastAPI:
    """The panel of one room (``server`` holds its views, controls and pairing)."""
    app = FastAPI(title="smartclass panel", docs_url=None, redoc_url=None, openapi_url=None)
    pages = Pages(TEMPLATES, app_name="panel", globals={"static_panel": STATIC_PATH})
    view, controls, pairing = server.view, server.controls, server.agent.pairing

    def paired(request: Request) -> bool:
        return pairing.paired(request.cookies.get(COOKIE))

    def require_tablet(request: Request) -> None:
        if not paired(request):
            raise HTTPException(401, "this tablet is not paired with the room: open /pair")

    async def json_body(request: Request) -> Any:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(415, "send JSON (Content-Type: application/json)")
        try:
            return await request.json()
        except ValueError:
            raise HTTPException(400, "the body is not JSON") from None

    def answer(outcome: Outcome) -> JSONResponse:
        return JSONResponse(outcome.body, outcome.status)

    # --- pages ----------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    async def panel_page(request: Request) -> Response:
        if not paired(request):
            return RedirectResponse("/pair", 303)
        return pages.render(request, "panel.html", **_page_context(server))

    @app.get("/pair", include_in_schema=False)
    async def pair_page(request: Request, code: str = "") -> Response:
        if paired(request):
            return RedirectResponse("/", 303)
        return pages.render(request, "pair.html", code=normalize(code)[:16], error=None)

    @app.post("/pair", include_in_schema=False)
    async def pair(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        code = (form.get("code") or [""])[0][:64]
        locale = locale_of(request)
        result = await asyncio.to_thread(pairing.redeem, code)
        if isinstance(result, Paired):
            paired_now = RedirectResponse("/", 303)
            paired_now.set_cookie(
                COOKIE, result.token, max_age=COOKIE_MAX_AGE_S, httponly=True,
                samesite="strict", path="/",
            )  # fmt: skip
            server.published_panel()  # paired_tablets changed: the hub sees it
            return paired_now
        if result.reason == "locked":
            minutes = max(1, round(result.retry_after_s / 60))
            error = pages.text(locale, N_("Too many wrong codes. Try again in %(m)s minutes."))
            status, headers = 429, {"Retry-After": str(round(result.retry_after_s))}
            error = error % {"m": minutes}
        else:
            wrong = N_(
                "This code is wrong or has expired. Ask IT for a new one. Attempts left: %(n)s"
            )
            error = pages.text(locale, wrong)
            status, headers = 400, {}
            error = error % {"n": result.attempts_left}
        response = pages.render(request, "pair.html", status_code=status, code="", error=error)
        response.headers.update(headers)
        return response

    # --- the API ----------------------------------------------------------------------

    @app.get("/api/state")
    async def state(request: Request) -> JSONResponse:
        require_tablet(request)
        return JSONResponse(view.snapshot(), headers={"Cache-Control": "no-store"})

    @app.get("/api/stream")
    async def stream(request: Request, after: str | None = None) -> Response:
        require_tablet(request)
        token = request.cookies.get(COOKIE)
        feed = view.feed
        if feed.listeners >= feed.max_listeners:
            return Response(status_code=503, headers={"Retry-After": "5"})
        last = last_event_id(request.headers.get("last-event-id"), after)

        async def events() -> AsyncIterator[bytes]:
            async for chunk in feed.stream(last):
                if not pairing.paired(token):  # unpaired meanwhile: say so and end
                    yield LiveEvent(feed.last_id, "unpaired", {}).encode()
                    return
                if server.closing:
                    return
                yield chunk

        return StreamingResponse(
            events(), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )  # fmt: skip

    @app.post("/api/devices/{device}/actions/{action}")
    async def device_action(request: Request, device: str, action: str) -> JSONResponse:
        require_tablet(request)
        params = await json_body(request)
        if not isinstance(params, dict):
            raise HTTPException(422, "the body is a JSON object of the action's parameters")
        return answer(await controls.act(device[:64], action[:64], params))

    @app.post("/api/lesson/start")
    async def start_lesson(request: Request) -> JSONResponse:
        require_tablet(request)
        parse(NoBody, await json_body(request))
        return answer(await controls.start_lesson())

    @app.post("/api/lesson/end")
    async def end_lesson(request: Request) -> JSONResponse:
        require_tablet(request)
        parse(NoBody, await json_body(request))
        return answer(await controls.end_lesson())

    @app.post("/api/help")
    async def ask_help(request: Request) -> JSONResponse:
        require_tablet(request)
        body = parse(HelpBody, await json_body(request))
        return answer(await controls.ask_help(body.reason, body.text))

    @app.post("/api/help/cancel")
    async def cancel_help(request: Request) -> JSONResponse:
        require_tablet(request)
        parse(NoBody, await json_body(request))
        return answer(await controls.cancel_help())

    @app.post("/api/attendance/mark")
    async def mark_attendance(request: Request) -> JSONResponse:
        require_tablet(request)
        body = parse(MarkBody, await json_body(request))
        params = {"student": body.student, "status": body.status, "by": MANUAL_BY}
        return answer(await controls.act("attendance", "mark", params))

    app.include_router(language_routes())
    mount_static(app)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="panel-static")
    app.add_middleware(Guard, label=server.agent.label)
    return app


def _page_context(server: PanelServer) -> dict[str, Any]:
    """What the panel page is built of: the room's controls (their layout) and the snapshot."""
    devices = []
    for device in server.view.controlled():
        config = server.agent.room.devices.get(device.id)
        if device.family == "lighting":
            zones = getattr(config, "zones", {})
            scenes = list(getattr(device, "scenes", {}) or {})
            zone_list = [
                {
                    "id": z,
                    "label": ZONE_LABELS.get(z, z),
                    "dimmable": getattr(c, "kind", "") == "dimmer",
                }
                for z, c in zones.items()
            ]
            devices.append({
                "id": device.id, "family": "lighting", "zones": zone_list,
                "scenes": [{"id": s, "label": SCENE_LABELS.get(s, s)} for s in scenes],
            })  # fmt: skip
        else:
            inputs = list(getattr(config, "inputs", {}))
            devices.append({
                "id": device.id, "family": "projector",
                "inputs": [{"id": i, "label": _input_label(i)} for i in inputs],
            })  # fmt: skip
    snapshot = server.view.snapshot()
    layouts = {d: v.get("layout") for d, v in snapshot["devices"].items()}
    return {
        "title": snapshot["room"]["name"],
        "devices": devices,
        "snapshot": snapshot,
        "layouts": layouts,
        "layout": layout_token(sorted(layouts.items())),
        "reasons": [{"id": r, "label": REASON_LABELS[r]} for r in HELP_REASONS],
        "levels": DIMMER_LEVELS,
    }


__all__ = ["BODY_MAX_BYTES", "HEADERS", "make_app"]
