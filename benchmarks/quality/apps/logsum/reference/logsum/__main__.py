import argparse
import json
import sys

from logsum.parse import summarize


def main(argv=None):
    parser = argparse.ArgumentParser(prog="logsum")
    parser.add_argument("--top", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(summarize(sys.stdin, args.top)))
    return 0


sys.exit(main())
