"""seedhelp -- a test file's store: made, prepared (files, migrations, catalog rows)
and served once, stopped at the end; and the catalog rows the tests seed.

    import seedhelp as sh

    def prepare(store):                      # before the server starts
        sh.migrate(store)
        sh.seed_catalog(store, ("tea", "Чай", "Tea"),
                        [("green-tea", "Зелёный чай", "Green tea", "active",
                          [("GT-S", 5, 50000, {"размер": "S"}, {"size": "S"})])])

    SHOP = sh.Served({"plugins": ["catalog"]}, prepare=prepare)
    SHOP.server()       # made and started on first use (an st.Server)
    SHOP.store          # its st.Store (None until then)
    SHOP.stop()         # also done at exit

    with sh.running(config, prepare) as (store, server):   # another store, for a block
        ...

The catalog rows are written with SQL after `souk migrate`, so that every
expected number is written out in the test."""
import atexit
import contextlib
import json
import os
import sqlite3

import souktest as st


def start(config, prepare=None, workers=2):
    """A store made from config (souk.lua as a dict), prepared and served:
    (store, server).  prepare(store) runs before the server starts and may
    return environment for it (a dict).  The store is removed again when
    anything fails."""
    store = st.Store(config)
    try:
        env = prepare(store) if prepare else None
        server = st.Server(store, workers=workers, env=env)
    except BaseException:
        store.cleanup()
        raise
    return store, server


@contextlib.contextmanager
def running(config, prepare=None, workers=2):
    """start() for a with block: (store, server), stopped and removed at its end."""
    store, server = start(config, prepare, workers)
    try:
        yield store, server
    finally:
        server.stop()
        store.cleanup()


class Served:
    """A test file's store and server, started by the first server() and stopped
    by stop() or at exit (a later server() starts a new one)."""

    def __init__(self, config, prepare=None, workers=2):
        self.config, self.prepare, self.workers = config, prepare, workers
        self.store = self._server = None
        self._at_exit = False

    def server(self):
        if self._server is None:
            self.store, self._server = start(self.config, self.prepare, self.workers)
            if not self._at_exit:
                atexit.register(self.stop)
                self._at_exit = True
        return self._server

    def stop(self):
        if self._server is not None:
            self._server.stop()
            self.store.cleanup()
            self._server = None


def migrate(store):
    """The tables of the store's plugins (`souk migrate`)."""
    st.run("migrate", store.dir, env=store.env(), check=0)


def use_pricing(store, lua):
    """scripts/pricing.lua replaced by lua; the example's tests of its own rules
    (pricing_test.lua) removed, as they test rules that are gone."""
    store.write("scripts/pricing.lua", lua)
    if os.path.exists(store.path("scripts/pricing_test.lua")):
        os.remove(store.path("scripts/pricing_test.lua"))


def query(store, sql, args=()):
    """Rows of a query on the store's database."""
    c = sqlite3.connect(store.path("data/souk.db"), timeout=10)
    try:
        return c.execute(sql, args).fetchall()
    finally:
        c.close()


def execute(store, sql, args=()):
    """One statement on the store's database, committed."""
    c = sqlite3.connect(store.path("data/souk.db"), timeout=10)
    try:
        with c:
            c.execute(sql, args)
    finally:
        c.close()


def seed_catalog(store, category, products):
    """Category 1 = category (slug, name_ru, name_en) and products 1, 2, ... in it
    (brand Acme, created at 1): each (slug, title_ru, title_en, status, variants),
    a variant (sku, stock, price, options_ru, options_en) in RUB at its position
    in the list; options are dicts ({} for none)."""
    db = sqlite3.connect(store.path("data/souk.db"))
    with db:
        db.execute("INSERT INTO catalog_categories(id, slug, name_ru, name_en)"
                   " VALUES(1, ?, ?, ?)", category)
        for pid, (slug, ru, en, status, variants) in enumerate(products, 1):
            db.execute("INSERT INTO catalog_products(id, slug, category_id, brand, title_ru,"
                       " title_en, status, created_at, updated_at)"
                       " VALUES(?, ?, 1, 'Acme', ?, ?, ?, 1, 1)", (pid, slug, ru, en, status))
            for pos, (sku, stock, price, o_ru, o_en) in enumerate(variants):
                db.execute("INSERT INTO catalog_variants(product_id, sku, options, options_en,"
                           " position, price, currency, stock) VALUES(?, ?, ?, ?, ?, ?, 'RUB', ?)",
                           (pid, sku, json.dumps(o_ru, ensure_ascii=False),
                            json.dumps(o_en, ensure_ascii=False), pos, price, stock))
    db.close()
