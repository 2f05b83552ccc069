"""autodiff.atomic.write_atomic, which Module.save and viz write through: whole files or none,
through symlinks, modes kept without touching the umask, non-regular targets refused, errors
naming the caller's path, and no temporary file outliving the save that made it."""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import nn
from autodiff import atomic
from autodiff.atomic import write_atomic
from deadline import deadline

ROOT = Path(__file__).resolve().parent.parent
needs_posix = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs and modes are POSIX's")


def temporaries(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if ".tmp-" in name)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=["write_atomic", "Module.save"])
def save(request):
    """Both ways in: the shared function and a model's save."""
    if request.param == "write_atomic":
        return lambda path: write_atomic(path, '{"saved": true}\n')
    return lambda path: nn.Neuron(2).save(path)


def test_nn_and_viz_write_through_the_same_function():
    import viz.files

    assert viz.files.write_atomic is write_atomic


def test_a_new_file_has_the_data_and_no_temporary_is_left(tmp_path, save):
    save(tmp_path / "out.json")
    assert json.loads((tmp_path / "out.json").read_text())
    assert os.listdir(tmp_path) == ["out.json"]


@needs_posix
def test_a_symlink_is_written_through_to_its_target_and_stays_a_link(tmp_path, save, monkeypatch):
    target_folder = tmp_path / "real"
    target_folder.mkdir()
    target = target_folder / "model.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    renames = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (renames.append((src, dst)), real_replace(src, dst)))
    save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text())
    (source, destination), = renames
    assert os.path.dirname(source) == str(target_folder) and destination == str(target)
    assert os.listdir(tmp_path) == ["link.json", "real"] and os.listdir(target_folder) == ["model.json"]


@needs_posix
def test_a_dangling_symlink_creates_its_target(tmp_path, save):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    save(link)
    assert link.is_symlink() and json.loads((tmp_path / "made.json").read_text())


@needs_posix
def test_a_symlink_loop_is_refused(tmp_path, save):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(ValueError, match="its symlinks form a loop"):
        save(loop)
    assert loop.is_symlink()


@needs_posix
def test_a_fifo_is_refused_and_left_a_fifo(tmp_path, save):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"cannot write '.*pipe': it is a FIFO \(named pipe\), not a regular file"):
        save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe"]


@pytest.fixture
def devices_guarded(monkeypatch):
    """Renaming or deleting over /dev/null would replace the machine's null device: a save that
    tries fails the test instead (a broken save run as root must not break the machine)."""
    def guard(real):
        def call(*args, **kwargs):
            if any(isinstance(a, (str, os.PathLike)) and os.path.realpath(a) == os.devnull for a in args):
                raise AssertionError(f"{real.__name__}{args} would replace the null device")
            return real(*args, **kwargs)
        return call

    for name in ("replace", "rename", "unlink", "remove"):
        monkeypatch.setattr(os, name, guard(getattr(os, name)))


@needs_posix
def test_the_null_device_is_refused_and_left_a_device(save, devices_guarded):
    before = os.lstat(os.devnull)
    with pytest.raises(ValueError, match=r"cannot write '/dev/null': it is a character device, not a regular file"):
        save(os.devnull)
    after = os.lstat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


def test_a_directory_is_refused(tmp_path, save):
    with pytest.raises(IsADirectoryError, match="Is a directory; give a file name inside it") as error:
        save(tmp_path)
    assert error.value.errno == errno.EISDIR and error.value.filename == str(tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_named(tmp_path, save):
    with pytest.raises(FileNotFoundError, match=r"No such folder '.*nowhere' to write in: '.*nowhere/m.json'"):
        save(tmp_path / "nowhere" / "m.json")


@needs_posix
@pytest.mark.parametrize("kept", [0o600, 0o640, 0o444])
def test_an_existing_file_keeps_its_mode(tmp_path, save, kept):
    path = tmp_path / "secret.json"
    path.write_text("{}")
    os.chmod(path, kept)
    save(path)
    assert mode(path) == kept and json.loads(path.read_text())


@needs_posix
def test_the_data_are_never_in_a_file_more_open_than_the_one_they_replace(tmp_path, monkeypatch):
    path = tmp_path / "secret.json"
    path.write_text("{}")
    os.chmod(path, 0o600)
    seen = []
    real_write = os.write

    def write(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    write_atomic(path, "private")
    assert seen and set(seen) == {0o600}


def test_the_umask_is_never_read_or_changed(tmp_path, save, monkeypatch):
    def umask(mask):
        raise AssertionError("os.umask changes the umask of every thread while it reads it")

    monkeypatch.setattr(os, "umask", umask)
    save(tmp_path / "new.json")
    save(tmp_path / "new.json")


def run_python(code: str, umask: int) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter whose umask is `umask` (never this process's umask)."""
    script = f"import os\nos.umask(0o{umask:o})\n" + textwrap.dedent(code)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120, check=True)


@needs_posix
@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path, umask, expected):
    out = run_python(f"""
        import nn
        from autodiff.atomic import write_atomic
        write_atomic({str(tmp_path / 'a.txt')!r}, 'a')
        nn.Neuron(1).save({str(tmp_path / 'b.json')!r})
        open({str(tmp_path / 'c.txt')!r}, 'w').close()
    """, umask)
    assert out.returncode == 0
    assert [mode(tmp_path / name) for name in ("a.txt", "b.json", "c.txt")] == [expected] * 3


@needs_posix
def test_threads_creating_files_while_others_save_never_get_a_0666_file(tmp_path):
    # The old way read the umask by setting it to 0 and back: a thread creating a file in between
    # got 0666. Savers and plain open()s race here under umask 022; every file must be 0644.
    run_python(f"""
        import os, threading
        import nn
        from autodiff.atomic import write_atomic
        folder = {str(tmp_path)!r}
        model = nn.Neuron(2)

        def saver(k):
            for i in range(150):
                write_atomic(os.path.join(folder, f"w{{k}}-{{i % 5}}.txt"), "x")
                model.save(os.path.join(folder, f"m{{k}}-{{i % 5}}.json"))

        def opener(k):
            for i in range(300):
                open(os.path.join(folder, f"o{{k}}-{{i}}.txt"), "w").close()

        threads = [threading.Thread(target=saver, args=(k,)) for k in range(3)]
        threads += [threading.Thread(target=opener, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    """, 0o022)
    modes = {name: mode(tmp_path / name) for name in os.listdir(tmp_path)}
    assert len(modes) == 3 * 5 * 2 + 3 * 300
    assert {m for m in modes.values()} == {0o644}


class Disk(Exception):
    pass


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failed_save_names_the_path_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.json"
    path.write_text("old")

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]) if failing == "replace" else None)

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match=r"No space left on device: '.*model.json'") as error:
        write_atomic(path, "new")
    assert error.value.errno == errno.ENOSPC and error.value.strerror == "No space left on device"
    assert error.value.filename == str(path) and ".tmp-" not in str(error.value)
    monkeypatch.undo()
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["model.json"]


def test_an_interrupted_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    path.write_text("old")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nn.Neuron(1).save(path)
    monkeypatch.undo()
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["model.json"]


KILLED_SAVE = """
    import os, sys, time
    from autodiff import atomic

    def hang(fd):
        print("writing", flush=True)
        time.sleep(600)

    os.fsync = hang
    atomic.write_atomic(sys.argv[1], "half a model")
"""


def start_save(path) -> subprocess.Popen:
    """A save in another process, stopped after writing its temporary file and before renaming it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(KILLED_SAVE), str(path)],
                               stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "writing"
    return process


@needs_posix
@pytest.mark.parametrize("later", ["write_atomic", "Module.save"])
def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path, later):
    path = tmp_path / "model.json"
    process = start_save(path)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    (left,) = temporaries(tmp_path)
    assert left.startswith(".model.json.tmp-")
    if later == "write_atomic":
        write_atomic(path, "whole")
        assert path.read_text() == "whole"
    else:
        nn.Neuron(1).save(path)
        assert nn.load(path).config() == {"nin": 1, "activation": "tanh"}
    assert os.listdir(tmp_path) == ["model.json"]


@needs_posix
@pytest.mark.skipif(atomic.fcntl is None, reason="no flock: only old temporaries count as abandoned")
def test_a_save_in_progress_elsewhere_keeps_its_temporary(tmp_path):
    path = tmp_path / "model.json"
    process = start_save(path)
    try:
        write_atomic(path, "mine")
        assert len(temporaries(tmp_path)) == 1  # the other writer is alive and holds its file
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stdout.close()
    write_atomic(path, "mine again")
    assert os.listdir(tmp_path) == ["model.json"]


def test_only_the_temporaries_of_the_same_path_are_removed(tmp_path):
    other = tmp_path / ".other.json.tmp-1-0123456789abcdef"
    other.write_text("another file's")
    unrelated = tmp_path / ".model.json.tmp-notes"
    unrelated.write_text("not ours")
    write_atomic(tmp_path / "model.json", "x")
    assert sorted(os.listdir(tmp_path)) == [".model.json.tmp-notes", ".other.json.tmp-1-0123456789abcdef",
                                            "model.json"]


def test_a_long_file_name_still_gets_a_temporary_beside_it(tmp_path):
    path = tmp_path / ("m" * 250 + ".json")
    write_atomic(path, "long")
    assert path.read_text() == "long" and os.listdir(tmp_path) == [path.name]


def test_concurrent_saves_of_one_path_each_write_a_whole_file(tmp_path):
    path = tmp_path / "model.json"
    texts = [f"{k}" * 100_000 for k in range(8)]
    errors = []

    def save(text):
        try:
            for _ in range(5):
                write_atomic(path, text)
        except Exception as error:  # noqa: BLE001 - any failure is the test's finding
            errors.append(error)

    threads = [threading.Thread(target=save, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and path.read_text() in texts and os.listdir(tmp_path) == ["model.json"]


@pytest.mark.parametrize(("bad", "error", "message"), [
    (None, TypeError, "path must be a path"), ("", ValueError, "got an empty string"),
    (3, TypeError, "path must be a path"), ("a\0b", ValueError, "without NUL")])
def test_bad_paths_are_argument_errors(bad, error, message):
    with pytest.raises(error, match=message):
        write_atomic(bad, "x")


def test_bad_data_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"write_atomic\(\) data must be bytes or str, got int"):
        write_atomic(tmp_path / "x", 3)
    assert os.listdir(tmp_path) == []


@needs_posix
def test_a_fifo_named_like_a_temporary_does_not_stop_a_save(tmp_path):
    trap = tmp_path / ".model.json.tmp-1-0123456789abcdef"
    os.mkfifo(trap)
    with deadline(5):
        write_atomic(tmp_path / "model.json", "x")
    assert (tmp_path / "model.json").read_text() == "x" and stat.S_ISFIFO(os.lstat(trap).st_mode)
