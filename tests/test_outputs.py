"""Writing results safely: liqsim replaces only folders it provably wrote (its marker lists exactly what they hold),
one writer at a time (a lock beside the folder, tried with real processes), the new folder put in place in one
step, and what a killed writer leaves behind found and repaired by the next one."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import sim
import sim.engine
import sim.outputs as O
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--set", "population.n_positions=800", "--set", "scenario.duration_s=60", "--no-plot", "--quiet"]


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def _hidden(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _child(code, *args):
    """A Python process running ``code`` in the repository, its stdout a pipe; returns it once it printed 'ready'."""
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    assert line.strip() == "ready", (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc


# ------------------------------------------------------------------------------------- provably liqsim's


def test_a_run_never_deletes_folders_that_only_look_like_its_own(tmp_path, capsys, compiled):
    # the names of a run's files, but folders holding the user's data
    trap = tmp_path / "trap"
    (trap / "fills.csv").mkdir(parents=True)
    (trap / "summary.json" / "deep").mkdir(parents=True)
    (trap / "fills.csv" / "keep.txt").write_text("X")
    # a user's folder holding only a summary.json
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.json").write_text('{"mine": true}')
    before = _tree(tmp_path)
    assert main(["run", *SMALL, "--out", str(trap)]) == 2
    err = capsys.readouterr().err
    assert "holds files liqsim did not write (fills.csv/, summary.json/) and no .liqsim.json marker" in err
    assert main(["run", *SMALL, "--out", str(mine)]) == 2
    err = capsys.readouterr().err
    assert "holds summary.json but no .liqsim.json marker: it looks like the output of an older liqsim" in err
    assert "move or remove it yourself, or choose another folder" in err and len(err.splitlines()) == 1
    assert _tree(tmp_path) == before and (trap / "fills.csv" / "keep.txt").read_text() == "X"


def test_only_an_untouched_folder_of_the_same_kind_is_replaced(small_run, tmp_path):
    first = small_run.save(tmp_path / "first", plot=False)
    marker = json.loads((first / O.MARKER).read_text())
    assert marker["kind"] == "run" and marker["command"] and marker["written"]
    spot = ["spot.csv"] if small_run.spot is not None else []  # endogenous prices (the default) write the venues
    assert sorted(marker["files"]) == ["adl.csv", "fills.csv", "scenario.toml", "series.csv", *spot, "summary.json"]
    for name, entry in marker["files"].items():
        assert entry == O.digest(first / name)

    def copy(name, spoil):
        folder = tmp_path / name
        subprocess.run(["cp", "-a", str(first), str(folder)], check=True)
        spoil(folder)
        return folder

    summary = (first / "summary.json").read_text()
    refused = {
        "added": (copy("added", lambda d: (d / "notes.txt").write_text("mine")), "did not write (notes.txt)"),
        # the same size, other bytes: only the hash tells
        "replaced": (
            copy("replaced", lambda d: (d / "summary.json").write_text(summary.replace("scenario", "SCENARIO"))),
            "changed since liqsim wrote them (summary.json)",
        ),
        "linked": (
            copy("linked", lambda d: ((d / "adl.csv").unlink(), (d / "adl.csv").symlink_to(first / "adl.csv"))),
            "changed since liqsim wrote them (adl.csv (liqsim wrote a file there))",
        ),
        "other kind": (
            copy("kind", lambda d: O.write_marker(d, {**marker, "kind": "comparison"})),
            "holds a liqsim comparison (.liqsim.json), not a run, and liqsim replaces a folder only with one of the "
            "same kind; move or remove it yourself",
        ),
        "bad marker": (copy("bad", lambda d: (d / O.MARKER).write_text("{")), ".liqsim.json cannot be read"),
    }
    for folder, needle in refused.values():
        before = {p: p.read_bytes() for p in folder.iterdir() if not p.is_symlink()}
        with pytest.raises(
            sim.ScenarioError, match=r"output folder: .*" + needle.replace("(", r"\(").replace(")", r"\)")
        ):
            small_run.save(folder, plot=False)
        assert {p: p.read_bytes() for p in folder.iterdir() if not p.is_symlink()} == before
    # liqsim's own, as written or with a file removed (nothing of the user's is lost), and an empty folder
    fewer = copy("fewer", lambda d: (d / "adl.csv").unlink())
    (tmp_path / "empty").mkdir()
    for folder in (first, fewer, tmp_path / "empty"):
        assert small_run.save(folder, plot=False) == folder
        assert sorted(p.name for p in folder.iterdir()) == sorted([O.MARKER, *marker["files"]])
    assert not _hidden(tmp_path)  # no lock, temporary or old folder left beside them


def test_a_comparison_and_a_run_do_not_take_each_others_folders(small_run, tmp_path):
    run_dir = small_run.save(tmp_path / "r", plot=False)
    with pytest.raises(sim.ScenarioError, match=r"holds a liqsim run \(.liqsim.json\), not a comparison,"):
        with O.claim(run_dir, "comparison"):
            pass
    assert sorted(p.name for p in run_dir.iterdir())[0] == O.MARKER


# ----------------------------------------------------------------------------------------------- the swap


def test_the_new_folder_is_exchanged_with_the_old_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not O.exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not offered here")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


@pytest.mark.parametrize("one_step", [True, False])
def test_save_replaces_with_or_without_the_exchange(small_run, tmp_path, monkeypatch, one_step):
    calls = []
    real = O.exchange
    monkeypatch.setattr(O, "exchange", lambda a, b: calls.append(a) or (real(a, b) if one_step else False))
    target = small_run.save(tmp_path / "out", plot=False)
    os.utime(target / "fills.csv", (0, 0))
    small_run.save(target, plot=False)
    assert len(calls) == 1 and (target / "fills.csv").stat().st_mtime > 0  # the second save replaced the first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_writer_killed_mid_write_leaves_temporaries_the_next_one_removes(small_run, tmp_path):
    target = tmp_path / "out"
    proc = _child(
        """
        import sys, time
        from sim.outputs import atomic_folder, claim
        with claim(sys.argv[1], "run") as target, atomic_folder(target, "run") as tmp:
            (tmp / "fills.csv").write_text("t,kind")
            print("ready", flush=True)
            time.sleep(60)
        """,
        target,
    )
    proc.kill()
    proc.communicate()
    left = _hidden(tmp_path)
    assert [n for n in left if n.startswith(".out.tmp-")] and ".out.lock" in left  # what a kill -9 leaves
    small_run.save(target, plot=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_kill_between_the_two_renames_is_repaired_by_the_next_writer(tmp_path):
    """Without the one-step exchange, the old folder is renamed away first: a kill then leaves no folder at the
    target, the old results hidden beside it and the new ones complete; the next writer puts the old back."""
    target = tmp_path / "out"
    proc = _child(
        """
        import os, sys, time
        import sim.outputs as O
        O.exchange = lambda a, b: False
        real = os.rename

        def rename(a, b):
            real(a, b)
            if ".out.old-" in str(b):
                print("ready", flush=True)
                time.sleep(60)

        for text in ("first", "second"):
            with O.claim(sys.argv[1], "run") as target, O.atomic_folder(target, "run") as tmp:
                (tmp / "summary.json").write_text(text)
            os.rename = rename
        """,
        target,
    )
    proc.kill()
    proc.communicate()
    assert not target.exists()
    hidden = _hidden(tmp_path)
    assert [n for n in hidden if n.startswith(".out.old-")] and [n for n in hidden if n.startswith(".out.tmp-")]
    with O.claim(target, "run"):
        assert (target / "summary.json").read_text() == "first"  # the old results, back in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_only_liqsim_temporaries_of_dead_processes_are_removed(tmp_path):
    dead, alive = _dead_pid(), os.getpid()

    def folder(name, marker=True, content="x"):
        path = tmp_path / name
        path.mkdir()
        (path / "data").write_text(content)
        if marker:
            O.write_marker(path, O.new_marker("run"))
        return path

    gone = [folder(f".other.tmp-{dead}-0a1b"), folder(f".other2.old-{dead}-0a1b")]
    (tmp_path / "other2").mkdir()  # the swap of other2 finished: its old folder is outdated
    (tmp_path / f".other3.tmp-{dead}-0a1b").mkdir()  # an empty one holds nothing of anybody's
    kept = [
        folder(f".other.tmp-{alive}-2c3d"),  # a live writer's
        folder(f".other.tmp-{dead}-4e5f", marker=False),  # no marker: not provably liqsim's
        folder(f".other4.old-{dead}-0a1b"),  # other4 is missing: its own next writer puts this back
        folder(".other.tmp-notapid"),
    ]
    with O.claim(tmp_path / "out", "run"):
        pass
    assert not any(p.exists() for p in gone) and not (tmp_path / f".other3.tmp-{dead}-0a1b").exists()
    assert all((p / "data").read_text() == "x" for p in kept)


# ------------------------------------------------------------------------------------------------ the lock


def test_a_second_writer_is_refused_naming_the_first(tmp_path, capsys, compiled):
    target = tmp_path / "out"
    holder = _child(
        """
        import sys, time
        from sim.outputs import claim
        with claim(sys.argv[1], "run"):
            print("ready", flush=True)
            time.sleep(60)
        """,
        target,
    )
    try:
        assert main(["run", *SMALL, "--out", str(target)]) == 2
        err = capsys.readouterr().err
        assert f"{target}: output folder: in use by another liqsim (pid {holder.pid}, `-c {target}`, since " in err
        assert not target.exists()
    finally:
        holder.kill()
        holder.communicate()
    assert main(["run", *SMALL, "--out", str(target)]) == 0  # the kernel let go of the dead holder's lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_runs_at_once_one_writes_the_other_is_refused(tmp_path, compiled):
    cmd = [sys.executable, "-m", "sim", "run", *SMALL, "--set", "population.n_positions=200000"]
    cmd += ["--set", "scenario.duration_s=1800", "--out", str(tmp_path / "out")]
    first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not (tmp_path / ".out.lock").exists():
        assert first.poll() is None, first.communicate()
        time.sleep(0.02)
    second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert first.wait(timeout=120) == 0, first.communicate()
    assert second.returncode == 2
    assert f"in use by another liqsim (pid {first.pid}, `python -m sim run" in second.stderr
    assert json.loads((tmp_path / "out" / O.MARKER).read_text())["pid"] == first.pid


def test_the_lock_is_reentrant_and_removed_when_let_go(tmp_path):
    target = tmp_path / "out"
    with O.folder_lock(target):
        with O.folder_lock(target):
            doc = json.loads(O.lock_path(target).read_text())
            assert doc["pid"] == os.getpid() and doc["since"]
        assert O.lock_path(target).exists()
    assert not O.lock_path(target).exists()


# ------------------------------------------------------------------------------------------- before the run


@pytest.fixture
def read_only():
    """Make a folder unwritable even for root (immutable where chattr works, else mode 555); undone afterwards."""
    done = []

    def make(path):
        os.chmod(path, 0o555)
        if os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("cannot make a folder unwritable for root here")
        done.append(path)
        return path

    yield make
    for path in done:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], capture_output=True)
        os.chmod(path, 0o755)


def test_an_unwritable_place_is_found_before_the_run(small_run, tmp_path, monkeypatch, capsys, read_only):
    monkeypatch.setattr(sim.engine, "run", lambda *a, **k: pytest.fail("ran before the place was checked"))
    done = small_run.save(tmp_path / "done", plot=False)
    read_only(done)  # liqsim's own results, but they could not be replaced
    (tmp_path / "locked").mkdir()
    locked = read_only(tmp_path / "locked")  # the parent of the output folder
    for out, needle in ((done, "is not writable"), (locked / "out", f"cannot write in {locked}")):
        assert main(["run", *SMALL, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err


# --------------------------------------------------------------------------------------------- the files


def test_series_csv_writes_an_empty_book_side_as_nan_as_the_readme_says(tmp_path):
    from sim.dtypes import SERIES_DTYPE

    rows = np.zeros(2, dtype=SERIES_DTYPE)
    rows["best_bid"] = [100.0, np.nan]
    O.write_csv(tmp_path / "series.csv", rows, "series")
    lines = (tmp_path / "series.csv").read_text().splitlines()
    column = lines[0].split(",").index("best_bid")
    assert [line.split(",")[column] for line in lines[1:]] == ["100.0", "nan"]
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `series.csv` |"))
    assert "`nan`" in row and "empty" in row


def test_a_failed_write_names_its_file(tmp_path):
    def full(path):
        raise OSError(28, "No space left on device")  # as a write on a full disk raises it: no file name

    with pytest.raises(OSError) as err:
        O.write_atomic({tmp_path / "results.csv": full})
    assert err.value.filename == str(tmp_path / "results.csv") and err.value.errno == 28
    assert not list(tmp_path.iterdir())


def test_write_new_never_writes_over_a_file(tmp_path):
    (tmp_path / "b.csv").write_text("mine")
    with pytest.raises(sim.ScenarioError, match=r"b.csv: exists"):
        O.write_new({tmp_path / "a.png": lambda p: p.write_text("a"), tmp_path / "b.csv": lambda p: p.write_text("b")})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"] and (tmp_path / "b.csv").read_text() == "mine"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped exception, printed
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_stop_that_python_drops_in_a_finaliser_still_stops_the_run(tmp_path, monkeypatch, capsys, sig, code, word):
    """A signal that arrives while a finaliser runs (llvmlite disposes of compiler objects in ``__del__`` while the
    kernels load) has its exception printed as "Exception ignored" and dropped; the run stops at its next progress
    report all the same, and writes nothing."""
    import gc

    class Finaliser:
        def __del__(self):
            os.kill(os.getpid(), sig)  # the handler's exception is raised here, and dropped

    def run(scn, progress=None):
        Finaliser()
        gc.collect()
        progress(0.5)
        raise AssertionError("the run went on after the stop")

    monkeypatch.setattr(sim.engine, "run", run)
    assert main(["run", *SMALL, "--out", str(tmp_path / "out")]) == code
    assert capsys.readouterr().err.strip().endswith(f"liqsim: {word}; no results were written")
    assert not list(tmp_path.iterdir())


def test_ctrl_c_or_sigterm_during_a_run_ends_it_with_one_line_and_nothing_written(tmp_path, compiled):
    cmd = [sys.executable, "-m", "sim", "run", *SMALL, "--set", "population.n_positions=300000"]
    cmd += ["--set", "scenario.duration_s=3600", "--out", str(tmp_path / "out")]
    for sig, code, word in ((signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")):
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal
        )
        while not (tmp_path / ".out.lock").exists():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        # 128 + the signal, or (rarely, under load: the interpreter re-raises the signal on its way out) death by the
        # signal itself, which a shell reports as the same status
        assert proc.returncode in (code, -sig), err
        assert err.split() == f"liqsim: {word}; no results were written".split()
        assert not list(tmp_path.iterdir())


def test_a_run_of_several_instruments_does_not_take_a_runs_folder(small_run, tmp_path):
    run_dir = small_run.save(tmp_path / "r", plot=False)
    with pytest.raises(sim.ScenarioError) as err:
        with O.claim(run_dir, "instruments"):
            pass
    assert str(err.value) == (
        f"{run_dir}: output folder: holds a liqsim run (.liqsim.json), not a run of several instruments, and liqsim "
        "replaces a folder only with one of the same kind; move or remove it yourself, or choose another folder"
    )
