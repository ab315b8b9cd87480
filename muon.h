/* muon.h -- the one public header of muon.
 *
 * muon trains a small GPT-style language model with the Muon optimizer while
 * measuring the spectral geometry of every weight matrix, in plain C99.
 *
 * Conventions used by every function below:
 *   - Matrices are float32, row-major. A matrix "(m,n)" has m rows and n columns;
 *     weight matrices follow PyTorch's [out_features, in_features] convention.
 *   - Functions that can fail return an int status: MUON_OK (0) or one of the
 *     MUON_ERR_* codes below, and leave a one-line message in muon_last_error().
 *     Library code never prints and never exits; only muon.c does.
 *   - Ownership: "caller-owned" buffers are allocated and freed by the caller;
 *     "_create"/"_read" functions allocate and the matching "_free" releases.
 *   - Determinism: results never depend on the number of OpenMP threads.
 *
 * Dimension letters: B batch, T sequence, C d_model, NH heads, NKV kv heads,
 * HS head size, F d_ff, V vocab, L layers.
 */
#ifndef MUON_H
#define MUON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MUON_VERSION "0.1.0"

/* ------------------------------------------------------------------------- */
/* Status, errors, memory, threads (linalg/status.c)                         */
/* ------------------------------------------------------------------------- */

enum {
    MUON_OK = 0,
    MUON_ERR_ARG = 1,     /* bad argument (shape, value, flag) */
    MUON_ERR_NOMEM = 2,   /* an allocation failed */
    MUON_ERR_IO = 3,      /* a file could not be opened, read or written */
    MUON_ERR_FORMAT = 4,  /* a file is malformed, truncated or of the wrong kind */
    MUON_ERR_NUMERIC = 5  /* NaN/Inf or a failed convergence */
};

/* Records a printf-style message as the last error and returns status. */
int muon_error(int status, const char *fmt, ...);
/* The message of the last error ("" if none); valid until the next error. */
const char *muon_last_error(void);
/* A short name for a status code ("ok", "out of memory", ...). */
const char *muon_status_name(int status);

/* 64-byte aligned allocation of n bytes (n may be 0); NULL on failure, with the
 * last error set. Free with muon_free (NULL is fine). */
void *muon_alloc(size_t n);
/* Like muon_alloc, zero-filled. */
void *muon_calloc(size_t count, size_t size);
void muon_free(void *p);
/* Test hook: the n-th allocation from now on fails (n >= 1); 0 disables. */
void muon_alloc_fail_after(long n);

/* Sets the OpenMP thread count (t >= 1; ignored without OpenMP). */
void muon_set_threads(int t);
/* The thread count parallel regions will use (1 without OpenMP). */
int muon_threads(void);
/* Wall-clock seconds from an arbitrary origin (monotonic where available). */
double muon_seconds(void);

/* ------------------------------------------------------------------------- */
/* Random numbers (linalg/rng.c): xoshiro256** seeded by splitmix64           */
/* ------------------------------------------------------------------------- */

typedef struct { uint64_t s[4]; } muon_rng;

/* Seeds the generator; the same seed always gives the same stream. */
void muon_rng_seed(muon_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t muon_rng_next(muon_rng *r);
/* Uniform float64 in [0, 1). */
double muon_rng_uniform(muon_rng *r);
/* Uniform integer in [0, n), n >= 1, without modulo bias. */
uint64_t muon_rng_below(muon_rng *r, uint64_t n);
/* Standard normal (Box-Muller on two uniforms). */
double muon_rng_normal(muon_rng *r);
/* Fills x(n) with N(0, std^2). */
void muon_rng_fill_normal(muon_rng *r, float *x, size_t n, float std);

/* ------------------------------------------------------------------------- */
/* Small vector helpers (linalg/vec.c); sums are accumulated in double        */
/* ------------------------------------------------------------------------- */

double muon_dot(const float *x, const float *y, size_t n);      /* x(n).y(n) */
double muon_norm2(const float *x, size_t n);                    /* ||x||_2 */
void muon_axpy(float a, const float *x, float *y, size_t n);    /* y += a*x */
void muon_scale(float a, float *x, size_t n);                   /* x *= a */
/* Out-of-place transpose: out(n,m) = in(m,n)^T. */
void muon_transpose(const float *in, float *out, int m, int n);
/* 1 if every x(n) is finite, else 0. */
int muon_all_finite(const float *x, size_t n);

/* ------------------------------------------------------------------------- */
/* GEMM (linalg/gemm.c, reference in linalg/gemm_naive.c)                    */
/* ------------------------------------------------------------------------- */

typedef enum { MUON_NOTRANS = 0, MUON_TRANS = 1 } muon_op;

/* C(M,N) = alpha*op(A)*op(B) + beta*C, row-major with leading dimensions
 * lda/ldb/ldc (elements between rows as stored). op(A) is (M,K), op(B) is (K,N).
 * beta == 0 never reads C (so C may hold NaN). M, N or K may be 0.
 * Cache-blocked, packed, OpenMP-parallel over M/N blocks (never over K, so the
 * result is the same for any thread count); safe to call from several threads.
 * Returns MUON_OK, MUON_ERR_ARG (negative size, short leading dimension) or
 * MUON_ERR_NOMEM (packing buffers). */
int muon_gemm(muon_op opA, muon_op opB, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

/* Frees the packing buffers muon_gemm keeps between calls (they are reused so
 * the hot path does not allocate); call at exit, e.g. before valgrind's leak
 * check. Buffers of calls still running are left alone. Safe to call any time. */
void muon_gemm_release(void);

/* The slow, obviously correct triple loop (double accumulation); same contract. */
int muon_gemm_naive(muon_op opA, muon_op opB, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc);

/* ------------------------------------------------------------------------- */
/* SVD (linalg/svd.c): one-sided Jacobi, after LAPACK's dgesvj               */
/* ------------------------------------------------------------------------- */

typedef struct {
    int sweeps;      /* Jacobi sweeps performed (<= 30) */
    double max_cos;  /* largest column-pair |cosine| at the last sweep */
    int converged;   /* 1 if max_cos fell below the tolerance */
} muon_svd_info;

/* Thin SVD of A(m,n) = U diag(S) V^T with r = min(m,n): S(r) descending and
 * >= 0; U(m,r) and V(n,r) row-major (columns are singular vectors), each may be
 * NULL when not wanted (values only is faster). A is not modified. info may be
 * NULL. Returns MUON_OK, MUON_ERR_ARG or MUON_ERR_NOMEM. Not converging in 30
 * sweeps is reported in info, not as an error. */
int muon_svd(int m, int n, const float *A, float *S, float *U, float *V,
             muon_svd_info *info);

/* ------------------------------------------------------------------------- */
/* Orthogonalisation (linalg/orth.c): Muon's polar-factor approximation       */
/* ------------------------------------------------------------------------- */

typedef enum {
    MUON_ORTH_POLAR_EXPRESS = 0, /* default: five tuned per-step triples */
    MUON_ORTH_KELLER = 1,        /* Keller Jordan's quintic, 5 steps */
    MUON_ORTH_NEWTON_SCHULZ = 2, /* classical (1.875, -1.25, 0.375) */
    MUON_ORTH_SVD = 3            /* exact U V^T from muon_svd: the oracle */
} muon_orth_kind;

/* "polar-express", "keller", "newton-schulz", "svd". */
const char *muon_orth_name(muon_orth_kind k);
/* Parses a name as above into *k; MUON_ERR_ARG (message names it) if unknown. */
int muon_orth_parse(const char *name, muon_orth_kind *k);

/* O(rows,cols) = orth(G(rows,cols)); steps is used by newton-schulz only
 * (0 means the default, 5). G and O may alias. Iterates on the wide orientation.
 * Returns MUON_OK, MUON_ERR_ARG or MUON_ERR_NOMEM. */
int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O);

/* ------------------------------------------------------------------------- */
/* Safetensors files (model/safetensors.c)                                   */
/* ------------------------------------------------------------------------- */

#define MUON_ST_MAXDIM 8

typedef struct {
    char *name;                     /* owned by the file */
    char dtype[8];                  /* as stored: F32, F64, F16, BF16, I32, I64, ... */
    int ndim;
    int64_t shape[MUON_ST_MAXDIM];
    size_t numel;
    float *data;                    /* numel values converted to float32 */
} muon_st_tensor;

typedef struct {
    int count;
    muon_st_tensor *tensors;
    int meta_count;
    char **meta_keys;               /* "__metadata__" string pairs */
    char **meta_values;
} muon_st_file;

/* Reads a whole safetensors file (F32, F64, F16, BF16, I64, I32, I16, I8, U8,
 * BOOL converted to float). Malformed or truncated files give MUON_ERR_FORMAT
 * naming the problem; *f is zeroed on failure. */
int muon_st_read(const char *path, muon_st_file *f);
/* The tensor called name, or NULL. */
const muon_st_tensor *muon_st_find(const muon_st_file *f, const char *name);
/* The tensor called name with exactly the given shape (ndim dims), or NULL
 * with the last error saying what is missing or mismatched. */
const muon_st_tensor *muon_st_expect(const muon_st_file *f, const char *name,
                                     int ndim, const int64_t *shape);
/* A metadata value, or NULL. */
const char *muon_st_meta(const muon_st_file *f, const char *key);
void muon_st_free(muon_st_file *f);

/* Writes count F32 tensors (name, ndim, shape, data; dtype ignored) and the
 * metadata pairs meta_kv = {key0, value0, key1, value1, ..., NULL} (may be NULL)
 * to path atomically: a temporary file in the same directory, then rename, so
 * a failure never leaves a partial file at path. */
int muon_st_write(const char *path, const muon_st_tensor *t, int count,
                  const char *const *meta_kv);

/* ------------------------------------------------------------------------- */
/* Model (model/): config, parameters, forward, backward                     */
/* ------------------------------------------------------------------------- */

/* MODEL-API: declarations for model/ go here. */

typedef enum { MUON_FFN_RELU2 = 0, MUON_FFN_SWIGLU = 1 } muon_ffn_kind;

typedef struct {
    int vocab_size;   /* V (256: bytes) */
    int d_model;      /* C */
    int n_layers;     /* L */
    int n_heads;      /* NH; HS = C / NH */
    int n_kv_heads;   /* NKV, divides NH (grouped-query attention) */
    int d_ff;         /* F */
    int seq_len;      /* T, the longest sequence the model is sized for */
    int batch_size;   /* B */
    muon_ffn_kind ffn;
    int untied_head;  /* 1: separate head.weight (V,C); 0: tied to the embedding */
    int merged_qkvo;  /* 1: one [Q;K;V;O] matrix per layer, orthogonalised whole */
    float rope_base;  /* 10000 */
    float norm_eps;   /* RMSNorm epsilon, 1e-6 */
    float init_std;   /* N(0, init_std^2) for every matrix and the embedding, 0.02 */
} muon_config;

/* Fills cfg with a named config: "nano", "tiny", "blueberry-nano";
 * MUON_ERR_ARG naming the unknown name. */
int muon_config_named(const char *name, muon_config *cfg);
/* Overrides one field by its name ("d_model", "n_layers", "ffn" = relu2|swiglu,
 * ...) from a string value; MUON_ERR_ARG naming a bad key or value. */
int muon_config_set(muon_config *cfg, const char *key, const char *value);
/* MUON_OK if every field is in range and consistent, else MUON_ERR_ARG naming it. */
int muon_config_check(const muon_config *cfg);
/* Number of trainable scalars of the model described by cfg. */
size_t muon_config_param_count(const muon_config *cfg);

typedef enum {
    MUON_ROLE_EMBEDDING = 0, /* "embed.weight" (V,C), also the tied head */
    MUON_ROLE_HEAD = 1,      /* "head.weight" (V,C) with --untied-head */
    MUON_ROLE_GAIN = 2,      /* RMSNorm gains (1,n): AdamW, no weight decay */
    MUON_ROLE_MATRIX = 3     /* 2-D hidden matrices: Muon */
} muon_param_role;

typedef enum {
    MUON_MAT_Q = 0, MUON_MAT_K, MUON_MAT_V, MUON_MAT_O,
    MUON_MAT_UP, MUON_MAT_DOWN, MUON_MAT_GATE,
    MUON_MAT_QKVO,           /* the merged [Q;K;V;O] matrix */
    MUON_MAT_NONE,           /* embedding, head, gains */
    MUON_MAT_COUNT
} muon_matrix_kind;

/* "q", "k", "v", "o", "up", "down", "gate", "qkvo", "none". */
const char *muon_matrix_name(muon_matrix_kind k);

typedef struct {
    char name[64];           /* PyTorch-style: "layers.3.attn.q.weight" */
    muon_param_role role;
    muon_matrix_kind kind;
    int layer;               /* 0..L-1, or -1 for embedding, head, final norm */
    int rows, cols;          /* [out, in]; a gain is (1, n) */
    size_t offset;           /* first element in params[] and grads[] */
} muon_param;

/* A matrix whose metrics are tracked: every Muon matrix, and for a merged
 * [Q;K;V;O] its four row slices (contiguous in row-major storage). */
typedef struct {
    int layer;
    muon_matrix_kind kind;   /* Q, K, V, O, UP, DOWN or GATE */
    int rows, cols;
    size_t offset;           /* first element in params[] (and any buffer laid out like it) */
} muon_tracked;

typedef struct muon_acts muon_acts; /* activations and scratch, private to model/ */

typedef struct {
    muon_config cfg;
    int n_tensors;
    muon_param *tensors;     /* (n_tensors) in a fixed order: embed, layers..., final norm, head */
    size_t num_params;
    float *params;           /* (num_params): one allocation, tensors[i].offset into it */
    float *grads;            /* (num_params) */
    muon_acts *acts;         /* sized for cfg.batch_size x cfg.seq_len */
    int B, T;                /* shape of the last forward */
    float loss;              /* mean cross-entropy of the last forward with targets */
} muon_model;

/* Allocates parameters, gradients and activations for cfg (checked) ; nothing
 * is allocated later by forward/backward. Parameters are zero until init. */
int muon_model_create(muon_model *m, const muon_config *cfg);
/* N(0, init_std^2) for matrices and the embedding, gains 1; from seed alone. */
void muon_model_init(muon_model *m, uint64_t seed);
/* Forward pass on tokens(B,T), 1 <= B <= batch_size, 1 <= T <= seq_len. With
 * targets(B,T) also computes m->loss (mean cross-entropy); targets may be NULL.
 * MUON_ERR_ARG for out-of-range shapes or token ids. */
int muon_model_forward(muon_model *m, const int *tokens, const int *targets, int B, int T);
/* Logits (B,T,V) of the last forward. */
const float *muon_model_logits(const muon_model *m);
/* Backward of the last forward (which must have had targets): accumulates
 * d(loss)/d(params) into grads. */
int muon_model_backward(muon_model *m);
/* grads = 0. */
void muon_model_zero_grad(muon_model *m);
/* The tensor called name, or NULL. */
const muon_param *muon_model_find(const muon_model *m, const char *name);
/* Writes the tracked matrices into out (capacity cap), returns how many
 * there are (which may exceed cap: call with cap 0 to count). */
int muon_model_tracked(const muon_model *m, muon_tracked *out, int cap);
void muon_model_free(muon_model *m);

/* Prints forward+backward time per step, tokens/s and GFLOP/s for `nano`
 * (B=16, T=128) with 1 and 2 threads to out (model/model_bench.c). */
int muon_bench_model(FILE *out);

/* ------------------------------------------------------------------------- */
/* Optimizers and training (model/)                                           */
/* ------------------------------------------------------------------------- */

/* TRAIN-API: declarations for optimizers, training, checkpoints go here. */

/* ------------------------------------------------------------------------- */
/* Metrics (metrics/)                                                         */
/* ------------------------------------------------------------------------- */

/* METRICS-API: declarations for metrics/ go here. */

/* Default --track-every. Measured (muon_bench_metrics, best of 3, shared
 * 2-core machine): one tracking pass over `nano` (48 matrices, 4 SVDs each)
 * costs 1.0-2.5 forward+backward steps (0.65-1.25 s alone, 1 s step), so 50
 * keeps tracking near 2-5% of training (10% even at a pass of 5.5 steps). */
#define MUON_DEFAULT_TRACK_EVERY 50
/* k of alignment_left/right (SPEC 7.6); min(k, rank) is used when smaller. */
#define MUON_ALIGN_K 5

/* The metrics of one matrix, in the fixed order rows are logged in. Names are
 * those of SPEC section 7 ("sigma_max", "top_sv_1", ...). */
typedef enum {
    MUON_METRIC_SIGMA_MAX = 0,
    MUON_METRIC_SPECTRAL_GAP,
    MUON_METRIC_TOP_SV_1, MUON_METRIC_TOP_SV_2, MUON_METRIC_TOP_SV_3,
    MUON_METRIC_TOP_SV_4, MUON_METRIC_TOP_SV_5, MUON_METRIC_TOP_SV_6,
    MUON_METRIC_TOP_SV_7, MUON_METRIC_TOP_SV_8, MUON_METRIC_TOP_SV_9,
    MUON_METRIC_TOP_SV_10,
    MUON_METRIC_STABLE_RANK,
    MUON_METRIC_SPECTRAL_ENTROPY,
    MUON_METRIC_ORTHO_ERROR_WEIGHT,
    MUON_METRIC_ALIGNMENT_LEFT,      /* needs the update delta */
    MUON_METRIC_ALIGNMENT_RIGHT,     /* needs the update delta */
    MUON_METRIC_UPDATE_RANK,         /* needs the momentum */
    MUON_METRIC_SUBSPACE_EFFICIENCY, /* needs delta and momentum */
    MUON_METRIC_ORTHO_ERROR_UPDATE,  /* needs the orthogonaliser output */
    MUON_METRIC_UPDATE_SV_MIN,       /* needs the orthogonaliser output */
    MUON_METRIC_UPDATE_SV_MAX,       /* needs the orthogonaliser output */
    MUON_METRIC_COUNT
} muon_metric_id;

/* value[i] is metric i; have[i] is 0 when its input was NULL (not logged).
 * Edge cases (documented in metrics/spectral.c, same in gen_metrics.py):
 * singular values <= max(rows,cols) * 2^-23 * sigma_1 count as zero when a
 * rank matters; spectral_gap = +inf when sigma_2 is zero (or r = 1), NaN for
 * the zero matrix; stable_rank, spectral_entropy, update_rank are 0 for a zero
 * matrix and spectral_entropy is 0 when r = 1; ortho_error_* is 1 for a zero
 * matrix; alignment averages over min(k, rank W, rank dW) singular values and
 * is NaN when that is 0; subspace_efficiency is NaN when update_rank is 0. */
typedef struct {
    double value[MUON_METRIC_COUNT];
    unsigned char have[MUON_METRIC_COUNT];
} muon_metrics;

/* The name of metric id ("sigma_max", ...), or NULL when out of range. */
const char *muon_metric_name(int id);
/* All SPEC 7 metrics of W(rows,cols); dW, M, O (rows,cols) are the applied
 * update, the momentum and the orthogonaliser output, each may be NULL (its
 * metrics then have have[] = 0). One SVD per input. MUON_ERR_ARG for
 * rows or cols < 1, MUON_ERR_NOMEM. */
int muon_metrics_compute(int rows, int cols, const float *W, const float *dW,
                         const float *M, const float *O, muon_metrics *out);

/* What the optimizer's last step did, laid out like muon_model.params so a
 * tracked matrix's offset indexes all of them. Any pointer may be NULL; the
 * metrics that need it are then not logged. */
typedef struct {
    const float *delta;     /* (num_params) applied update: W after - W before (weight decay included) */
    const float *momentum;  /* (num_params) Muon momentum M after the step, or AdamW's first moment */
    const float *orth_out;  /* (num_params) the orthogonaliser's output O (Muon only) */
} muon_update_view;

/* The tidy metric log metrics.csv: header "step,layer,matrix,metric,value";
 * layer is 0-based, or -1 with matrix "model" for model-wide values
 * ("loss", "val_loss", "lr", "tokens" = tokens seen after that step). */
typedef struct muon_metric_log muon_metric_log;

/* Opens path for appending (created with its header if missing). With
 * resume_step >= 0 it first drops every row with step > resume_step, by an
 * atomic rewrite, so a resumed run continues without duplicates. */
int muon_metric_log_open(muon_metric_log **log, const char *path, long resume_step);
/* Appends one row (value printed with %.9g). */
int muon_metric_log_row(muon_metric_log *log, long step, int layer, const char *matrix,
                        const char *metric, double value);
/* Flushes to disk: called once per step, so a crash loses at most that step. */
int muon_metric_log_flush(muon_metric_log *log);
/* Flushes, closes and frees (NULL is fine). */
int muon_metric_log_close(muon_metric_log *log);
/* Computes the SPEC section 7 metrics of every tracked matrix of m (u may be
 * NULL: static metrics only) and appends their rows for step. */
int muon_metrics_track(muon_metric_log *log, long step, const muon_model *m,
                       const muon_update_view *u);
/* The metrics of every tracked matrix of m (muon_model_tracked's order) into
 * out(cap); u may be NULL. Parallel over matrices, thread-count independent.
 * MUON_ERR_ARG when cap is below the tracked count. */
int muon_metrics_model(const muon_model *m, const muon_update_view *u,
                       muon_metrics *out, int cap);
/* Prints the time of one tracking pass over `nano` (all update buffers
 * present) beside a forward+backward step, and the overhead at
 * MUON_DEFAULT_TRACK_EVERY (metrics/track_bench.c). */
int muon_bench_metrics(FILE *out);
/* Appends the rows of every present metric of mt for (step, layer, matrix). */
int muon_metrics_log(muon_metric_log *log, long step, int layer, const char *matrix,
                     const muon_metrics *mt);

/* Checkpoint analysis (metrics/analyze.c): one matrix found in a checkpoint. */
typedef struct {
    int ckpt;                /* index in the list of checkpoints (the CSV's step) */
    int layer;
    muon_matrix_kind kind;   /* Q, K, V, O, UP, DOWN or GATE */
    int rows, cols;
    char source[128];        /* the tensor it came from ("layers.0.attn.qkvo.weight") */
    muon_metrics mt;         /* static metrics; alignments vs the previous checkpoint */
} muon_analysis_entry;

typedef struct {
    int n_entries;
    muon_analysis_entry *entries;  /* by checkpoint, then layer, then kind */
    int n_skipped;
    char (*skipped)[192];          /* one line per unrecognised 2-D tensor */
} muon_analysis;

/* Static metrics of every Muon-style matrix of the safetensors checkpoints
 * paths(n), found by name and shape (ours: layers.{i}.attn.{q,k,v,o}.weight,
 * layers.{i}.attn.qkvo.weight split, layers.{i}.ffn.{up,down,gate}.weight;
 * PyTorch/HF: self_attn.{q,k,v,o}_proj, mlp.{up,down,gate}_proj, with any
 * prefix such as "model."); with n >= 2 the alignments use the difference of
 * consecutive checkpoints as dW. MUON_ERR_IO/FORMAT naming the file, also when
 * a checkpoint has no matrix; *a is empty on failure. */
int muon_analyze(const char *const *paths, int n, muon_analysis *a);
void muon_analysis_free(muon_analysis *a);
/* Writes a as a tidy CSV like metrics.csv (step = checkpoint index), through
 * path.tmp and a rename, so a failure leaves no partial file. */
int muon_analysis_write_csv(const muon_analysis *a, const char *path);

/* ------------------------------------------------------------------------- */
/* Plots (plots/)                                                             */
/* ------------------------------------------------------------------------- */

/* PLOTS-API: declarations for plots/ go here. */

/* Reads run_dir/metrics.csv and (re)draws every research plot into
 * run_dir/research_plots/. A missing or malformed metrics.csv gives
 * MUON_ERR_IO / MUON_ERR_FORMAT naming the file and line, and writes no PNG. */
int muon_plot_run(const char *run_dir);

/* ------------------------------------------------------------------------- */
/* Benchmarks (bench entry points used by `muon bench`)                       */
/* ------------------------------------------------------------------------- */

/* Prints GEMM GFLOP/s on square and model shapes to out; blas != 0 adds
 * OpenBLAS beside it when built with BLAS=openblas. */
int muon_bench_gemm(FILE *out, int blas);
/* Prints SVD and orthogonaliser timings to out. */
int muon_bench_svd(FILE *out);

#endif /* MUON_H */
