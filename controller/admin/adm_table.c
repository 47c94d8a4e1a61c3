/*
 * adm_table: aligned text tables for samsa-admin (see adm_table.h). Cells live in one flat
 * array of strings, row-major, with the header as row 0; widths are computed at render time.
 */
#include "controller/admin/adm_table.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct adm_table {
    size_t n_cols;
    size_t n_rows;   /* including the header */
    size_t cur_col;  /* next cell of the last row */
    size_t cap_rows; /* rows allocated in cells */
    char **cells;    /* n_rows * n_cols, NULL = empty */
    sm_err_t err;    /* sticky */
};

static sm_err_t adm_table_grow(adm_table_t *t)
{
    size_t cap = t->cap_rows ? t->cap_rows * 2 : 8;
    char **nc;

    if (cap > SIZE_MAX / t->n_cols / sizeof(char *))
        return SM_ERR_NOMEM;
    nc = realloc(t->cells, cap * t->n_cols * sizeof(char *));
    if (nc == NULL)
        return SM_ERR_NOMEM;
    memset(nc + t->cap_rows * t->n_cols, 0, (cap - t->cap_rows) * t->n_cols * sizeof(char *));
    t->cells = nc;
    t->cap_rows = cap;
    return SM_OK;
}

sm_err_t adm_table_new(size_t n_cols, const char *const *headers, adm_table_t **out)
{
    adm_table_t *t;

    *out = NULL;
    if (n_cols == 0)
        return SM_ERR_INVALID;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SM_ERR_NOMEM;
    t->n_cols = n_cols;
    adm_table_row(t);
    for (size_t i = 0; i < n_cols; i++)
        adm_table_cell(t, headers[i]);
    if (t->err != SM_OK) {
        sm_err_t err = t->err;

        adm_table_free(t);
        return err;
    }
    *out = t;
    return SM_OK;
}

void adm_table_free(adm_table_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void adm_table_row(adm_table_t *t)
{
    if (t->err != SM_OK)
        return;
    if (t->n_rows == t->cap_rows && (t->err = adm_table_grow(t)) != SM_OK)
        return;
    t->n_rows++;
    t->cur_col = 0;
}

/* Takes ownership of s (NULL = out of memory). */
static void adm_table_put(adm_table_t *t, char *s)
{
    if (t->err == SM_OK && s == NULL)
        t->err = SM_ERR_NOMEM;
    if (t->err == SM_OK && (t->n_rows == 0 || t->cur_col >= t->n_cols))
        t->err = SM_ERR_INVALID;
    if (t->err != SM_OK) {
        free(s);
        return;
    }
    t->cells[(t->n_rows - 1) * t->n_cols + t->cur_col++] = s;
}

void adm_table_cell(adm_table_t *t, const char *text)
{
    adm_table_put(t, strdup(text != NULL ? text : ""));
}

void adm_table_cellf(adm_table_t *t, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    adm_table_put(t, s);
}

size_t adm_table_rows(const adm_table_t *t)
{
    return t->n_rows > 0 ? t->n_rows - 1 : 0;
}

static const char *adm_table_at(const adm_table_t *t, size_t r, size_t c)
{
    const char *s = t->cells[r * t->n_cols + c];

    return s != NULL ? s : "";
}

sm_err_t adm_table_render(const adm_table_t *t, char **out)
{
    size_t *width = NULL, total = 1, pos = 0;
    char *buf = NULL;
    sm_err_t err = t->err;

    *out = NULL;
    if (err != SM_OK)
        goto out;
    width = calloc(t->n_cols, sizeof(*width));
    if (width == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t n = strlen(adm_table_at(t, r, c));

            if (n > width[c])
                width[c] = n;
        }
    }
    for (size_t c = 0; c < t->n_cols; c++)
        total += width[c] + 2;
    buf = malloc(total * t->n_rows + 1);
    if (buf == NULL) {
        err = SM_ERR_NOMEM;
        goto out;
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        size_t line = pos;

        for (size_t c = 0; c < t->n_cols; c++) {
            const char *s = adm_table_at(t, r, c);
            size_t n = strlen(s);

            memcpy(buf + pos, s, n);
            pos += n;
            if (c + 1 < t->n_cols) {
                memset(buf + pos, ' ', width[c] - n + 2);
                pos += width[c] - n + 2;
            }
        }
        while (pos > line && buf[pos - 1] == ' ')
            pos--;
        buf[pos++] = '\n';
    }
    buf[pos] = '\0';
    *out = buf;
    buf = NULL;
out:
    free(buf);
    free(width);
    return err;
}

sm_err_t adm_table_print(const adm_table_t *t, FILE *f)
{
    char *text = NULL;
    sm_err_t err = adm_table_render(t, &text);

    if (err == SM_OK && fputs(text, f) == EOF)
        err = SM_ERR_IO;
    free(text);
    return err;
}
