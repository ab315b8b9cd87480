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
/* Like muon_error, but keeps the current message after the new text:
 * "resume x.st: " + "tensor 'w' is missing". */
int muon_error_prefix(int status, const char *fmt, ...);
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
 * lda/ldb/ldc (elements between rows as stored). op(A) is (M,K): A is stored
 * (M,K) for MUON_NOTRANS, (K,M) for MUON_TRANS; op(B) is (K,N) likewise.
 * beta == 0 never reads C (so C may hold NaN). M, N or K may be 0; K == 0 or
 * alpha == 0 gives C = beta*C without reading A or B (as BLAS does).
 * Cache-blocked and packed (BLIS style), OpenMP-parallel over M/N tiles
 * (never over K), so the result is bit-identical for any thread count (and
 * after threads were seen waiting for cores busy with other processes it runs
 * on one thread for a while, same bits, less waiting); when
 * called inside an active parallel region it runs on the calling thread, and
 * concurrent calls from several (OpenMP) threads are safe. Packing buffers are cached
 * between calls (see muon_gemm_release), so it allocates only when a call
 * needs more than any earlier one. Returns MUON_OK, MUON_ERR_ARG (negative
 * size, short leading dimension) or MUON_ERR_NOMEM (packing buffers). */
int muon_gemm(muon_op opA, muon_op opB, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb,
              float beta, float *C, int ldc);

/* Frees the packing buffers muon_gemm keeps between calls (they are reused so
 * the hot path does not allocate); call at exit, e.g. before valgrind's leak
 * check. Buffers of calls still running are left alone. Safe to call any time. */
void muon_gemm_release(void);

/* The slow, obviously correct triple loop (double accumulation, one rounding
 * per element); same contract, single-threaded, allocates nothing. */
int muon_gemm_naive(muon_op opA, muon_op opB, int M, int N, int K,
                    float alpha, const float *A, int lda, const float *B, int ldb,
                    float beta, float *C, int ldc);

/* ------------------------------------------------------------------------- */
/* SVD (linalg/svd.c): one-sided Jacobi, after LAPACK's dgesvj               */
/* ------------------------------------------------------------------------- */

typedef struct {
    int sweeps;      /* Jacobi sweeps performed (<= 30), the last one a check */
    double max_cos;  /* largest column-pair |cosine| at the last sweep */
    int converged;   /* 1 if max_cos fell below the tolerance sqrt(min(m,n))*DBL_EPSILON */
} muon_svd_info;

/* Thin SVD of A(m,n) = U diag(S) V^T with r = min(m,n): S(r) descending and
 * >= 0; U(m,r) and V(n,r) row-major (columns are singular vectors), each may be
 * NULL when not wanted (values only is faster; S is bit-identical either way).
 * Computed in double (pivoted QR, then Jacobi on R^T) and rounded to float32;
 * vectors of zero singular values complete U and V to orthonormal columns.
 * A is not modified. info may be NULL. Workspace (~8(2max(m,n)+3r)r bytes) is
 * allocated per call. Returns MUON_OK, MUON_ERR_ARG (m or n < 1, A or S NULL),
 * MUON_ERR_NUMERIC (A has NaN/Inf; S, U, V are then NaN) or MUON_ERR_NOMEM.
 * Not converging in 30 sweeps is reported in info, not as
 * an error. */
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

/* "polar-express", "keller", "newton-schulz", "svd" ("unknown" otherwise). */
const char *muon_orth_name(muon_orth_kind k);
/* Parses a name as above into *k; MUON_ERR_ARG (message names it and lists
 * the valid names) if unknown. */
int muon_orth_parse(const char *name, muon_orth_kind *k);

/* O(rows,cols) = orth(G(rows,cols)), float32; steps is used by newton-schulz
 * only (0 means the default, 5; at most 64). G and O may alias. Iterates on
 * the wide orientation (a tall G gives exactly the transpose of orth(G^T)).
 * The svd method drops numerically zero directions (sigma <= sigma_1 *
 * max(rows,cols) * FLT_EPSILON), as every polynomial maps 0 to 0: G = 0 gives
 * O = 0 for all methods. Workspace is allocated per call. Returns MUON_OK,
 * MUON_ERR_ARG, MUON_ERR_NUMERIC (G has NaN/Inf; O untouched) or
 * MUON_ERR_NOMEM. */
int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O);

/* Flags for muon_orthogonalize_ex. MUON_ORTH_BF16 emulates a bfloat16 backend
 * running modded-nanogpt's PyTorch loop: the input, the normalisation and the
 * result of every matmul and every elementwise op (b*A, c*A, (c*A)@A, their
 * sum, a*X, B@X, the new X) are rounded to bf16 (ties to even), matmuls
 * accumulate in float32, Python scalars act as float32 (PyTorch 2).
 * MUON_ORTH_BF16_TORCH1 (implies BF16) reproduces PyTorch 1.13 on CPU, bit
 * for bit on the golden data: scalars rounded to bf16 first, and the norm's
 * sum of squares rounded to bf16 before its square root. Ignored by svd. */
#define MUON_ORTH_BF16 1u
#define MUON_ORTH_BF16_TORCH1 2u
/* muon_orthogonalize with flags (0: the same as muon_orthogonalize). */
int muon_orthogonalize_ex(muon_orth_kind kind, int steps, int rows, int cols,
                          const float *G, float *O, unsigned flags);

/* x rounded to the nearest bfloat16 (ties to even; NaN stays NaN), as float
 * (linalg/bf16.c). */
float muon_bf16_round(float x);
/* Rounds x(n) to bfloat16 in place. */
void muon_bf16_round_array(float *x, size_t n);

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

/* Fills cfg with a named config; MUON_ERR_ARG naming an unknown name.
 *   nano (default)  V 256, C 128, L 8,  NH 4, NKV 2, F 512,  T 128,  B 16
 *   tiny (tests)    V 256, C 32,  L 2,  NH 4, NKV 2, F 64,   T 16,   B 2
 *   blueberry-nano  V 256, C 512, L 22, NH 8, NKV 4, F 2048, T 2048, B 1
 * all relu2, tied head, separate Q/K/V/O, RoPE base 1e4, eps 1e-6, std 0.02. */
int muon_config_named(const char *name, muon_config *cfg);
/* Overrides one field by its name ("d_model", "n_layers", "ffn" = relu2|swiglu,
 * "untied_head" = 0|1, ...; '-' may stand for '_', so "d-model" works) from a
 * string value, range-checked; MUON_ERR_ARG naming a bad key or value (cfg is
 * then unchanged). Cross-field consistency is muon_config_check's job. */
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
/* N(0, init_std^2) for matrices and the embedding, gains 1; from seed alone:
 * one muon_rng stream, tensors in m->tensors order, each row-major (so a
 * merged [Q;K;V;O] model gets the separate model's weights). */
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

/* ---- Data (model/data.c): byte-level tokens, token id = byte value -------- */

typedef struct {
    unsigned char *bytes;  /* (n) the whole corpus, used as is */
    size_t n;
    size_t n_train;        /* [0, n_train) trains; [n_train, n), the last 5%, validates */
} muon_data;

enum { MUON_SPLIT_TRAIN = 0, MUON_SPLIT_VAL = 1 };

/* Reads a whole corpus file; MUON_ERR_IO naming a missing/unreadable file,
 * MUON_ERR_FORMAT if it is empty. *d is zeroed on failure. */
int muon_data_load(muon_data *d, const char *path);
void muon_data_free(muon_data *d);
/* Bytes in a split. */
size_t muon_data_split_size(const muon_data *d, int split);
/* Batch `index` of a split (the step for training, 0.. for the fixed validation
 * batches): B windows of T+1 bytes at offsets drawn from an RNG seeded by
 * (seed, split, index) alone, so a resumed run needs no RNG state.
 * tokens(B,T) = window[0..T-1], targets(B,T) = window[1..T]. MUON_ERR_ARG if
 * the split is shorter than T+1 bytes. */
int muon_data_batch(const muon_data *d, int split, uint64_t seed, long index,
                    int B, int T, int *tokens, int *targets);
/* Byte-unigram entropy of the training split in nats (the loss of a model that
 * knows only byte frequencies). */
double muon_data_unigram_entropy(const muon_data *d);

/* ---- LR schedule (model/schedule.c) -------------------------------------- */

typedef enum { MUON_SCHED_CONSTANT = 0, MUON_SCHED_COSINE = 1 } muon_sched_kind;

/* "constant", "cosine"; parse gives MUON_ERR_ARG naming an unknown name. */
const char *muon_sched_name(muon_sched_kind k);
int muon_sched_parse(const char *name, muon_sched_kind *k);
/* LR multiplier of step (1-based) out of total: step/warmup while step <= warmup
 * (never 0: no lr-0 first step), then 1 (constant) or a half cosine from 1 at
 * the end of warmup to floor at step == total. */
double muon_lr_multiplier(muon_sched_kind kind, long step, long warmup, long total,
                          double floor);

/* ---- Optimizers (model/muon_optimizer.c, adamw.c, optimizer.c) ------------ */

typedef enum { MUON_OPT_MUON = 0, MUON_OPT_ADAMW = 1 } muon_opt_kind;
typedef enum { MUON_MSCALE_DEFAULT = 0, MUON_MSCALE_MOONLIGHT = 1 } muon_mscale_kind;

typedef struct {
    muon_opt_kind kind;      /* muon: Muon on MATRIX params, AdamW elsewhere; adamw: AdamW on all */
    muon_orth_kind orth;     /* polar-express */
    int ns_steps;            /* newton-schulz steps (0: its default) */
    float lr;                /* Muon lr, 0.02 */
    float adam_lr;           /* AdamW lr, 1e-3 */
    float wd;                /* decoupled weight decay, 0; never applied to gains */
    float momentum;          /* Muon mu, 0.95 */
    int nesterov;            /* 1: U = (1-mu) G + mu M; 0: U = M */
    muon_mscale_kind scale;  /* default sqrt(max(1,rows/cols)); moonlight 0.2 sqrt(max(rows,cols)) */
    float beta1, beta2, eps; /* AdamW: 0.9, 0.95, 1e-8 */
    float clip;              /* global gradient-norm clip, 1.0; 0 = off */
} muon_optim_config;

/* The defaults above. */
void muon_optim_defaults(muon_optim_config *c);
/* "muon", "adamw"; parse: MUON_ERR_ARG naming an unknown name. */
const char *muon_opt_name(muon_opt_kind k);
int muon_opt_parse(const char *name, muon_opt_kind *k);
/* "default", "moonlight"; parse: MUON_ERR_ARG naming an unknown name. */
const char *muon_mscale_name(muon_mscale_kind k);
int muon_mscale_parse(const char *name, muon_mscale_kind *k);
/* Muon's update scale for a (rows,cols) matrix. */
float muon_muon_scale(muon_mscale_kind k, int rows, int cols);

/* One Muon step on W(rows,cols) with gradient G(rows,cols) at learning rate lr:
 * M(rows,cols) <- mu M + (1-mu) G; O(rows,cols) = orth(U); W <- W (1 - lr wd)
 * - lr scale O; delta(rows,cols) = W after - W before. MUON_ERR_ARG/NOMEM. */
int muon_muon_update(const muon_optim_config *c, float lr, int rows, int cols,
                     float *W, const float *G, float *M, float *O, float *delta);
/* One AdamW step, as torch.optim.AdamW, on n values: t is the 1-based step
 * (bias correction), wd the decoupled weight decay; m(n), v(n) the moments;
 * delta(n) = W after - W before. */
void muon_adamw_update(const muon_optim_config *c, float lr, float wd, long t, size_t n,
                       float *W, const float *G, float *m, float *v, float *delta);
/* Global L2 norm of g(n), accumulated in double in index order per block of
 * fixed size and the blocks summed in order (thread-count independent). */
double muon_grad_norm(const float *g, size_t n);

/* The optimizer of a whole model: routes every parameter to Muon or AdamW. */
typedef struct {
    muon_optim_config cfg;
    size_t n;               /* = the model's num_params; every buffer is laid out like params */
    long t;                 /* optimizer steps taken */
    float *momentum;        /* (n) Muon M at Muon params, AdamW first moment elsewhere */
    float *adam_v;          /* (n) AdamW second moment (unused at Muon params) */
    float *delta;           /* (n) W after - W before of the last step */
    float *orth_out;        /* (n) the last O at Muon params; NULL with --optimizer adamw */
    double grad_norm;       /* global gradient norm of the last step, before clipping */
    double orth_seconds;    /* cumulative wall time of the Muon updates (orthogonaliser-dominated) */
} muon_optim;

/* 1 if the parameter is trained by Muon under cfg. */
int muon_optim_uses_muon(const muon_optim_config *cfg, const muon_param *p);
/* Allocates zeroed state for m; MUON_ERR_ARG (bad settings) or MUON_ERR_NOMEM. */
int muon_optim_create(muon_optim *o, const muon_optim_config *cfg, const muon_model *m);
/* Clips m->grads by global norm, then steps every parameter with lrs scaled by
 * lr_mult (Muon matrices in parallel, one matrix per thread: same result for
 * any thread count). MUON_ERR_NUMERIC if the gradient norm is not finite
 * (params untouched). */
int muon_optim_step(muon_optim *o, muon_model *m, double lr_mult);
void muon_optim_free(muon_optim *o);

/* ---- Checkpoints (model/checkpoint.c): safetensors, PyTorch names ---------- */

/* Writes m's parameters (gains 1-D, matrices 2-D), o's state (may be NULL) as
 * optim.muon_momentum.<name> / optim.adam_m.<name> / optim.adam_v.<name>, step
 * and config in the metadata, plus extra meta_kv pairs (NULL-terminated, may be
 * NULL), atomically. MUON_ERR_NUMERIC (nothing written) if a parameter is not finite. */
int muon_checkpoint_save(const char *path, const muon_model *m, const muon_optim *o,
                         long step, const char *const *meta_kv);
/* Reads a checkpoint (*f as muon_st_read) and checks it is one of ours:
 * MUON_ERR_IO / MUON_ERR_FORMAT naming the file and the problem. */
int muon_checkpoint_open(const char *path, muon_st_file *f);
/* The model config recorded in a checkpoint's metadata; MUON_ERR_FORMAT if absent/bad. */
int muon_checkpoint_config(const muon_st_file *f, muon_config *cfg);
/* The step recorded in a checkpoint (>= 0). */
int muon_checkpoint_step(const muon_st_file *f, long *step);
/* Copies every parameter of the created model m from f; MUON_ERR_FORMAT naming
 * a missing or mismatched tensor. */
int muon_checkpoint_load_model(const muon_st_file *f, muon_model *m);
/* Restores o's state (created for m with the same optimizer kind) from f. */
int muon_checkpoint_load_optim(const muon_st_file *f, const muon_model *m, muon_optim *o);

/* ---- Training (model/train_config.c, train.c, run_json.c) ----------------- */

typedef struct {
    char model_name[32];     /* nano */
    muon_config model;
    muon_optim_config optim;
    muon_sched_kind schedule;/* cosine */
    long warmup;             /* linear warmup steps */
    float lr_floor;          /* cosine ends at lr_floor * lr */
    long steps;              /* optimizer steps (total, including resumed ones) */
    long tokens;             /* if > 0: steps = ceil(tokens / (B*T)) */
    uint64_t seed;
    int threads;             /* 0: OpenMP's default */
    int eval_every, eval_batches, log_every, ckpt_every, track_every; /* 0 = off */
    long stop_after;         /* > 0: stop (checkpoint kept) after this step, as Ctrl-C would */
    char data[512], out[512], resume[512];
} muon_train_config;

/* Defaults (the nano model, Muon). */
void muon_train_defaults(muon_train_config *c);
/* Sets the option called name (the flag without "--": "lr", "d-model",
 * "no-nesterov", "model", ...) from value (ignored for switches); MUON_ERR_ARG
 * naming the flag and the bad value, or an unknown flag. */
int muon_train_set(muon_train_config *c, const char *name, const char *value);
/* 1 if name is a flag without a value (e.g. "no-nesterov"), 0 if it takes one,
 * -1 if unknown. */
int muon_train_flag_kind(const char *name);
/* Prints every option with its value in c (the defaults for --help). */
void muon_train_help(FILE *out, const muon_train_config *c);
/* Overlays the settings recorded in a checkpoint's metadata onto c. */
int muon_train_config_from_meta(muon_train_config *c, const muon_st_file *f);
/* The settings as NULL-terminated key/value pairs for metadata (static storage,
 * valid until the next call). */
const char *const *muon_train_config_meta(const muon_train_config *c);

/* Runs a training job: c->out gets checkpoint.safetensors, metrics.csv,
 * run.json and research_plots/; progress lines go to progress (may be NULL),
 * a plot failure is one warning line there. Errors are found before any
 * output is written. MUON_ERR_NUMERIC on a NaN/Inf loss (last good checkpoint
 * kept). Returns MUON_OK also when stopped by muon_train_stop (*stopped = 1). */
int muon_train(const muon_train_config *c, FILE *progress, int *stopped);
/* stopped: 0 ran to the end, 1 by muon_train_stop (SIGINT), 2 by stop_after. */
/* Asks a running muon_train to stop after the current step (signal-safe). */
void muon_train_stop(void);

/* What a run did, for run.json. */
typedef struct {
    long steps_done;
    long long tokens_seen;   /* steps * B * T: more than a 32-bit long holds */
    double seconds_total, seconds_train, seconds_orth, seconds_eval, seconds_track;
    double tokens_per_s;               /* training steps only */
    double final_loss, final_val_loss; /* NaN if none */
    double unigram_entropy;            /* of the training split, nats */
    int threads;
    const char *status;                /* "completed", "stopped", "diverged" */
} muon_run_stats;

/* Writes run.json (settings, model, versions, threads, timings, losses)
 * atomically (temporary file + rename). MUON_ERR_IO naming the file. */
int muon_run_json_write(const char *path, const muon_train_config *c, const muon_run_stats *s);

/* ---- Sampling (model/sample.c) -------------------------------------------- */

/* Appends n_new bytes to prompt(n_prompt) by running m on the last seq_len
 * bytes; temperature 0 = greedy, else softmax(logits/temperature) sampled from
 * seed. out(n_new) receives the new bytes. */
int muon_sample(muon_model *m, const unsigned char *prompt, int n_prompt, int n_new,
                float temperature, uint64_t seed, unsigned char *out);

/* Prints training tokens/s for nano on 1 and 2 threads and the share of time
 * in the Muon update and in the orthogonaliser (model/train_bench.c). */
int muon_bench_train(FILE *out);

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

/* A small raster plotting library: an RGB canvas, anti-aliased lines and
 * markers, a built-in bitmap font, axes with nice ticks, legends, heatmaps
 * with a perceptual colour map, PNG output. Pixel (0,0) is the top-left
 * corner; pixel (x,y) covers [x,x+1) x [y,y+1), so its centre is (x+.5,y+.5). */

typedef struct { unsigned char r, g, b; } muon_rgb;

typedef struct {
    int w, h;
    unsigned char *px;     /* (h,w,3) RGB, row-major */
    unsigned char *mask;   /* (h,w) coverage scratch for one shape at a time */
    int mx0, my0, mx1, my1; /* bounding box of the mask's non-zero part */
    int cx0, cy0, cx1, cy1; /* shapes (lines, markers) are clipped to [cx0,cx1) x [cy0,cy1) */
} muon_canvas;

/* Allocates a w x h canvas (1..16384 each) filled with bg; MUON_ERR_ARG or
 * MUON_ERR_NOMEM. Free with muon_canvas_free. */
int muon_canvas_create(muon_canvas *c, int w, int h, muon_rgb bg);
/* Releases c's buffers and zeroes it (NULL, or a zeroed canvas, is fine). */
void muon_canvas_free(muon_canvas *c);
/* Clips later lines and markers to [x0,x1) x [y0,y1) (intersected with the
 * canvas); muon_canvas_clip(c, 0, 0, c->w, c->h) removes the clip. */
void muon_canvas_clip(muon_canvas *c, int x0, int y0, int x1, int y1);
/* Blends col over pixel (x,y) with opacity a in [0,1]; outside pixels ignored. */
void muon_canvas_blend(muon_canvas *c, int x, int y, muon_rgb col, double a);
/* The colour of pixel (x,y) (clamped to the canvas). */
muon_rgb muon_canvas_get(const muon_canvas *c, int x, int y);
/* Fills the pixels x0 <= x < x1, y0 <= y < y1 (clipped) with col at opacity a. */
void muon_canvas_fill_rect(muon_canvas *c, int x0, int y0, int x1, int y1,
                           muon_rgb col, double a);
/* Anti-aliased polyline through the points (x(n),y(n)) in pixel coordinates,
 * width in pixels, round joins and caps, drawn as one shape (overlaps are not
 * darkened). dash > 0: dashes and gaps of that many pixels. A non-finite point
 * breaks the line. */
void muon_canvas_polyline(muon_canvas *c, const double *x, const double *y, int n,
                          double width, double dash, muon_rgb col, double a);
/* One anti-aliased segment: a two-point muon_canvas_polyline. */
void muon_canvas_line(muon_canvas *c, double x0, double y0, double x1, double y1,
                      double width, muon_rgb col, double a);
enum { MUON_MARK_CIRCLE = 0, MUON_MARK_SQUARE = 1, MUON_MARK_DIAMOND = 2,
       MUON_MARK_TRIANGLE = 3 };
/* An anti-aliased filled marker of radius r centred on (x,y). */
void muon_canvas_marker(muon_canvas *c, double x, double y, double r, int shape,
                        muon_rgb col, double a);

/* Text in the built-in 5x7 bitmap font (ASCII 32..126, others drawn as '?'),
 * proportionally spaced, scaled by an integer factor 1..6 (2, 3 and 4 are
 * smoothed with Scale2x/Scale3x). Width in pixels of s at that scale. */
int muon_text_width(const char *s, int scale);
/* Height of a line of text (cap height + descender) at that scale. */
int muon_text_height(int scale);
/* Draws s with its anchor at (x,y): halign -1 left, 0 centre, 1 right edge;
 * valign -1 top of the capitals, 0 middle of the capitals, 1 baseline.
 * rotate != 0 turns it 90 degrees counter-clockwise (reading bottom to top),
 * alignments then apply along the rotated text. */
void muon_canvas_text(muon_canvas *c, int x, int y, const char *s, int scale,
                      muon_rgb col, int halign, int valign, int rotate);

/* "Nice" linear ticks after Heckbert (Graphics Gems, 1990): the step d is the
 * nice number (1, 2, 5 x 10^k, rounded) nearest (R)/(target-1), R the nice
 * number (1, 2, 5, 10 x 10^k, rounded up) >= hi-lo; ticks run from
 * floor(lo/d)*d to ceil(hi/d)*d. Writes at most cap ticks, returns how many
 * (0 for non-finite input). *step may be NULL. A zero range is widened. */
int muon_nice_ticks(double lo, double hi, int target, double *ticks, int cap,
                    double *step);
/* Log-scale ticks for lo > 0: the powers of ten from 10^floor(log10 lo) to
 * 10^ceil(log10 hi) (every k-th decade when there are many), with 2 and 5
 * between them when fewer than two decades are spanned. Returns the count
 * (0 if lo <= 0 or not finite). */
int muon_log_ticks(double lo, double hi, double *ticks, int cap);
/* Formats a tick value v on an axis whose tick step is step (enough decimals
 * to tell neighbours apart; scientific for very large or small values). */
void muon_format_tick(double v, double step, char *buf, size_t n);
/* Formats a count compactly: 950, 1.5k, 20M, 3.2G. */
void muon_format_si(double v, char *buf, size_t n);

/* Viridis colour map: t in [0,1] (clamped; NaN gives light grey), linear
 * interpolation between matplotlib's 11 anchor colours at t = 0, 0.1, ..., 1. */
muon_rgb muon_colormap(double t);

/* A plot area: data (xmin..xmax, ymin..ymax) onto pixels [x0,x1] x [y0,y1]
 * (y0 on top), each axis linear or log10. */
typedef struct {
    int x0, y0, x1, y1;
    double xmin, xmax, ymin, ymax;
    int xlog, ylog;
} muon_axes;

/* Pixel column / row of data x / y (may lie outside the area; NaN for a
 * non-positive value on a log axis). */
double muon_axes_px(const muon_axes *ax, double x);
double muon_axes_py(const muon_axes *ax, double y);
/* Draws the grid at the given ticks (x then y), the frame, tick marks and tick
 * labels (scale 2) left of and below the area (xlabels 0: no x tick labels). */
void muon_axes_draw(muon_canvas *c, const muon_axes *ax, const double *xt, int nxt,
                    const double *yt, int nyt, int xlabels);
/* Draws data series (x(n),y(n)) as a line clipped to the area; runs of many
 * points are reduced per pixel column to first/min/max/last so thousands of
 * points draw fast and look the same. Non-finite y breaks the line.
 * MUON_ERR_NOMEM if the reduction's buffer cannot be allocated. */
int muon_axes_series(muon_canvas *c, const muon_axes *ax, const double *x,
                     const double *y, int n, double width, double dash,
                     muon_rgb col, double a);

typedef struct {
    const char *label;
    muon_rgb col;
    double width;  /* line width; 0: no line */
    double dash;   /* 0: solid */
    int marker;    /* -1: none, else MUON_MARK_* */
    int bar;       /* 1: a filled box (for bar charts) */
} muon_legend_entry;

/* Size in pixels of the legend box of n entries. */
void muon_legend_size(const muon_legend_entry *e, int n, int *w, int *h);
/* Draws the legend box with its top-left corner at (x,y). */
void muon_legend_draw(muon_canvas *c, int x, int y, const muon_legend_entry *e, int n);

/* Heatmap of v(rows,cols) filling pixels [x0,x1) x [y0,y1), row 0 at the top,
 * colour muon_colormap((v-vmin)/(vmax-vmin)); NaN cells light grey. fmt != NULL
 * prints each value with it (printf format of a double) in the cell when it
 * fits, black or white for contrast. */
void muon_heatmap(muon_canvas *c, int x0, int y0, int x1, int y1, const double *v,
                  int rows, int cols, double vmin, double vmax, const char *fmt);
/* A vertical colour bar in [x0,x1) x [y0,y1) for vmin (bottom) .. vmax (top),
 * with ticks and labels on its right and label (may be NULL) rotated beside. */
void muon_colorbar(muon_canvas *c, int x0, int y0, int x1, int y1, double vmin,
                   double vmax, const char *label);

/* Writes c as a PNG at path atomically (a temporary file in the same
 * directory, then rename): MUON_ERR_IO naming the path on failure. */
int muon_png_write(const char *path, const muon_canvas *c);

/* metrics.csv read into memory (plots/metrics_csv.c). Matrix metrics are
 * indexed by muon_metric_index() and matrix kind 0..6 (q,k,v,o,up,down,gate).
 * Values: NaN = not logged; +inf = logged as nan/inf (a missing point). */
enum { MUON_CSV_LOSS = 0, MUON_CSV_VAL_LOSS, MUON_CSV_LR, MUON_CSV_TOKENS,
       MUON_CSV_NMODEL };
#define MUON_CSV_NKINDS 7
#define MUON_CSV_NMETRICS 22
typedef struct {
    int n_steps;
    long *steps;        /* (n_steps) ascending: steps with a model-wide row */
    double *model;      /* (MUON_CSV_NMODEL, n_steps) */
    int n_tracked;
    long *tracked;      /* (n_tracked) ascending: steps with a matrix row */
    int n_layers;       /* 1 + the largest layer index seen (0 if none) */
    float *mat[MUON_CSV_NMETRICS][MUON_CSV_NKINDS]; /* NULL or (n_layers, n_tracked) */
    long partial_line;  /* > 0: this last line had no end of line (a write cut short) and was ignored */
} muon_metrics_table;

/* Index 0..MUON_CSV_NMETRICS-1 of a matrix metric name ("sigma_max",
 * "top_sv_3", ...), or -1 if unknown. */
int muon_metric_index(const char *name);
/* Name of matrix kind k (0..6): "q", "k", "v", "o", "up", "down", "gate". */
const char *muon_csv_kind_name(int k);
/* Parses the whole of path (header "step,layer,matrix,metric,value"; unknown
 * metric names and matrix kinds are skipped). MUON_ERR_IO if it cannot be
 * read, MUON_ERR_FORMAT "path:line: problem" if malformed; *t zeroed then. */
int muon_metrics_read(const char *path, muon_metrics_table *t);
/* Releases what muon_metrics_read allocated and zeroes t (NULL is fine). */
void muon_metrics_free(muon_metrics_table *t);

/* Options of muon_plot_run_opts: layers[n_layers] are the layers compared
 * (n_layers 0: first, middle and last; each must exist in the log, else
 * MUON_ERR_ARG); width/height 0: 1200 x 750 (else 600x400 .. 8000x8000). */
typedef struct {
    int n_layers;
    int layers[8];
    int width, height;
} muon_plot_options;

/* Like muon_plot_run with options (NULL: the defaults). */
int muon_plot_run_opts(const char *run_dir, const muon_plot_options *opt);
/* The same plots from any metric CSV (e.g. `muon analyze`'s, where step is
 * the checkpoint index) into dir (created, with missing parents). */
int muon_plot_csv(const char *csv_path, const char *dir, const muon_plot_options *opt);

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
