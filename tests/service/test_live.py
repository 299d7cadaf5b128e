"""The real thing: ``flowpressure serve`` in a subprocess, and an ingest while it answers.

One store, many readers: the service holds the store read-only; ``flowpressure ingest``
in another process must get through while requests keep coming, every request must be
answered, and the new rows must show without a restart.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import polars as pl
import pytest

from flowpressure.data import sample
from tests.service.conftest import build_store

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowpressure", *args]


def _wait_until_up(base: str, server: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/v1/health", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not come up")


def _last_tna(client: httpx.Client, fund_id: str) -> float:
    rows = client.get("/v1/flows/fund", params={"fund_id": fund_id}).json()["rows"]
    return float(rows[-1]["tna"])


def test_ingest_while_serving(tmp_path: Path) -> None:
    db = build_store(tmp_path, kinds=("fund",))
    # The new file: F001's last row restated, and a fund the store has never seen.
    fund = sample.load("fund")
    f001 = fund.filter(fund_id="F001").tail(1).with_columns(pl.col("tna") * 1.5)
    newcomer = fund.filter(fund_id="F002").with_columns(fund_id=pl.lit("NEW1"))
    new_file = tmp_path / "restated.parquet"
    pl.concat([f001, newcomer]).write_parquet(new_file)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        _cli("serve", "--db", str(db), "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    statuses: list[int] = []
    retry_after: list[str | None] = []
    stop = threading.Event()

    def keep_asking() -> None:
        with httpx.Client(base_url=base, timeout=30.0) as c:
            while not stop.is_set():
                for params in ({"fund_id": "F003"}, {"fund_id": "F001", "start": "2018-01-01"}):
                    r = c.get("/v1/flows/fund", params=params)
                    statuses.append(r.status_code)
                    if r.status_code == 503:
                        retry_after.append(r.headers.get("retry-after"))

    try:
        _wait_until_up(base, server)
        with httpx.Client(base_url=base, timeout=30.0) as client:
            before = _last_tna(client, "F001")
            untouched = client.get("/v1/flows/fund", params={"fund_id": "F003"}).json()
            assert client.get("/v1/flows/fund", params={"fund_id": "NEW1"}).status_code == 404
            asker = threading.Thread(target=keep_asking)
            asker.start()
            time.sleep(0.5)  # requests in flight when the writer arrives
            ingest = subprocess.run(
                _cli("ingest", "fund", str(new_file), "--db", str(db), "--replace"),
                capture_output=True,
                text=True,
                timeout=120,
            )
            time.sleep(0.5)  # and after it
            stop.set()
            asker.join(timeout=60)
            assert ingest.returncode == 0, ingest.stderr
            assert len(statuses) > 10
            assert set(statuses) <= {200, 503}
            assert all(value is not None for value in retry_after)
            assert statuses.count(503) == 0, f"{statuses.count(503)} answers were 503"
            # the new data, without a restart
            assert _last_tna(client, "F001") == pytest.approx(before * 1.5, rel=1e-12)
            assert client.get("/v1/flows/fund", params={"fund_id": "NEW1"}).status_code == 200
            ids = client.get("/v1/entities", params={"kind": "fund"}).json()["ids"]
            assert "NEW1" in ids
            assert len(ids) == 101
            # nothing else changed
            assert client.get("/v1/flows/fund", params={"fund_id": "F003"}).json() == untouched
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert f"serving {db} at {base}" in err
    assert "Traceback" not in out + err
    assert "internal error" not in out + err


def test_serve_refuses_a_missing_store(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.duckdb"
    done = subprocess.run(
        _cli("serve", "--db", str(missing)), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "--db" in lines[0]
    assert "existing store file" in lines[0]
    assert "Traceback" not in done.stderr
