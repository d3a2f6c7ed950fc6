"""The noise family: the classroom's A-weighted sound level, LAeq in dB(A)."""

__all__: list[str] = []
