"""The occupancy family: whether someone is in the room."""

__all__: list[str] = []
