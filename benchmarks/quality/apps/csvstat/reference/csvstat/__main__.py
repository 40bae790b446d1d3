import argparse
import csv
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="csvstat")
    parser.add_argument("file")
    parser.add_argument("--column", required=True)
    args = parser.parse_args(argv)
    try:
        with open(args.file, newline="") as handle:
            reader = csv.DictReader(handle)
            if args.column not in (reader.fieldnames or []):
                print(f"csvstat: no column {args.column!r}", file=sys.stderr)
                return 2
            values = []
            for row_number, row in enumerate(reader, start=2):
                cell = (row.get(args.column) or "").strip()
                if not cell:
                    continue
                try:
                    values.append(float(cell))
                except ValueError:
                    print(f"csvstat: row {row_number}: {cell!r} is not a number", file=sys.stderr)
                    return 2
    except OSError as exc:
        print(f"csvstat: {exc}", file=sys.stderr)
        return 2
    print(f"count: {len(values)}")
    if values:
        print(f"min: {min(values):.2f}")
        print(f"max: {max(values):.2f}")
        print(f"mean: {sum(values) / len(values):.2f}")
    return 0


sys.exit(main())
