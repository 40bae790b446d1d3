import subprocess
import sys


def run(tmp_path, text, column):
    data = tmp_path / "data.csv"
    data.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "csvstat", str(data), "--column", column],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_statistics(tmp_path):
    out = run(tmp_path, "name,price\npen,1.5\nink,4\nbook,12.25\n", "price")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == ["count: 3", "min: 1.50", "max: 12.25", "mean: 5.92"]


def test_empty_cells_skipped(tmp_path):
    out = run(tmp_path, "a,b\n1,\n2,3\n", "b")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:4] == ["count: 1", "min: 3.00", "max: 3.00", "mean: 3.00"]


def test_bad_cell_names_row(tmp_path):
    out = run(tmp_path, "a\n1\nx\n", "a")
    assert out.returncode == 2
    assert "3" in out.stderr


def test_unknown_column(tmp_path):
    out = run(tmp_path, "a\n1\n", "zzz")
    assert out.returncode == 2
    assert out.stderr.strip()


def test_missing_file(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "csvstat", str(tmp_path / "nope.csv"), "--column", "a"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2
