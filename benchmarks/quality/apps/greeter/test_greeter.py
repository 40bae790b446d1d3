import subprocess
import sys

from greeter.core import greet


def test_greet():
    assert greet("Ann") == "Hello, Ann!"


def test_cli():
    out = subprocess.run([sys.executable, "-m", "greeter", "Bob"], capture_output=True, text=True)
    assert out.stdout.strip() == "Hello, Bob!"
