"""The environment family: the room's CO2, temperature, humidity and light."""

__all__: list[str] = []
