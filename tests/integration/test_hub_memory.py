"""The hub's memory stays flat under a sustained fuzz of large and malformed messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartclass.bench_memory import measure_memory

pytestmark = pytest.mark.integration


def test_the_hubs_memory_stays_flat_under_a_fuzz_of_large_and_malformed_messages(
    tmp_path: Path,
) -> None:
    result = measure_memory(rounds=3, per_round=480, work=tmp_path)
    print(f"RSS idle {result.baseline_kib} KiB, after warm-up {result.before_kib} KiB, "
          f"after {result.messages} messages {result.after_kib} KiB")  # fmt: skip
    assert result.ratio < 1.5
    assert result.ratio_idle < 1.5
