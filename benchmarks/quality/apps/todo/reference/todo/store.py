import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    due TEXT,
    done INTEGER NOT NULL DEFAULT 0
)
"""


class Store:
    def __init__(self, path):
        self.db = sqlite3.connect(path)
        self.db.execute(SCHEMA)

    def close(self):
        self.db.commit()
        self.db.close()

    def add(self, text, due):
        cursor = self.db.execute("INSERT INTO items (text, due) VALUES (?, ?)", (text, due))
        return cursor.lastrowid

    def items(self, include_done):
        rows = self.db.execute("SELECT id, text, due, done FROM items").fetchall()
        open_items = [r for r in rows if not r[3]]
        open_items.sort(key=lambda r: (r[2] is None, r[2] or "", r[0]))
        done_items = sorted((r for r in rows if r[3]), key=lambda r: r[0])
        return open_items + (done_items if include_done else [])

    def set_done(self, item_id):
        return self.db.execute("UPDATE items SET done = 1 WHERE id = ?", (item_id,)).rowcount

    def remove(self, item_id):
        return self.db.execute("DELETE FROM items WHERE id = ?", (item_id,)).rowcount
