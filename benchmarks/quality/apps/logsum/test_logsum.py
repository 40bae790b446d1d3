import json
import subprocess
import sys

LOG = """\
10.0.0.1 - - [05/Dec/2026:10:00:00 +0000] "GET /index.html HTTP/1.1" 200 512
10.0.0.2 - - [05/Dec/2026:10:00:01 +0000] "GET /about?x=1 HTTP/1.1" 200 100
10.0.0.1 - - [05/Dec/2026:10:00:02 +0000] "POST /login HTTP/1.1" 302 -
this line is not a log line

10.0.0.3 - - [05/Dec/2026:10:00:03 +0000] "GET /index.html HTTP/1.1" 304 0
10.0.0.3 - - [05/Dec/2026:10:00:04 +0000] "GET /about HTTP/1.1" 404 20
10.0.0.4 - - [05/Dec/2026:10:00:05 +0000] "GET /zeta HTTP/1.1" 200 8
"""


def summarize(text, *args):
    out = subprocess.run(
        [sys.executable, "-m", "logsum", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_totals():
    summary = summarize(LOG)
    assert summary["requests"] == 6
    assert summary["bytes"] == 640
    assert summary["malformed"] == 1


def test_statuses():
    assert summarize(LOG)["statuses"] == {"200": 3, "302": 1, "304": 1, "404": 1}


def test_top_paths_default_three():
    assert summarize(LOG)["top_paths"] == [["/about", 2], ["/index.html", 2], ["/login", 1]]


def test_top_option():
    assert summarize(LOG, "--top", "1")["top_paths"] == [["/about", 2]]


def test_empty_input():
    summary = summarize("")
    assert summary["requests"] == 0
    assert summary["top_paths"] == []
    assert summary["statuses"] == {}
