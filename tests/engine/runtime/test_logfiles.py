"""Container log files in the node's filesystem: append-only text, read from an offset, followed through links."""

from __future__ import annotations

import pytest

from engine.runtime.cri import Mount
from engine.runtime.logfiles import LogFile, Symlink, dangling, follow
from engine.runtime.mounts import MountedFS, NodeFilesystem


def test_a_log_file_reads_from_any_offset_as_its_writer_appends():
    lines: list[str] = []
    log = LogFile("/var/log/pods/ns_p_u/c/0.log", 7, lines)
    assert (log.size, log.read()) == (0, "")
    lines.extend(["first", "second"])
    assert log.size == len("first\nsecond\n")
    assert log.read(0) == "first\nsecond\n"
    assert log.read(6) == "second\n"
    assert log.read(3) == "st\nsecond\n"
    lines.append("third")
    assert log.read(13) == "third\n" and log.read(log.size) == ""


@pytest.mark.parametrize("path", ["/host/var/log/pods/ns_p_u/c/0.log", "/host/var/log/containers/p_ns_c-id.log"],
                         ids=["the file itself reads as its text", "a symlink reads as its target's text"])
def test_a_container_mounting_var_log_reads_log_files_and_links(path):
    node = NodeFilesystem()
    log = LogFile("/var/log/pods/ns_p_u/c/0.log", 1, ["hello"])
    node[log.path] = log
    node["/var/log/containers/p_ns_c-id.log"] = Symlink(log)
    fs = MountedFS({}, node, [Mount("/host/var/log", "/var/log", readonly=True)])
    assert fs[path] == "hello\n"
    assert fs.open(path) is log


def test_a_held_file_stays_readable_after_its_path_is_removed_and_its_link_dangles():
    node = NodeFilesystem()
    log = LogFile("/var/log/pods/ns_p_u/c/0.log", 1, ["a"])
    node[log.path] = log
    link = Symlink(log)
    node["/var/log/containers/p_ns_c-id.log"] = link
    held = follow(node["/var/log/containers/p_ns_c-id.log"])
    del node[log.path]
    assert held.read() == "a\n" and dangling(node, link)
    assert len(link) == len(log.path)         # lstat's size of a link: its target's path
