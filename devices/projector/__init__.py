"""The projector family: projectors driven over PJLink, on the network or simulated."""

__all__: list[str] = []
