/* model/experiments.h -- the research's proposed experiments as training
 * options (docs/experiments.md, docs/precision.md): update noise, stretched
 * init, bfloat16 training, pre-tokenised corpora. Private to the library and
 * the tests; the flags live in train/train_config.c. */
#ifndef MUON_MODEL_EXPERIMENTS_H
#define MUON_MODEL_EXPERIMENTS_H

#include "muon_internal.h" /* the header split: narrow to the folder headers needed */
#include "model/layers.h"   /* muon_grad_mode */

/* ---- --update-noise X (model/update_noise.c) ---------------------------- */

/* The seed of the noise added to matrix `index` (muon_model.tensors) at
 * optimizer step t (1-based) of a run seeded with seed: a pure function of the
 * three, so a resumed run draws the same noise and thread count never matters. */
uint64_t muon_update_noise_key(uint64_t seed, long t, int index);
/* O(n) += E with E ~ N(0,1) i.i.d. from key, rescaled so ||E||_F = x ||O||_F
 * exactly (both norms in double). x = 0 or O = 0 leaves O as it is. */
void muon_update_noise_add(float *O, size_t n, float x, uint64_t key);

/* muon_orthogonal_update with the noise of key added to O when c->update_noise > 0
 * (muon_orthogonal_update is this with key 0). */
int muon_orthogonal_update_keyed(const muon_optim_config *c, float lr, int rows, int cols,
                                 float *W, const float *G, float *M, float *O, float *delta,
                                 uint64_t noise_key);

/* ---- --init stretched[:F] (model/init_stretched.c) ----------------------- */

/* Default F of "stretched": the last layer starts at 1.25 times the first
 * layer's scale, the depth ratio of sigma_max that trained runs reach on
 * their own (docs/experiments.md gives the measurements). */
#define MUON_STRETCH_DEFAULT 0.25f
/* Parses "normal" (F = 0) or "stretched" / "stretched:F" (F a finite number
 * >= 0) into *f; MUON_ERR_ARG naming the bad value. */
int muon_init_parse(const char *s, float *f);
/* Multiplies every hidden matrix (MUON_ROLE_MATRIX) of layer l by
 * 1 + F l / (L - 1) (L = 1: unchanged). Embedding, head and gains untouched. */
void muon_model_stretch(muon_model *m, float F);

/* ---- --data FILE --data-format NAME (model/token_file.c) ----------------- */

typedef enum {
    MUON_DATA_AUTO = 0,    /* llm.c magic -> llmc; else *.bin -> nanogpt; else text */
    MUON_DATA_TEXT = 1,    /* bytes, token id = byte value (the default corpus) */
    MUON_DATA_NANOGPT = 2, /* nanoGPT prepare.py: raw little-endian uint16, no header */
    MUON_DATA_LLMC = 3     /* llm.c write_datafile: 256 int32 header, uint16 (or uint32) ids */
} muon_data_format;

/* "auto", "text", "nanogpt", "llmc"; parse: MUON_ERR_ARG naming a bad one. */
const char *muon_data_format_name(int f);
int muon_data_format_parse(const char *s, int *f);
/* Loads path as format fmt (MUON_DATA_AUTO decides as above); d->format is
 * the format used. MUON_ERR_FORMAT naming the file for a size that is not a
 * whole number of tokens, a bad header or a token count at odds with the
 * size; MUON_ERR_IO when unreadable. *d is zeroed on failure. */
int muon_data_open(muon_data *d, const char *path, int fmt);
/* Unigram entropy (nats) of the ids of the training split (NaN if the ids
 * are too sparse to count: max_id >= 2^24). */
double muon_data_token_entropy(const muon_data *d);

/* Appends n_new ids to prompt(n_prompt) (ids < vocab; an empty prompt starts
 * from id 0 -- from '\n' for byte models, muon_sample's rule) as muon_sample
 * does, into out(n_new) (model/sample.c). */
int muon_sample_ids(muon_model *m, const int *prompt, int n_prompt, int n_new,
                    float temperature, uint64_t seed, int *out);

/* ---- --precision bf16 (model/linear_bf16.c, docs/precision.md) ---------- */

/* Allocates m's bf16 scratch (sized for its batch and widths) so every
 * linear layer's matmul sees bf16 inputs from now on; rounds the parameters
 * to bf16. MUON_ERR_NOMEM. The fp32 path never touches the scratch. */
int muon_model_set_bf16(muon_model *m);
/* muon_linear_forward/backward (model/layers.h), with the input x, and in
 * backward the output gradient, rounded to bf16 when m has bf16 scratch;
 * exactly the fp32 functions otherwise. Either way W is read from
 * m->packed where it is there (the same bits). */
int muon_linear_forward_m(const muon_model *m, float *out, int ldo, const float *in, int ldi,
                          const float *W, int N, int I, int O);
int muon_linear_backward_m(const muon_model *m, float *din, float din_beta, muon_grad_mode wmode, float *dW,
                           const float *dout, int ldo, const float *in, int ldi, const float *W, int N, int I,
                           int O);

#endif
