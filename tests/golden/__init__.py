"""Golden runs: small scenarios whose whole output is pinned, so that any change of the engine's numbers shows.

Each scenario ``scenarios/<name>.toml`` has ``expected/<name>.json``: its summary (without ``runtime_s``, which
measures the machine, not the model) and, for each of the ``fills``, ``series`` and ``accounts`` arrays, its row
count and SHA-256 digests. ``tests/test_golden.py`` compares a fresh run with them; ``regenerate.py`` writes them.
README.md in this folder says when and how to regenerate.

A digest is taken field by field: each field's values as contiguous little-endian bytes (with the field's dtype),
never the records' raw bytes, so the padding between fields of the aligned record dtypes never enters it. The
array's digest covers its dtype's layout (``dtype.descr``), its length and every field's digest. Summary floats are
stored as JSON numbers, which Python writes with ``repr``: they read back as the very same floats, so the summary is
compared exactly (the engine is bit-reproducible: no fastmath, fixed seeds).
"""

import hashlib
import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
EXPECTED = HERE / "expected"
TABLES = ("fills", "series", "accounts")
#: Summary keys that measure the run (wall-clock time), not the model; left out of the golden summary.
VOLATILE = frozenset({"runtime_s"})


def names():
    """Every golden scenario's name (the TOML files' stems), sorted."""
    return sorted(p.stem for p in SCENARIOS.glob("*.toml"))


def stable_summary(summary):
    """The summary without :data:`VOLATILE` keys, as JSON reads it back (tuples become lists)."""

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in VOLATILE}
        if isinstance(obj, (list, tuple)):
            return [strip(v) for v in obj]
        return obj

    return json.loads(json.dumps(strip(summary), allow_nan=False))


def _sha256(*parts):
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def table_digest(arr):
    """``{"rows", "sha256", "fields": {name: sha256}}`` of a structured array (see the module docstring)."""
    arr = np.asarray(arr)
    fields = {}
    for name in arr.dtype.names or (None,):
        col = np.ascontiguousarray(arr if name is None else arr[name])
        col = col.astype(col.dtype.newbyteorder("<"), copy=False)
        fields[name or ""] = _sha256(col.dtype.str, col.shape, col.tobytes())
    whole = _sha256(arr.dtype.descr, arr.shape, *(f"{k}={v}" for k, v in fields.items()))
    return {"rows": int(arr.shape[0]), "sha256": whole, "fields": fields}


def golden(result):
    """What is pinned of a :class:`sim.Result`: the stable summary and each array's digests."""
    return {
        "summary": stable_summary(result.summary),
        "tables": {table: table_digest(getattr(result, table)) for table in TABLES},
    }


def run(name):
    """Run the golden scenario ``name`` and return :func:`golden` of its result."""
    import sim

    return golden(sim.run(sim.load_scenario(SCENARIOS / f"{name}.toml")))


def expected_path(name):
    return EXPECTED / f"{name}.json"


def load_expected(name):
    """The stored expectation of ``name``, or None if there is none."""
    path = expected_path(name)
    return json.loads(path.read_text()) if path.exists() else None


def dumps(data):
    """The text of an expected file (stable key order, one key per line, floats by repr)."""
    return json.dumps(data, indent=1, allow_nan=False) + "\n"


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(obj, list):
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: obj}


def _change(old, new):
    """How a summary value changed, for people: both reprs, and the difference for two floats."""
    text = f"{old!r} -> {new!r}"
    if isinstance(old, float) and isinstance(new, float) and math.isfinite(old) and math.isfinite(new):
        diff = new - old
        rel = f", relative {diff / abs(old):+.3g}" if old else ""
        text += f" (difference {diff:+.6g}{rel})"
    return text


def differences(expected, actual):
    """Readable lines saying how ``actual`` differs from ``expected`` (both :func:`golden` dicts); [] if equal.

    Summary values are compared by ``repr`` (so 0.0 and -0.0, or 1 and 1.0, differ), tables by digest.
    """
    lines = []
    old, new = _flatten(expected["summary"]), _flatten(actual["summary"])
    for key in old.keys() | new.keys():
        if key not in new:
            lines.append(f"summary {key}: {old[key]!r} -> (gone)")
        elif key not in old:
            lines.append(f"summary {key}: (new) -> {new[key]!r}")
        elif repr(old[key]) != repr(new[key]):
            lines.append(f"summary {key}: {_change(old[key], new[key])}")
    lines.sort()
    for table in TABLES:
        was, now = expected["tables"][table], actual["tables"][table]
        if was["sha256"] == now["sha256"]:
            continue
        parts = [f"{table}: digest differs"]
        if was["rows"] != now["rows"]:
            parts.append(f"{was['rows']} rows -> {now['rows']}")
        fields = list(now["fields"]) + [f for f in was["fields"] if f not in now["fields"]]
        changed = [f for f in fields if was["fields"].get(f) != now["fields"].get(f)]
        if changed:
            parts.append("fields changed: " + ", ".join(changed))
        else:
            parts.append("layout changed (dtype or shape)")
        lines.append("; ".join(parts))
    return lines
