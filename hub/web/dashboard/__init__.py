"""The IT dashboard: the schools at a glance, alerts and help requests as they come, a room's
devices, charts, configuration and tablets, the fleet, configuration editing and the users of
IT's schools. Pages are rendered on the server; the live stream (``/api/v1/stream``) tells a
page which of its parts to fetch again, and every change goes through the JSON API."""

from hub.web.dashboard.routes import router

__all__ = ["router"]
