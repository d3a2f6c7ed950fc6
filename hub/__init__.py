"""The smartclass hub: MQTT ingest, storage and the REST API."""

__all__: list[str] = []
