"""The shipped ETH/SOL/AVAX prices of 10 October 2025 (scenarios/data/alts_2025_10_10.csv): their source header,
their window and bars, and, given the raw files, an exact rebuild."""

import csv
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
ALTS = ROOT / "scenarios" / "data" / "alts_2025_10_10.csv"
DERIVE = ROOT / "scenarios" / "data" / "derive_alts_2025_10_10.py"

# Set to the folder of the raw files the script's docstring lists to check that the shipped file is rebuilt exactly.
DATA_ENV = "LIQSIM_2025_10_10_ALTS_DATA"


def _rows():
    lines = [line for line in ALTS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def test_alts_file_names_its_sources():
    text = " ".join(line for line in ALTS.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    for needed in (
        "aaronwu2017/TheGlory",
        "929fd9c3",
        "BTCUSD_PERP-1m-2025-10-10.zip",
        "gemini_trades_2025-10-10_ETHUSD.csv.gz",
        "gemini_trades_2025-10-10_SOLUSD.csv.gz",
        "binance-delivery_trades_2025-10-10_AVAXUSD_PERP.csv.gz",
        "derive_alts_2025_10_10.py",
    ):
        assert needed in text, needed


def test_alts_file_is_small_and_covers_the_btc_window():
    assert ALTS.stat().st_size < 60_000
    rows = _rows()
    t = np.array([int(r["timestamp"]) for r in rows])
    step = np.array([int(r["seconds"]) for r in rows])
    assert t[0] == 1_760_126_400 and t[-1] + step[-1] == 1_760_126_400 + 3 * 3600  # 20:00 to 23:00 UTC
    assert (t[1:] == t[:-1] + step[:-1]).all()  # bars follow each other without gaps
    fine = (t >= 1_760_126_400 + 70 * 60) & (t < 1_760_126_400 + 90 * 60)  # 21:10-21:30 UTC
    assert (step[fine] == 10).all() and (step[~fine] == 60).all()
    # every 1-minute row has the BTC index bar; AVAX's perpetual traded in every bar
    assert all(r["btc_close"] for r, s in zip(rows, step) if s == 60)
    assert all(r["avax_close"] for r in rows)
    for r in rows:
        for coin in ("btc", "eth", "sol", "avax"):
            if r[f"{coin}_close"]:
                o, h, l, c = (float(r[f"{coin}_{k}"]) for k in ("open", "high", "low", "close"))
                assert l <= min(o, c) <= max(o, c) <= h


@pytest.mark.skipif(not os.environ.get(DATA_ENV), reason=f"set {DATA_ENV} to the raw files' folder")
def test_alts_file_is_rebuilt_exactly(capsys):
    spec = importlib.util.spec_from_file_location("derive_alts_2025_10_10", DERIVE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([os.environ[DATA_ENV], "--out", str(ALTS), "--check"]) == 0
