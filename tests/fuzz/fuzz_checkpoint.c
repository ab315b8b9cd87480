/* Harness: what `muon sample` and `train --resume` do with a checkpoint:
 * open it, read its config, step and training settings, create the model
 * (when small: fuzzing is about parsing, not about allocating gigabytes) and
 * load the parameters and the optimizer state into it. */
#include "tests/fuzz/fuzz.h"
#include "muon_internal.h" /* the header split: narrow to the folder headers needed */

int fuzz_checkpoint(const uint8_t *data, size_t size)
{
    muon_safetensors f;
    muon_config cfg;
    muon_train_config tc;
    muon_model m;
    muon_optim o;
    long step;
    const char *path = fuzz_input_file("checkpoint", data, size);
    if (!path || muon_checkpoint_open(path, &f)) return 0;
    (void)muon_checkpoint_step(&f, &step);
    muon_train_defaults(&tc);
    (void)muon_train_config_from_meta(&tc, &f);
    if (muon_checkpoint_config(&f, &cfg) == MUON_OK && muon_config_param_count(&cfg) <= 200000 &&
        (double)cfg.batch_size * cfg.seq_len <= 4096 && muon_model_create(&m, &cfg) == MUON_OK) {
        if (muon_checkpoint_load_model(&f, &m) == MUON_OK) {
            muon_optim_config oc;
            muon_optim_defaults(&oc);
            if (muon_optim_create(&o, &oc, &m) == MUON_OK) {
                (void)muon_checkpoint_load_optim(&f, &m, &o);
                muon_optim_free(&o);
            }
        }
        muon_model_free(&m);
    }
    muon_safetensors_free(&f);
    return 0;
}
