"""grading.sandbox: what a submission's code can see and use while it is graded (no kernel: a plain Python run
through the same bubblewrap command line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import build_labs
from grading.sandbox import Limits, Sandbox, engine_package

PROBE = r"""
import json, os, socket, sys
seen = {}
seen["engine"] = __import__("engine").__file__
seen["course_visible"] = [p for p in sys.argv[1:] if os.path.exists(p)]
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    seen["network"] = "connected"
except OSError as error:
    seen["network"] = type(error).__name__
try:
    bytearray(1 << 31)
    seen["memory"] = "allocated"
except MemoryError:
    seen["memory"] = "MemoryError"
open("written.txt", "w").write("ok")
seen["uid"] = os.getuid()
seen["processes"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print(json.dumps(seen))
"""


def test_a_submission_sees_the_installed_engine_and_its_own_folder_only(tmp_path: Path) -> None:
    workdir, runtime = tmp_path / "work", tmp_path / "runtime"
    workdir.mkdir()
    runtime.mkdir()
    (workdir / "engine.py").write_text("raise SystemExit('shadowed')\n")
    sandbox = Sandbox(workdir, runtime, Limits(memory_bytes=1 << 30))
    (tmp_path / "gradebook.db").write_text("grades")               # beside the submission's folder
    private = [str(build_labs.ROOT / "solutions"), str(build_labs.ROOT / "nbgrader_config.py"),
               str(tmp_path / "gradebook.db"), str(Path.home() / ".bash_history")]
    process = subprocess.run(sandbox.wrap([sys.executable, "-P", "-c", PROBE, *private]), capture_output=True,
                             text=True, timeout=120)
    assert process.returncode == 0, process.stderr
    seen = json.loads(process.stdout)
    assert seen["engine"] == str(engine_package() / "__init__.py")
    assert seen["course_visible"] == []
    assert seen["network"] != "connected" and seen["memory"] == "MemoryError"
    assert seen["uid"] == 65534 and len(seen["processes"]) <= 3       # bubblewrap's init, python (and ls)
    assert (workdir / "written.txt").read_text() == "ok"


def test_the_command_binds_nothing_of_the_course_but_the_engine(tmp_path: Path) -> None:
    command = Sandbox(tmp_path, tmp_path).wrap(["true"])
    binds = [command[i + 1] for i, word in enumerate(command) if word in ("--bind", "--ro-bind")]
    assert str(engine_package()) in binds
    assert not [path for path in binds if Path(path) in (build_labs.ROOT, build_labs.ROOT / "solutions")]
    assert {"--unshare-all", "--die-with-parent", "--clearenv"} <= set(command)
    assert command[:1] == ["prlimit"] and "--cap-drop" in command
