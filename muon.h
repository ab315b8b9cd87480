/* muon.h -- the public header of muon: train a GPT-style model with the Muon
 * optimizer in plain C99 while measuring the spectral geometry of its weights.
 *
 * Usage (one training step; docs/walkthrough.md explains each call, muon.c
 * is the whole program):
 *
 *     muon_config cfg; muon_model m; muon_optim_config oc; muon_optim o;
 *     int tokens[16 * 128], targets[16 * 128];  // B=16, T=128 byte values
 *     int st = muon_config_named("nano", &cfg);
 *     if (!st) st = muon_model_create(&m, &cfg);  // the only allocations
 *     if (!st) { muon_model_init(&m, 1337); muon_optim_defaults(&oc); }
 *     if (!st) st = muon_optim_create(&o, &oc, &m);
 *     if (!st) { muon_model_zero_grad(&m);
 *                st = muon_model_forward(&m, tokens, targets, 16, 128); } // m.loss
 *     if (!st) st = muon_model_backward(&m);           // m.grads
 *     if (!st) st = muon_optim_step(&o, &m, 1.0);      // Muon + AdamW update
 *     if (st) fprintf(stderr, "%s\n", muon_last_error());
 *
 * Conventions: matrices are float32, row-major, "(m,n)" = m rows, n columns;
 * weights are PyTorch's [out_features, in_features]. Functions that can fail
 * return MUON_OK (0) or a MUON_ERR_* code and leave a one-line message in
 * muon_last_error(); the library never prints or exits (only muon.c does).
 * "_create"/"_read" allocate, the matching "_free" releases; other buffers
 * are the caller's. Results never depend on the thread count
 * (docs/determinism.md). Compile linalg/status.c with -DMUON_MALLOC=f
 * -DMUON_FREE=g to route every allocation through your allocator.
 * Dimensions: B batch, T sequence, C d_model, NH heads, NKV kv heads, HS head
 * size, F d_ff, V vocab, L layers. Internal declarations: one header per
 * folder (linalg/linalg.h, io/io.h, model/model_internal.h, train/train.h,
 * metrics/metrics.h, plots/plots.h); the design: docs/README.md.
 */
#ifndef MUON_H
#define MUON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MUON_VERSION "0.1.0"

/* ---- Status, errors, threads (linalg/status.c) ----------------------------- */
enum {
    MUON_OK = 0, MUON_ERR_ARG = 1 /* bad argument: shape, value, flag */,
    MUON_ERR_NOMEM = 2, MUON_ERR_IO = 3 /* open, read or write failed */,
    MUON_ERR_FORMAT = 4 /* malformed, truncated, wrong kind of file */,
    MUON_ERR_NUMERIC = 5 /* NaN/Inf or a failed convergence */
};

/* The message of the last error ("" if none), kept per thread: a worker's
 * error never overwrites the caller's. Valid until that thread's next error. */
const char *muon_last_error(void);
const char *muon_status_name(int status);  /* "ok", "out of memory", ... */
/* Sets / reads the OpenMP thread count (t >= 1; always 1 without OpenMP). */
void muon_set_threads(int t);
int muon_threads(void);

/* ---- Orthogonalisation (linalg/orth.c): Muon's polar-factor approximation --- */
typedef enum {
    MUON_ORTH_POLAR_EXPRESS = 0, /* default: five tuned per-step triples */
    MUON_ORTH_KELLER = 1,        /* Keller Jordan's quintic, 5 steps */
    MUON_ORTH_NEWTON_SCHULZ = 2, /* classical (1.875, -1.25, 0.375) */
    MUON_ORTH_SVD = 3,           /* exact U V^T from muon_svd: the oracle */
    MUON_ORTH_POLAR_EXPRESS_NANOGPT = 4 /* the same table, modded-nanogpt's X/(1.02||X||_F + 1e-6) */
} muon_orth_kind;

/* The --orth names ("unknown" otherwise); parse: MUON_ERR_ARG naming the name and
 * listing the valid ones. Every enum's name/parse pair works so (one table each). */
const char *muon_orth_name(muon_orth_kind k);
int muon_orth_parse(const char *name, muon_orth_kind *k);

/* O(rows,cols) = orth(G(rows,cols)) (docs/orthogonalizers.md), float32; G and
 * O may alias; steps: newton-schulz only (0: 5, at most 64). Tall G gives
 * exactly orth(G^T)^T. G = 0 gives O = 0 for every method (svd drops zero
 * directions). Allocates its scratch per call (muon_orthogonalize_ws reuses
 * one). MUON_ERR_ARG, MUON_ERR_NUMERIC (NaN/Inf in G; O untouched), NOMEM. */
int muon_orthogonalize(muon_orth_kind kind, int steps, int rows, int cols,
                       const float *G, float *O);

/* ---- Safetensors files (io/safetensors.c) ---------------------------------- */
#define MUON_TENSOR_MAXDIM 8

typedef struct {
    char *name;                     /* owned by the file */
    char dtype[8];                  /* as stored: F32, F64, F16, BF16, I32, I64, ... */
    int ndim;
    int64_t shape[MUON_TENSOR_MAXDIM];
    size_t numel;
    float *data;                    /* (numel) converted to float32 */
} muon_tensor;

typedef struct {
    int count, meta_count;
    muon_tensor *tensors;           /* (count) */
    char **meta_keys, **meta_values;/* (meta_count) "__metadata__" string pairs */
} muon_safetensors;

/* Reads a whole safetensors file (F32, F64, F16, BF16, I64, I32, I16, I8, U8,
 * BOOL converted to float; docs/formats.md). Malformed or truncated files give
 * MUON_ERR_FORMAT naming the problem; *f is zeroed on failure. */
int muon_safetensors_read(const char *path, muon_safetensors *f);
/* The tensor called name / a metadata value, or NULL. */
const muon_tensor *muon_safetensors_find(const muon_safetensors *f, const char *name);
const char *muon_safetensors_meta(const muon_safetensors *f, const char *key);
void muon_safetensors_free(muon_safetensors *f);

/* ---- Model (model/): config, parameters, forward, backward ----------------- */
typedef enum { MUON_FFN_RELU2 = 0, MUON_FFN_SWIGLU = 1 } muon_ffn_kind;

typedef struct {
    int vocab_size, d_model, n_layers; /* V (256: bytes), C, L */
    int n_heads, n_kv_heads;  /* NH (HS = C/NH); NKV divides NH (grouped-query) */
    int d_ff, seq_len, batch_size; /* F; T, the longest sequence; B */
    muon_ffn_kind ffn;
    int untied_head;  /* 1: separate head.weight (V,C); 0: tied to the embedding */
    int merged_qkvo;  /* 1: one [Q;K;V;O] matrix per layer, orthogonalised whole */
    float rope_base;  /* 10000 */
    float norm_eps;   /* RMSNorm epsilon, 1e-6 */
    float init_std;   /* N(0, init_std^2) for every matrix and the embedding, 0.02 */
} muon_config;

/* Fills cfg with a named config (docs/model.md); MUON_ERR_ARG naming an unknown name.
 *   nano (default)  V 256, C 128, L 8,  NH 4, NKV 2, F 512,  T 128,  B 16
 *   tiny (tests)    V 256, C 32,  L 2,  NH 4, NKV 2, F 64,   T 16,   B 2
 *   blueberry-nano  V 256, C 512, L 22, NH 8, NKV 4, F 2048, T 2048, B 1
 *   deep            V 256, C 128, L 22, NH 4, NKV 2, F 512,  T 128,  B 16
 * all relu2, tied head, separate Q/K/V/O, RoPE base 1e4, eps 1e-6, std 0.02. */
int muon_config_named(const char *name, muon_config *cfg);
/* Sets the field called key ("d_model" or "d-model", "ffn" = relu2|swiglu, ...)
 * from a string, range-checked; MUON_ERR_ARG naming a bad key or value (cfg
 * unchanged). Cross-field consistency is muon_config_check's job. */
int muon_config_set(muon_config *cfg, const char *key, const char *value);
/* MUON_OK if every field is in range and consistent, else MUON_ERR_ARG naming
 * it; the number of trainable scalars of the model described by cfg. */
int muon_config_check(const muon_config *cfg);
size_t muon_config_param_count(const muon_config *cfg);

typedef enum {  /* embed.weight (V,C, also the tied head); head.weight (V,C);
                 * RMSNorm gains (1,n): AdamW, no decay; hidden matrices: Muon */
    MUON_ROLE_EMBEDDING = 0, MUON_ROLE_HEAD = 1, MUON_ROLE_GAIN = 2, MUON_ROLE_MATRIX = 3
} muon_param_role;

typedef enum {  /* Q..GATE are the tracked kinds, QKVO the merged [Q;K;V;O] */
    MUON_MAT_Q = 0, MUON_MAT_K, MUON_MAT_V, MUON_MAT_O, MUON_MAT_UP,
    MUON_MAT_DOWN, MUON_MAT_GATE, MUON_MAT_QKVO, MUON_MAT_NONE, MUON_MAT_COUNT
} muon_matrix_kind;
/* "q", "k", "v", "o", "up", "down", "gate", "qkvo", "none" ("?" otherwise). */
const char *muon_matrix_name(muon_matrix_kind k);

typedef struct {
    char name[64];           /* PyTorch-style: "layers.3.attn.q.weight" */
    muon_param_role role;
    muon_matrix_kind kind;
    int layer, rows, cols;   /* layer 0..L-1 or -1; [out, in], a gain is (1, n) */
    size_t offset;           /* first element in params[] and grads[] */
} muon_param;

typedef struct muon_acts muon_acts; /* activations and scratch, private to model/ */
typedef struct muon_packed_weights muon_packed_weights; /* model/packed_weights.c, private to model/ and train/ */

typedef struct {
    muon_config cfg;
    int n_tensors;
    muon_param *tensors;     /* (n_tensors) embed, layers..., final norm, head (docs/model.md) */
    size_t num_params;
    float *params, *grads;   /* (num_params) each, tensors[i].offset into them */
    muon_acts *acts;         /* named weights, activations for batch_size x seq_len */
    int B, T;                /* shape of the last forward */
    float loss;              /* mean cross-entropy of the last forward with targets */
    float *bf16_x, *bf16_g;  /* --precision bf16 scratch (docs/precision.md), NULL in fp32 */
    const muon_packed_weights *packed; /* params' linear weights packed for the GEMM, or NULL;
                                        * set only by train/data_parallel.c while params stay as
                                        * packed; callers leave it NULL */
} muon_model;

/* Allocates parameters, gradients and activations for cfg (checked); nothing
 * is allocated later by forward/backward. Parameters are zero until init. */
int muon_model_create(muon_model *m, const muon_config *cfg);
/* N(0, init_std^2) for matrices and the embedding, gains 1, from seed alone
 * (one stream, tensors in order, row-major: docs/model.md). */
void muon_model_init(muon_model *m, uint64_t seed);
/* Forward on tokens(B,T), B <= batch_size, T <= seq_len; with targets(B,T)
 * (may be NULL) also m->loss. MUON_ERR_ARG for bad shapes or token ids. */
int muon_model_forward(muon_model *m, const int *tokens, const int *targets, int B, int T);
/* Logits (B,T,V) of the last forward. */
const float *muon_model_logits(const muon_model *m);
/* Backward of the last forward (which had targets): grads += d(loss)/d(params),
 * each element rounded once where B*T fits the GEMM's K block (docs/model.md). */
int muon_model_backward(muon_model *m);
/* The same, grads = d(loss)/d(params): zero_grad then backward in one pass
 * fewer over grads (equal values; an exact zero may differ in sign). */
int muon_model_backward_set(muon_model *m);
void muon_model_zero_grad(muon_model *m);  /* grads = 0 */
void muon_model_free(muon_model *m);

/* ---- Optimizers (train/muon_optimizer.c, adamw.c, optimizer.c) ------------- */
typedef enum { MUON_SCHED_CONSTANT = 0, MUON_SCHED_COSINE = 1 } muon_sched_kind;
typedef enum { MUON_OPT_MUON = 0, MUON_OPT_ADAMW = 1 } muon_opt_kind;
typedef enum { MUON_MSCALE_DEFAULT = 0, MUON_MSCALE_MOONLIGHT = 1 } muon_mscale_kind;

typedef struct {             /* docs/optimizers.md; muon_optim_defaults sets: */
    muon_opt_kind kind;      /* muon: Muon on matrices, AdamW elsewhere; adamw: AdamW on all */
    muon_orth_kind orth;     /* polar-express */
    int ns_steps;            /* newton-schulz steps (0: its default) */
    float lr, adam_lr, wd;   /* Muon lr 0.02, AdamW lr 1e-3, decoupled decay 0 (never on gains) */
    float momentum;          /* Muon mu, 0.95 */
    int nesterov;            /* 1: U = (1-mu) G + mu M; 0: U = M */
    muon_mscale_kind scale;  /* default sqrt(max(1,rows/cols)); moonlight 0.2 sqrt(max(rows,cols)) */
    float beta1, beta2, eps; /* AdamW: 0.9, 0.95, 1e-8 */
    float clip;              /* global gradient-norm clip, 1.0; 0 = off */
    float update_noise;      /* --update-noise X (docs/experiments.md), 0 = off */
    uint64_t noise_seed;     /* its seed: the run's (set by muon_train) */
    int bf16;                /* --precision bf16 (docs/precision.md) */
} muon_optim_config;
void muon_optim_defaults(muon_optim_config *c);

/* The optimizer of a whole model: routes every parameter to Muon or AdamW. */
typedef struct {
    muon_optim_config cfg;
    size_t n;               /* = the model's num_params; every buffer is laid out like params */
    long t;                 /* optimizer steps taken */
    float *momentum;        /* (n) Muon M at Muon params, AdamW first moment elsewhere */
    float *adam_v, *delta;  /* (n) AdamW second moment; W after - W before of the last step */
    float *orth_out;        /* (n) the last O at Muon params; NULL with --optimizer adamw */
    double grad_norm;       /* global gradient norm of the last step, before clipping */
    double orth_seconds;    /* cumulative wall time of the Muon updates */
    double *tensor_sq;      /* (tensors) scratch: each gradient's sum of squares */
    void *work;             /* preallocated workspaces of the step (train/optimizer.c) */
} muon_optim;

/* Allocates zeroed state and the step's workspaces for m; MUON_ERR_ARG (bad
 * settings) or MUON_ERR_NOMEM. muon_optim_step allocates nothing. */
int muon_optim_create(muon_optim *o, const muon_optim_config *cfg, const muon_model *m);
/* Clips m->grads by global norm (the tensors' sums of squares added in model
 * order), then steps every parameter with lrs scaled by
 * lr_mult (Muon matrices in parallel, whole matrices per thread). MUON_ERR_NUMERIC
 * if the gradient norm is not finite (params untouched). */
int muon_optim_step(muon_optim *o, muon_model *m, double lr_mult);
void muon_optim_free(muon_optim *o);

/* ---- Checkpoints (train/checkpoint.c): safetensors, PyTorch names ---------- */
/* Writes m's parameters, o's state (may be NULL), step, config and the extra
 * meta_kv pairs (NULL-terminated, may be NULL) atomically (docs/formats.md).
 * MUON_ERR_NUMERIC (nothing written) if a parameter is not finite. */
int muon_checkpoint_save(const char *path, const muon_model *m, const muon_optim *o,
                         long step, const char *const *meta_kv);
/* Reads a checkpoint (*f as muon_safetensors_read) and checks it is one of ours:
 * MUON_ERR_IO / MUON_ERR_FORMAT naming the file and the problem. */
int muon_checkpoint_open(const char *path, muon_safetensors *f);
/* The model config recorded in a checkpoint's metadata; MUON_ERR_FORMAT if absent/bad. */
int muon_checkpoint_config(const muon_safetensors *f, muon_config *cfg);
/* Copies every parameter of the created model m from f; MUON_ERR_FORMAT names
 * a missing or mismatched tensor. */
int muon_checkpoint_load_model(const muon_safetensors *f, muon_model *m);

/* ---- Training (train/train_config.c, train.c) ------------------------------ */
typedef struct {             /* every flag of `muon train --help`, with its default */
    char model_name[32];     /* nano */
    muon_config model;
    muon_optim_config optim;
    muon_sched_kind schedule;/* cosine to lr_floor * lr after warmup linear steps */
    long warmup;
    float lr_floor;
    long steps, tokens;      /* total optimizer steps; tokens > 0: steps = ceil(tokens/(B*T)) */
    uint64_t seed;
    int threads;             /* 0: OpenMP's default */
    int eval_every, eval_batches, log_every, ckpt_every, track_every; /* 0 = off */
    long stop_after;         /* > 0: stop (checkpoint kept) after this step, as Ctrl-C would */
    char data[512], out[512], resume[512];
    float init_stretch;      /* --init stretched:F, 0 = normal (docs/experiments.md) */
    int data_format;         /* --data-format (model/experiments.h) */
    float event_k; int event_window; /* --event-k (0 = off), --event-window */
    int reduce;              /* --reduce: MUON_REDUCE_TREE (default) or _BATCH (docs/distributed.md) */
} muon_train_config;
enum { MUON_REDUCE_TREE = 0, MUON_REDUCE_BATCH = 1 };
void muon_train_defaults(muon_train_config *c);
/* Sets the option called name (the flag without "--": "lr", "no-nesterov",
 * ...) from value (ignored for switches); MUON_ERR_ARG naming the flag and the
 * bad value, or an unknown flag. flag_kind: 1 a switch, 0 takes a value, -1
 * unknown. help prints every option with its value in c. */
int muon_train_set(muon_train_config *c, const char *name, const char *value);
int muon_train_flag_kind(const char *name);
void muon_train_help(FILE *out, const muon_train_config *c);
/* Overlays the settings recorded in a checkpoint's metadata onto c. */
int muon_train_config_from_meta(muon_train_config *c, const muon_safetensors *f);
/* Runs a training job: c->out gets checkpoint.safetensors, metrics.csv,
 * run.json and research_plots/; progress lines (and a plot failure's warning)
 * go to progress (may be NULL). Bad input is refused before any output.
 * MUON_ERR_NUMERIC on divergence (last good checkpoint kept). *stopped: 0 ran
 * to the end, 1 by muon_train_stop (SIGINT; signal-safe), 2 by stop_after. */
int muon_train(const muon_train_config *c, FILE *progress, int *stopped);
void muon_train_stop(void);

/* ---- Sampling (model/sample.c) --------------------------------------------- */
/* out(n_new) = bytes generated after prompt(n_prompt), m running on the last
 * seq_len bytes; temperature 0: greedy, else softmax(logits/temperature)
 * sampled from seed. */
int muon_sample(muon_model *m, const unsigned char *prompt, int n_prompt, int n_new,
                float temperature, uint64_t seed, unsigned char *out);

/* ---- Metrics (metrics/spectral.c, analyze.c) ------------------------------- */
/* The metrics of one matrix (docs/metrics.md), in the fixed order rows are
 * logged in; muon_metric_name gives "sigma_max", "top_sv_1", ... */
typedef enum {
    MUON_METRIC_SIGMA_MAX = 0, MUON_METRIC_SPECTRAL_GAP, MUON_METRIC_TOP_SV_1,
    MUON_METRIC_TOP_SV_10 = MUON_METRIC_TOP_SV_1 + 9, /* top_sv_1..10 in between */
    MUON_METRIC_STABLE_RANK, MUON_METRIC_SPECTRAL_ENTROPY, MUON_METRIC_ORTHO_ERROR_WEIGHT,
    MUON_METRIC_ALIGNMENT_LEFT, MUON_METRIC_ALIGNMENT_RIGHT,     /* need dW */
    MUON_METRIC_UPDATE_RANK, MUON_METRIC_SUBSPACE_EFFICIENCY,    /* need M (and dW) */
    MUON_METRIC_ORTHO_ERROR_UPDATE, MUON_METRIC_UPDATE_SV_MIN,
    MUON_METRIC_UPDATE_SV_MAX,                                   /* need O */
    MUON_METRIC_COUNT
} muon_metric_id;

/* value[i] is metric i; have[i] is 0 when its input was NULL (not logged).
 * Degenerate cases (zero matrix, rank 1, sigma_2 = 0): docs/metrics.md. */
typedef struct { double value[MUON_METRIC_COUNT]; unsigned char have[MUON_METRIC_COUNT]; } muon_metrics;
/* metrics.csv also logs esd_alpha (metrics/esd.c, fitted apart): the next index. */
#define MUON_METRIC_ESD_ALPHA MUON_METRIC_COUNT
#define MUON_LOGGED_METRIC_COUNT (MUON_METRIC_COUNT + 1)

const char *muon_metric_name(int id);   /* "sigma_max", ..., "esd_alpha"; NULL out of range */
/* Every metric of W(rows,cols); dW, M, O (rows,cols): the applied update, the
 * momentum, the orthogonaliser output, each may be NULL (its metrics then
 * have have[] = 0). One SVD per input. MUON_ERR_ARG, NUMERIC, NOMEM. */
int muon_metrics_compute(int rows, int cols, const float *W, const float *dW,
                         const float *M, const float *O, muon_metrics *out);

/* Checkpoint analysis (metrics/analyze.c): one matrix found in a checkpoint. */
typedef struct {
    int ckpt, layer;         /* index in the list of checkpoints (the CSV's step) */
    muon_matrix_kind kind;   /* Q, K, V, O, UP, DOWN or GATE */
    int rows, cols;
    char source[128];        /* the tensor it came from ("layers.0.attn.qkvo.weight") */
    muon_metrics mt;         /* static metrics; alignments vs the previous checkpoint */
} muon_analysis_entry;
typedef struct {
    int n_entries, n_skipped;
    muon_analysis_entry *entries;  /* by checkpoint, then layer, then kind */
    char (*skipped)[192];          /* one line per unrecognised 2-D tensor */
} muon_analysis;

/* Static metrics of every Muon-style matrix of the checkpoints paths(n), found
 * by name and shape (ours: layers.{i}.attn.{q,k,v,o,qkvo}.weight, ffn.{up,down,
 * gate}; PyTorch/HF: self_attn.{q,k,v,o}_proj, mlp.{up,down,gate}_proj, any
 * prefix); with n >= 2 alignments use consecutive differences as dW.
 * MUON_ERR_IO/FORMAT naming the file (also: no matrix); *a empty on failure. */
int muon_analyze(const char *const *paths, int n, muon_analysis *a);
void muon_analysis_free(muon_analysis *a);
/* Writes a as a tidy CSV like metrics.csv (step = checkpoint index), atomically. */
int muon_analysis_write_csv(const muon_analysis *a, const char *path);

/* ---- Plots (plots/research.c) ---------------------------------------------- */
/* layers[n_layers]: the layers compared (0: first, middle, last; each must be
 * in the log); width/height 0: 1200 x 750 (else 600x400 .. 8000x8000). */
typedef struct { int n_layers; int layers[8]; int width, height; } muon_plot_options;
/* Reads run_dir/metrics.csv and (re)draws every research plot into
 * run_dir/research_plots/ (opt NULL: the defaults). A missing or malformed
 * metrics.csv gives MUON_ERR_IO / MUON_ERR_FORMAT naming the file and line,
 * and writes no PNG. plot_csv: the same plots from any metric CSV (e.g. `muon
 * analyze`'s, step = checkpoint index) into dir (created, with missing parents). */
int muon_plot_run(const char *run_dir);
int muon_plot_run_opts(const char *run_dir, const muon_plot_options *opt);
int muon_plot_csv(const char *csv_path, const char *dir, const muon_plot_options *opt);

/* ---- Benchmarks: each prints its part of the `muon bench` table to out ------ */
/* (blas != 0: OpenBLAS beside GEMM when built with BLAS=openblas). */
int muon_bench_gemm(FILE *out, int blas);
int muon_bench_svd(FILE *out);
int muon_bench_model(FILE *out);
int muon_bench_train(FILE *out);
int muon_bench_metrics(FILE *out);

#endif /* MUON_H */
