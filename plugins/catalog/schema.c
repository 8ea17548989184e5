/* schema.c -- the catalog's tables.  Published migrations are never edited: a
 * change is a new migration at the end. */
#include "catalog_internal.h"

const souk_migration catalog_migrations[] = {
    {1, "categories, products, variants",
     "CREATE TABLE catalog_categories("
     "  id INTEGER PRIMARY KEY,"
     "  slug TEXT NOT NULL UNIQUE,"
     "  parent_id INTEGER REFERENCES catalog_categories(id) ON DELETE RESTRICT,"
     "  position INTEGER NOT NULL DEFAULT 0,"
     "  name_ru TEXT NOT NULL,"
     "  name_en TEXT NOT NULL);"
     "CREATE INDEX catalog_categories_parent ON catalog_categories(parent_id, position);"
     "CREATE TABLE catalog_products("
     "  id INTEGER PRIMARY KEY,"
     "  slug TEXT NOT NULL UNIQUE,"
     "  category_id INTEGER NOT NULL REFERENCES catalog_categories(id),"
     "  brand TEXT NOT NULL DEFAULT '',"
     "  title_ru TEXT NOT NULL,"
     "  title_en TEXT NOT NULL,"
     "  description_ru TEXT NOT NULL DEFAULT '',"   /* sanitised HTML */
     "  description_en TEXT NOT NULL DEFAULT '',"
     "  attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),"
     "  images TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(images)),"
     "  status TEXT NOT NULL DEFAULT 'active'"
     "    CHECK (status IN ('draft', 'active', 'archived')),"
     "  featured INTEGER NOT NULL DEFAULT 0,"
     "  created_at INTEGER NOT NULL,"              /* unix ms */
     "  updated_at INTEGER NOT NULL);"
     "CREATE INDEX catalog_products_category ON catalog_products(category_id, status);"
     "CREATE INDEX catalog_products_brand ON catalog_products(brand);"
     "CREATE INDEX catalog_products_created ON catalog_products(created_at);"
     "CREATE TABLE catalog_variants("
     "  id INTEGER PRIMARY KEY,"
     "  product_id INTEGER NOT NULL REFERENCES catalog_products(id) ON DELETE CASCADE,"
     "  sku TEXT NOT NULL UNIQUE,"
     "  options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),"
     "  position INTEGER NOT NULL DEFAULT 0,"
     "  price INTEGER NOT NULL CHECK (price >= 0),"  /* minor units (kopecks) */
     "  currency TEXT NOT NULL DEFAULT 'RUB' CHECK (length(currency) = 3),"
     "  stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0));"
     "CREATE INDEX catalog_variants_product ON catalog_variants(product_id, position);"},
    {2, "search index",
     /* Full-text search with stemming (tokenizer.c); rowid = product id.  Titles
      * and category names of both locales are indexed together so that a query in
      * either language finds the product. */
     "CREATE VIRTUAL TABLE catalog_fts USING fts5("
     "  title, description, brand, category, tokenize = 'souk_stem');"
     /* Prefix suggestions: whole words, no stemming. */
     "CREATE VIRTUAL TABLE catalog_suggest USING fts5("
     "  title_ru, title_en, tokenize = 'unicode61 remove_diacritics 0',"
     "  prefix = '1 2 3');"},
    {3, "pickup points",
     "CREATE TABLE catalog_pickup_points("
     "  id INTEGER PRIMARY KEY,"
     "  code TEXT NOT NULL UNIQUE,"
     "  name_ru TEXT NOT NULL, name_en TEXT NOT NULL,"
     "  address_ru TEXT NOT NULL, address_en TEXT NOT NULL,"
     "  hours TEXT NOT NULL DEFAULT '',"
     "  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),"
     "  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180));"
     "CREATE VIRTUAL TABLE catalog_pickup_rtree USING rtree("
     "  id, min_lat, max_lat, min_lon, max_lon);"},
    {4, "variant options in English",
     /* Options were one object per variant; they are now kept per locale like
      * every other text.  `options` stays the Russian form (SQLite cannot rename
      * it and keep its CHECK cleanly), options_en is the English one.  '{}' in
      * options_en means "not translated": readers fall back to `options`. */
     "ALTER TABLE catalog_variants ADD COLUMN"
     "  options_en TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options_en));"},
};

const int catalog_migration_count = sizeof catalog_migrations / sizeof *catalog_migrations;
