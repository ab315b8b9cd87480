/* Suite `config`: the named configs and their overrides and checks
 * (model/config.c). */
#include "test.h"
#include "model/layers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- config ---------------------------------------------------------------- */

static void test_config(void)
{
    muon_config c, d;
    int st;
    check(muon_config_named("nano", &c) == MUON_OK && c.d_model == 128 && c.n_layers == 8 &&
          c.n_heads == 4 && c.n_kv_heads == 2 && c.d_ff == 512 && c.seq_len == 128 &&
          c.batch_size == 16 && c.vocab_size == 256 && c.ffn == MUON_FFN_RELU2 &&
          !c.untied_head && !c.merged_qkvo && float_is(c.norm_eps, 1e-6f) && float_is(c.init_std, 0.02f) &&
          float_is(c.rope_base, 10000.0f) && muon_config_check(&c) == MUON_OK,
          "config nano: docs/model.md's shape, valid");
    check(muon_config_named("blueberry-nano", &c) == MUON_OK && c.d_model == 512 && c.n_layers == 22 &&
          c.n_heads == 8 && c.n_kv_heads == 4 && c.d_ff == 2048 && c.seq_len == 2048 &&
          muon_config_check(&c) == MUON_OK, "config blueberry-nano: the research shape, valid");
    check(muon_config_named("tiny", &c) == MUON_OK && muon_config_check(&c) == MUON_OK, "config tiny: valid");
    st = muon_config_named("huge", &d);
    check(st == MUON_ERR_ARG && strstr(muon_last_error(), "huge"), "config: unknown name -> ARG naming it (%s)", muon_last_error());

    muon_config_named("tiny", &c);
    check(muon_config_set(&c, "d_model", "64") == MUON_OK && c.d_model == 64, "config_set d_model 64");
    check(muon_config_set(&c, "n-layers", "3") == MUON_OK && c.n_layers == 3, "config_set accepts the CLI spelling n-layers");
    check(muon_config_set(&c, "ffn", "swiglu") == MUON_OK && c.ffn == MUON_FFN_SWIGLU, "config_set ffn swiglu");
    check(muon_config_set(&c, "merged_qkvo", "1") == MUON_OK && c.merged_qkvo == 1, "config_set merged_qkvo 1");
    check(muon_config_set(&c, "norm_eps", "1e-5") == MUON_OK && float_is(c.norm_eps, 1e-5f), "config_set norm_eps 1e-5");
    d = c;
    check(muon_config_set(&c, "d_model", "12x") == MUON_ERR_ARG && !memcmp(&c, &d, sizeof c),
          "config_set d_model 12x -> ARG, config unchanged (%s)", muon_last_error());
    check(muon_config_set(&c, "d_model", "0") == MUON_ERR_ARG, "config_set d_model 0 -> ARG (%s)", muon_last_error());
    check(muon_config_set(&c, "d_model", "99999999999999999999") == MUON_ERR_ARG, "config_set d_model overflow -> ARG (%s)", muon_last_error());
    check(muon_config_set(&c, "untied_head", "2") == MUON_ERR_ARG, "config_set untied_head 2 -> ARG (%s)", muon_last_error());
    check(muon_config_set(&c, "ffn", "gelu") == MUON_ERR_ARG, "config_set ffn gelu -> ARG (%s)", muon_last_error());
    check(muon_config_set(&c, "init_std", "nan") == MUON_ERR_ARG, "config_set init_std nan -> ARG (%s)", muon_last_error());
    check(muon_config_set(&c, "dmodel", "64") == MUON_ERR_ARG && strstr(muon_last_error(), "dmodel"),
          "config_set unknown key -> ARG naming it");
    check(muon_config_set(&c, "d_model", "") == MUON_ERR_ARG, "config_set empty value -> ARG");

    muon_config_named("tiny", &c);
    c.d_model = 30;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: d_model 30, 4 heads -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.n_kv_heads = 3;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: 4 heads, 3 KV heads -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.d_model = 36; c.n_heads = 4; c.n_kv_heads = 4;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: odd head size 9 -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.n_kv_heads = 8;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: more KV heads than heads -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.batch_size = 65536; c.seq_len = 65536;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: B*T too large -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.d_model = 65536; c.d_ff = 65536; c.n_layers = 1000;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: 1.7e13 parameters -> ARG (%s)", muon_last_error());
    muon_config_named("tiny", &c);
    c.norm_eps = 0.0f;
    check(muon_config_check(&c) == MUON_ERR_ARG, "config_check: norm_eps 0 -> ARG (%s)", muon_last_error());
}

void suite_config(void)
{
    test_config();
}
