import json
import os
import re
import threading

KEY = re.compile(r"[A-Za-z0-9._-]+")


class Store:
    """Values by key; saved to `path` after every change when one is given."""

    def __init__(self, path=None):
        self.path = path
        self.lock = threading.Lock()
        self.data = {}
        if path and os.path.exists(path):
            with open(path) as handle:
                self.data = json.load(handle)

    def _save(self):
        if not self.path:
            return
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as handle:
            json.dump(self.data, handle)
        os.replace(tmp, self.path)

    def put(self, key, value):
        with self.lock:
            created = key not in self.data
            self.data[key] = value
            self._save()
            return created

    def get(self, key):
        with self.lock:
            return self.data.get(key), key in self.data

    def delete(self, key):
        with self.lock:
            if key not in self.data:
                return False
            del self.data[key]
            self._save()
            return True

    def keys(self, prefix=""):
        with self.lock:
            return sorted(k for k in self.data if k.startswith(prefix))
