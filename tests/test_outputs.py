"""Report files: where the bytes go (stdout, through symlinks, into FIFOs and devices, atomically), checked first.

NumPy-only: these are the shared pieces of :mod:`compare.outputs` and
:mod:`scratch.files` that every sub-command writes its reports with.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from compare.exits import UsageError
from compare.outputs import Output, check_outputs, names_open_file, report_stream, write_output, write_outputs
from scratch.files import atomic_writer


def test_dash_is_standard_output_and_the_report_then_goes_to_stderr(capsys):
    outputs = [Output("json", "-"), Output("csv", "x.csv")]
    assert report_stream(outputs) is __import__("sys").stderr
    assert report_stream(outputs[1:]) is __import__("sys").stdout
    write_output(outputs[0], json.dumps({"passed": True}))
    assert json.loads(capsys.readouterr().out) == {"passed": True}
    assert not Path("-").exists()


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    target = tmp_path / "data" / "report.json"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_output(Output("json", str(link)), '{"new": 1}')
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == '{"new": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file keeps its permissions
    assert sorted(os.listdir(target.parent)) == ["report.json"]  # no temporary file left


def test_a_dangling_symlink_gets_its_target_created(tmp_path):
    link = tmp_path / "r.md"
    link.symlink_to(tmp_path / "made.md")
    write_output(Output("markdown", str(link)), "# hi\n")
    assert link.is_symlink() and (tmp_path / "made.md").read_text() == "# hi\n"


def test_a_fifo_is_written_not_replaced(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_output(Output("csv", str(fifo)), "a,b\n1,2\n")
    reader.join(timeout=10)
    assert received == [b"a,b\n1,2\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the FIFO, not a regular file put in its place


def test_a_character_device_is_written_directly(tmp_path):
    check_outputs([Output("json", os.devnull)])  # no .json ending needed for a device
    write_output(Output("json", os.devnull), "{}")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_an_interrupted_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_writer(path) as file:
        file.write("half")
        raise KeyboardInterrupt
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["out.json"]


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ([Output("json", "{tmp}/no/such/r.json")], "--json {tmp}/no/such/r.json: the folder {tmp}/no/such does not "
                                                   "exist"),
        ([Output("json", "{tmp}/a_file/r.json")], "{tmp}/a_file is not a folder"),
        ([Output("json", "{tmp}")], "it is a folder"),
        ([Output("json", "{tmp}/r.csv")], "--json {tmp}/r.csv: the file name must end in .json, not .csv, which "
                                          "names CSV"),
        ([Output("markdown", "{tmp}/r.JSON")], "must end in .md or .markdown, not .json, which names JSON"),
        ([Output("plot", "{tmp}/p.jpg")], "must end in .png, .svg or .pdf, not .jpg, which names an image format"),
        ([Output("json", "-"), Output("markdown", "-")], "only one report can go to standard output"),
        ([Output("json", "{tmp}/r.json"), Output("json", "{tmp}/./r.json")], "name the same file"),
    ],
)
def test_outputs_that_cannot_be_written_are_refused_in_one_line(tmp_path, outputs, message):
    (tmp_path / "a_file").write_text("")
    outputs = [Output(o.format, o.path.format(tmp=tmp_path)) for o in outputs]
    with pytest.raises(UsageError) as refused:
        check_outputs(outputs)
    assert message.format(tmp=tmp_path) in str(refused.value) and "\n" not in str(refused.value)
    assert sorted(os.listdir(tmp_path)) == ["a_file"]  # checking wrote nothing


def test_a_folder_that_takes_no_new_file_is_refused_even_for_root():
    """``/sys`` refuses new files to everyone, root included (a ``chmod 555`` folder would not stop root)."""
    if not os.path.isdir("/sys") or _can_create_in("/sys"):
        pytest.skip("no folder here that refuses new files")
    with pytest.raises(UsageError, match=r"--json /sys/report.json: cannot create a file in /sys"):
        check_outputs([Output("json", "/sys/report.json")])


def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if _can_create_in(folder):
            pytest.skip("running as root: a chmod 555 folder still takes files (see the /sys test)")
        with pytest.raises(UsageError, match="cannot create a file in"):
            check_outputs([Output("csv", str(folder / "l.csv"))])
    finally:
        folder.chmod(0o755)


def _can_create_in(folder: str | os.PathLike) -> bool:
    probe = Path(folder) / ".probe-by-test"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


def test_write_outputs_writes_the_others_and_says_which_failed(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    outputs = [Output("json", str(gone / "r.json")), Output("csv", str(tmp_path / "l.csv"))]
    check_outputs(outputs)
    gone.rmdir()  # the folder disappears between the check and the write
    written = write_outputs(dict.fromkeys(outputs, lambda output: f"content of {output.format}"))
    assert written.done == [outputs[1]] and (tmp_path / "l.csv").read_text() == "content of csv"
    assert [o for o, _ in written.failed] == [outputs[0]]
    summary = written.summary()
    assert f"--json {gone}/r.json could not be written: No such file or directory" in summary
    assert f"written: --csv {tmp_path}/l.csv" in summary and "\n" not in summary


# ----------------------------------------------------- the option says the format, whatever the name
@pytest.mark.parametrize("name", ["step_summary_abc123", "summary.txt", "report.v2", ".md"])
def test_a_name_whose_suffix_says_no_format_gets_the_options_format_atomically(tmp_path, name):
    """``$GITHUB_STEP_SUMMARY`` is such a name: ``/home/runner/work/_temp/_runner_file_commands/step_summary_<id>``."""
    path = tmp_path / name
    path.write_text("old")
    os.chmod(path, 0o640)
    old_inode = path.stat().st_ino
    output = Output("markdown", str(path))
    check_outputs([output])
    write_output(output, "## ✅ all equivalent\n")
    assert path.read_text(encoding="utf-8") == "## ✅ all equivalent\n"
    assert path.stat().st_ino != old_inode  # a new file renamed onto the name, not the old one rewritten
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and os.listdir(tmp_path) == [name]


def test_a_new_file_without_a_suffix_is_created(tmp_path):
    output = Output("json", str(tmp_path / "report"))
    check_outputs([output])
    write_output(output, '{"passed": true}')
    assert json.loads((tmp_path / "report").read_text()) == {"passed": True}


@pytest.mark.parametrize(("name", "image_format"), [("p.svg", "svg"), ("p.PDF", "pdf"), ("p", "png"),
                                                    ("p.txt", "png"), ("-", "png")])
def test_a_plots_suffix_picks_its_image_format_and_any_other_name_gets_png(tmp_path, name, image_format):
    output = Output("plot", name if name == "-" else str(tmp_path / name))
    check_outputs([output])
    assert output.image_format == image_format


def test_an_open_file_named_by_path_is_appended_to_not_replaced(tmp_path):
    """``--json /dev/stdout > out.txt``: the report printed to standard output before the JSON must stay."""
    path = tmp_path / "out.txt"
    with open(path, "a") as already_open:
        already_open.write("the report\n")
        already_open.flush()
        output = Output("json", f"/dev/fd/{already_open.fileno()}")
        if not names_open_file(output.path):
            pytest.skip("no /dev/fd here")
        inode = path.stat().st_ino
        check_outputs([output])
        write_output(output, '{"passed": true}\n')
    assert path.read_text() == 'the report\n{"passed": true}\n' and path.stat().st_ino == inode
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_socket_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        with pytest.raises(UsageError, match="it is neither a regular file, a FIFO nor a character device"):
            check_outputs([Output("json", str(path))])
        assert stat.S_ISSOCK(os.stat(path).st_mode)
