"""Buses that several device families share, and the chip drivers on them (I2C: SCD4x, BH1750)."""

__all__: list[str] = []
