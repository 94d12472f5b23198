from pathlib import Path

from controllers.collectors.follow import FileFollower


def test_reads_only_new_text_and_survives_split_characters(tmp_path: Path) -> None:
    path = tmp_path / "log"
    follower = FileFollower(path)
    assert follower.read_new() == ""  # not created yet
    data = "accuracy=0.5 ✓\n".encode()
    path.write_bytes(data[:-3])  # cut inside the 3-byte check mark
    first = follower.read_new()
    with open(path, "ab") as out:
        out.write(data[-3:] + b"loss=1\n")
    assert first + follower.read_new() == "accuracy=0.5 ✓\nloss=1\n"
    assert follower.offset == len(data) + len(b"loss=1\n")


def test_resume_from_a_saved_offset(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("a=1\nb=2\n")
    follower = FileFollower(path)
    follower.read_all_new()
    path.write_text("a=1\nb=2\nc=3\n")
    assert FileFollower(path, offset=follower.offset).read_all_new() == "c=3\n"


def test_tail_lines(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_text("\n".join(f"line {i}" for i in range(100)) + "\n")
    assert FileFollower(path).tail_lines(3) == ["line 97", "line 98", "line 99"]
    assert FileFollower(tmp_path / "missing").tail_lines() == []
