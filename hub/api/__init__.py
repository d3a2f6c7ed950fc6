"""The hub's REST API (``/api/v1``)."""

__all__: list[str] = []
