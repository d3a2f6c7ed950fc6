"""The lighting family: zones of lights and their scenes."""

__all__: list[str] = []
