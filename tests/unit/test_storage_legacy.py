"""0.8/0.10-era logs: magic 0/1 entries are recovered (validated with wire.legacy) and read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kafkatools.storage.fs import FileSystem
from kafkatools.storage.segment import LogSegment
from tests.unit.test_storage_batches import build_legacy


def test_legacy_magic0_segment_is_read(tmp_path: Path) -> None:
    d = tmp_path / "old-0"
    d.mkdir()
    (d / "00000000000000000000.log").write_bytes(b"".join(build_legacy(i, None, b"m%d" % i) for i in range(5)))
    seg = LogSegment(str(d), 0, index_interval_bytes=4096, max_index_bytes=4096, fs=FileSystem())
    assert seg.needs_recovery  # 0.8 dirs without an index file
    try:
        import kafkatools.wire.legacy  # noqa: F401
    except ImportError:
        pytest.fail("kafkatools.wire.legacy (validate_entry) has not landed yet; magic 0 recovery needs it")
    assert seg.recover() == 0
    assert seg.next_offset == 5
    info = seg.translate_offset(3)
    assert info is not None and info.magic == 0 and info.base_offset == 3
