/* import_record.c -- the records that the readers fill and the writer consumes
 * (catalog_import_product with its rows and variants, _category, _pickup): making,
 * growing and freeing them.  Every string a record holds is its own copy. */
#include "import.h"

#include <stdlib.h>
#include <string.h>

catalog_import_product *catalog_import_product_new(void)
{
    catalog_import_product *p = calloc(1, sizeof *p);
    if (p)
        p->featured = -1;
    return p;
}

void catalog_import_text_clear(catalog_import_text *t)
{
    free(t->text);
    t->text = NULL;
    t->mode = CATALOG_FIELD_KEEP;
}

void catalog_import_text_set(catalog_import_text *t, catalog_field_mode mode, const char *text)
{
    catalog_import_text_clear(t);
    if (!text || mode == CATALOG_FIELD_KEEP)
        return;
    t->text = strdup(text);
    t->mode = t->text ? mode : CATALOG_FIELD_KEEP;
}

void catalog_import_product_free(catalog_import_product *p)
{
    if (!p)
        return;
    free(p->slug);
    free(p->category);
    free(p->category_names_ru);
    free(p->category_names_en);
    catalog_import_text *texts[] = {&p->brand,          &p->title_ru,       &p->title_en,
                                    &p->description_ru, &p->description_en, &p->status};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        catalog_import_text_clear(texts[i]);
    json_decref(p->attributes);
    json_decref(p->images);
    for (int i = 0; i < p->nvariants; i++) {
        free(p->variants[i].sku);
        json_decref(p->variants[i].options);
        json_decref(p->variants[i].options_en);
    }
    free(p->variants);
    free(p->rows);
    free(p);
}

catalog_import_row *catalog_import_product_row(catalog_import_product *p, int line)
{
    if (p->nrows == p->rows_cap) {
        int cap = p->rows_cap ? p->rows_cap * 2 : 4;
        catalog_import_row *rows = realloc(p->rows, (size_t)cap * sizeof *rows);
        if (!rows)
            return NULL;
        p->rows = rows;
        p->rows_cap = cap;
    }
    catalog_import_row *r = &p->rows[p->nrows++];
    r->line = line;
    r->bad = 0;
    return r;
}

catalog_import_variant *catalog_import_product_variant(catalog_import_product *p)
{
    if (p->nvariants == p->variants_cap) {
        int cap = p->variants_cap ? p->variants_cap * 2 : 4;
        catalog_import_variant *v = realloc(p->variants, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        p->variants = v;
        p->variants_cap = cap;
    }
    catalog_import_variant *v = &p->variants[p->nvariants++];
    memset(v, 0, sizeof *v);
    v->row = p->nrows - 1;
    v->price = -1;
    v->stock = -1;
    return v;
}

void catalog_import_category_free(catalog_import_category *c)
{
    if (!c)
        return;
    free(c->slug);
    free(c->parent);
    catalog_import_text_clear(&c->name_ru);
    catalog_import_text_clear(&c->name_en);
    free(c);
}

void catalog_import_pickup_free(catalog_import_pickup *pp)
{
    if (!pp)
        return;
    free(pp->code);
    catalog_import_text *texts[] = {&pp->name_ru, &pp->name_en, &pp->address_ru, &pp->address_en,
                                    &pp->hours};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        catalog_import_text_clear(texts[i]);
    free(pp);
}
