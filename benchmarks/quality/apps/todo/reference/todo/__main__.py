import argparse
import datetime
import sys

from todo.store import Store


def parse(argv):
    parser = argparse.ArgumentParser(prog="todo")
    parser.add_argument("--db", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add")
    add.add_argument("text")
    add.add_argument("--due")
    listing = commands.add_parser("list")
    listing.add_argument("--all", action="store_true")
    for name in ("done", "remove"):
        commands.add_parser(name).add_argument("id", type=int)
    return parser.parse_args(argv)


def fail(message):
    print(f"todo: {message}", file=sys.stderr)
    return 1


def run(args, store):
    if args.command == "add":
        if not args.text.strip():
            return fail("the text is empty")
        if args.due is not None:
            try:
                datetime.date.fromisoformat(args.due)
            except ValueError:
                return fail(f"not a date: {args.due}")
        print(store.add(args.text, args.due))
    elif args.command == "list":
        for item_id, text, due, done in store.items(args.all):
            mark = "[x] " if done else ""
            when = f" (due {due})" if due else ""
            print(f"{item_id}. {mark}{text}{when}")
    elif args.command == "done":
        if not store.set_done(args.id):
            return fail(f"no item {args.id}")
    elif not store.remove(args.id):
        return fail(f"no item {args.id}")
    return 0


def main(argv=None):
    args = parse(argv)
    store = Store(args.db)
    try:
        return run(args, store)
    finally:
        store.close()


sys.exit(main())
