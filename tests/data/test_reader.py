"""One store, many readers: a long-lived StoreReader lets ingests from other processes through."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import polars as pl
import pytest

from flowpressure import StoreError
from flowpressure.data import Store, StoreReader
from flowpressure.data._locking import writer_waiting


def fund_file(path: Path, funds: int) -> Path:
    rows = [
        (f"F{i:03d}", d, 100.0 + i, 0.01)
        for i in range(funds)
        for d in ("2024-01-31", "2024-02-29", "2024-03-31")
    ]
    pl.DataFrame(rows, schema=["fund_id", "date", "tna", "ret"], orient="row").write_csv(path)
    return path


def count_funds(reader: StoreReader) -> int:
    with reader.read() as store:
        return int(store.table("fund").count("*").fetchall()[0][0])


def run_python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "fp.duckdb"
    with Store(path) as store:
        store.ingest("fund", fund_file(tmp_path / "a.csv", 2))
    return path


def test_reader_sees_an_ingest_from_another_process_without_reopening_by_hand(
    db: Path, tmp_path: Path
) -> None:
    bigger = fund_file(tmp_path / "b.csv", 5)
    with StoreReader(db, wait=30) as reader:
        assert count_funds(reader) == 6
        # the reader holds the file open; a writer in another process must still get in
        proc = run_python(
            f"""
            from flowpressure.data import Store
            with Store({str(db)!r}, lock_wait=30) as s:
                print(s.ingest("fund", {str(bigger)!r}, replace=True).rows)
            """
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == "15"
        assert count_funds(reader) == 15
        assert reader.generation == 2  # opened again after the writer


def test_reads_in_threads_during_an_ingest_all_succeed(db: Path, tmp_path: Path) -> None:
    bigger = fund_file(tmp_path / "b.csv", 50)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    reader = StoreReader(db, wait=30)

    def poll() -> None:
        while not stop.is_set():
            try:
                seen.append(count_funds(reader))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
                return

    threads = [threading.Thread(target=poll) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        proc = run_python(
            f"""
            from flowpressure.data import Store
            with Store({str(db)!r}, lock_wait=30) as s:
                s.ingest("fund", {str(bigger)!r}, replace=True)
            """
        )
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        deadline = time.monotonic() + 10
        while 150 not in seen and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        for t in threads:
            t.join()
        reader.close()
    assert not errors
    # every read saw a committed state: the old panel or the new one, never a mixture
    assert set(seen) <= {6, 150}
    assert seen[-1] == 150


def test_a_writer_that_keeps_the_file_makes_a_read_fail_after_its_wait(db: Path) -> None:
    proc = run_python(
        f"""
        import time
        from flowpressure.data import Store
        with Store({str(db)!r}) as s:
            print("locked", flush=True)
            time.sleep(5)
        """
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    reader = StoreReader(db, wait=0.3)
    try:
        with pytest.raises(StoreError, match="being written"):
            count_funds(reader)
    finally:
        proc.kill()
        proc.communicate()
    assert count_funds(reader) == 6  # once the writer is gone the same reader works
    reader.close()
    with pytest.raises(StoreError, match="closed"):
        count_funds(reader)


def test_a_dead_writers_marker_is_ignored_and_removed(db: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    marker = db.parent / f"{db.name}.writer.{int(dead.stdout)}"
    marker.touch()
    assert not writer_waiting(db)
    assert not marker.exists()
    with StoreReader(db, wait=1) as reader:
        assert count_funds(reader) == 6


def test_a_live_writers_marker_makes_an_idle_reader_let_go(db: Path) -> None:
    reader = StoreReader(db, wait=5)
    assert count_funds(reader) == 6
    marker = db.parent / f"{db.name}.writer.{os.getppid()}"  # a live process that is not us
    marker.touch()
    try:
        deadline = time.monotonic() + 5
        while reader._con is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert reader._con is None  # the watcher closed the idle connection
    finally:
        marker.unlink()
    assert count_funds(reader) == 6
    reader.close()


def test_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="db"):
        count_funds(StoreReader(tmp_path / "none.duckdb"))
