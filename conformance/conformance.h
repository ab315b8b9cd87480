/* The conformance kit (docs/conformance.md): a versioned suite of cases
 * (conformance/suite/manifest.json + per case inputs.safetensors and
 * expected.safetensors), `muon conform` running this project's code through
 * it, and `muon verify` comparing any backend's RESULTS with it.
 *
 * Library code: every function returns a status and leaves the one-line
 * message in muon_last_error(); only muon.c prints errors and exits. */
#ifndef MUON_CONFORMANCE_H
#define MUON_CONFORMANCE_H

#include "muon.h"
#include "io/io.h"
#include "linalg/linalg.h"
#include "model/model_internal.h"
#include "train/train.h"
#include "metrics/metrics.h"

#define CONF_FORMAT "muon-conformance/1"

/* ---- conformance/json.c: a strict JSON reader ---------------------------- */

typedef enum {
    CONF_JSON_NULL = 0, CONF_JSON_BOOL, CONF_JSON_NUMBER, CONF_JSON_STRING,
    CONF_JSON_ARRAY, CONF_JSON_OBJECT
} conf_json_type;

typedef struct conf_json {
    conf_json_type type;
    double num;               /* NUMBER, and BOOL as 0/1 */
    char *str;                /* STRING (NUL-terminated UTF-8) */
    int n;                    /* ARRAY/OBJECT element count */
    struct conf_json *items;  /* (n) */
    char **keys;              /* (n) OBJECT keys, in file order */
} conf_json;

/* Parses text(len) as one JSON value into *out; MUON_ERR_FORMAT naming
 * "what:line:col: problem" (trailing commas, NaN, duplicate keys, a
 * truncated file are all errors), MUON_ERR_NOMEM. *out is empty on failure. */
int conf_json_parse(const char *text, size_t len, const char *what, conf_json *out);
void conf_json_free(conf_json *v);
/* The member called key of an object, or NULL. */
const conf_json *conf_json_get(const conf_json *obj, const char *key);

/* ---- conformance/crc32.c -------------------------------------------------- */

/* CRC-32 (IEEE 802.3, as zlib.crc32) of buf(n), continuing from crc (0 to start). */
uint32_t conf_crc32(uint32_t crc, const void *buf, size_t n);

/* ---- conformance/manifest.c: the suite ------------------------------------ */

typedef struct {
    const char *name;          /* tensor name inside the case ("X3", "grad.embed.weight") */
    char dtype[8];             /* what RESULTS must store: "F32" */
    int ndim;
    int64_t shape[MUON_TENSOR_MAXDIM];
    size_t numel;
    double rtol, atol;         /* pass: |got - want| <= atol + rtol |want| per element */
    const char *reason, *doc;  /* why this tolerance; "docs/<file>.md#<anchor>" */
} conf_expected;

typedef struct {
    const char *path;          /* relative to the suite directory */
    long bytes;
    uint32_t crc32;
} conf_file;

typedef struct {
    const char *id;            /* "orth.keller.tall.fp32": RESULTS names are "<id>/<name>" */
    const char *op;            /* "orthogonalize", "muon_step", ... */
    const conf_json *params;   /* the op's parameters (an object) */
    int has_inputs;
    conf_file inputs, expected;
    int n_expected;
    conf_expected *expected_t; /* (n_expected) in the manifest's (pipeline) order */
} conf_case;

typedef struct {
    char dir[512];
    conf_json root;            /* owns every string above */
    int n_cases;
    conf_case *cases;          /* in pipeline order */
} conf_suite;

/* Reads and validates DIR/manifest.json (format CONF_FORMAT, every field
 * present and of the right type); MUON_ERR_IO/FORMAT naming the problem. */
int conf_suite_load(const char *dir, conf_suite *s);
void conf_suite_free(conf_suite *s);
/* Reads one of a case's files after checking its size and CRC-32 against the
 * manifest (a corrupted suite is bad input, not a failing backend). */
int conf_case_read(const conf_suite *s, const conf_file *file, muon_safetensors *f);
/* A number / boolean / string parameter of a case: MUON_ERR_FORMAT naming
 * the case and key when missing or of another type. */
int conf_param_num(const conf_case *c, const conf_json *obj, const char *key, double *v);
int conf_param_bool(const conf_case *c, const conf_json *obj, const char *key, int *v);
int conf_param_str(const conf_case *c, const conf_json *obj, const char *key, const char **v);

/* ---- conformance/verify.c: muon verify ------------------------------------ */

typedef struct {
    int n_rows, n_pass, n_fail;
    int first_fail_case;       /* index into the suite's cases, -1 if all pass */
    const char *first_fail_tensor;
} conf_verdict;

/* Compares RESULTS (a safetensors file, or a directory whose *.safetensors
 * files together hold the tensors) with the suite at suite_dir and prints one
 * row per expected tensor to out (a JSON document when json != 0), then the
 * likely origin: the first failing case in pipeline order. Everything is
 * checked before anything is printed: a missing tensor, a wrong dtype or
 * shape, a malformed suite or RESULTS give MUON_ERR_FORMAT/IO naming it and
 * print nothing. */
int conf_verify(const char *suite_dir, const char *results, int json, FILE *out,
                conf_verdict *v);

/* ---- conformance/conform.c: muon conform ----------------------------------- */

/* Runs every case of the suite with this project's code and writes RESULTS
 * (one safetensors file, atomically) at out_path. MUON_ERR_FORMAT for a case
 * it cannot run (unknown op, a parameter missing). */
int conf_conform(const char *suite_dir, const char *out_path);

#endif
