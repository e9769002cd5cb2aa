"""Rewrite the golden runs' expected outputs from fresh runs, and say what changed.

From the repository root::

    python -m tests.golden.regenerate            # every scenario in tests/golden/scenarios/
    python -m tests.golden.regenerate NAME ...   # only these (file stems)

(``python tests/golden/regenerate.py`` works too.) It prints, per scenario, ``unchanged``, ``new`` or the summary
keys and tables that changed, and removes expected files whose scenario is gone (on a full run). Every change it
makes must be explained in the message of the commit that records it: see README.md in this folder.
"""

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.golden import EXPECTED, differences, dumps, expected_path, load_expected, names, run  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.golden.regenerate", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="scenarios to regenerate (default: all)")
    args = parser.parse_args(argv)
    known = names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"no such golden scenario: {', '.join(unknown)} (known: {', '.join(known)})")
    EXPECTED.mkdir(exist_ok=True)
    changed = 0
    for name in args.names or known:
        actual = run(name)
        old = load_expected(name)
        if old is None:
            print(f"{name}: new")
        else:
            lines = differences(old, actual)
            if not lines and expected_path(name).read_text() == dumps(actual):
                print(f"{name}: unchanged")
                continue
            print(f"{name}: changed" + "".join(f"\n    {line}" for line in lines))
        expected_path(name).write_text(dumps(actual))
        changed += 1
    if not args.names:
        for stale in sorted(set(p.stem for p in EXPECTED.glob("*.json")) - set(known)):
            expected_path(stale).unlink()
            print(f"{stale}: removed (no scenario)")
            changed += 1
    print(f"{changed} expected file(s) written or removed; explain each change in the commit message.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
