import re
from collections import Counter

LINE = re.compile(
    r'(?P<client>\S+) \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+) [^"]*" '
    r"(?P<status>\d{3}) (?P<size>\d+|-)$"
)


def summarize(lines, top):
    statuses = Counter()
    paths = Counter()
    requests = size_total = malformed = 0
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        match = LINE.match(line)
        if match is None:
            malformed += 1
            continue
        requests += 1
        statuses[match["status"]] += 1
        paths[match["target"].split("?", 1)[0]] += 1
        if match["size"] != "-":
            size_total += int(match["size"])
    ranked = sorted(paths.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "requests": requests,
        "bytes": size_total,
        "statuses": dict(sorted(statuses.items())),
        "top_paths": [[path, count] for path, count in ranked],
        "malformed": malformed,
    }
