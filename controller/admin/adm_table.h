/*
 * adm_table: the aligned text tables samsa-admin prints for people. A table collects its rows
 * first (cells are copied), then renders every column padded to its widest cell, columns two
 * spaces apart, the header first, no trailing blanks:
 *
 *   ID  ENDPOINTS                   RACK  UP SINCE
 *   1   PLAINTEXT://127.0.0.1:9092  -     2024-05-01T12:00:00Z
 *
 * Errors are sticky (the first allocation failure); adm_table_render reports them.
 */
#ifndef ADM_TABLE_H
#define ADM_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "sm_err.h"

typedef struct adm_table adm_table_t;

/* A table with n_cols columns named by headers[0..n_cols) (copied). Returns SM_OK or
 * SM_ERR_NOMEM / SM_ERR_INVALID (no columns). */
sm_err_t adm_table_new(size_t n_cols, const char *const *headers, adm_table_t **out);

/* Accepts NULL. */
void adm_table_free(adm_table_t *t);

/* Starts a new row; cells are then added left to right with adm_table_cell(f). A row with
 * fewer cells than columns shows the rest empty; cells beyond the last column are an error
 * (SM_ERR_INVALID, sticky). */
void adm_table_row(adm_table_t *t);
void adm_table_cell(adm_table_t *t, const char *text);
void adm_table_cellf(adm_table_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Number of rows added (the header not counted). */
size_t adm_table_rows(const adm_table_t *t);

/* The rendered table in a malloc'd string (free it), each line ending in '\n'. Returns SM_OK,
 * the table's sticky error, or SM_ERR_NOMEM. */
sm_err_t adm_table_render(const adm_table_t *t, char **out);

/* Renders to f. Returns SM_OK, an error of adm_table_render, or SM_ERR_IO. */
sm_err_t adm_table_print(const adm_table_t *t, FILE *f);

#endif
