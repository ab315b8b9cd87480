#!/bin/sh
# Mutation check: each one-line fault below must make the test suite fail.
# A suite that still passes with one of them applied has a check that checks
# nothing; add a real check, then keep the fault here.
#
# Usage: tests/mutate.sh [fault-number...]      (default: every fault)
# Builds in build/mutate (never touches ./muon), applies one fault at a time,
# runs the whole suite, restores the file. Prints a table: fault -> failing
# checks. Exit status 1 if any fault survives (the suite passed with it).
set -u
cd "$(dirname "$0")/.." || exit 2
B=build/mutate
MAKE=${MAKE:-make}

# file | sed expression (must change exactly one line) | what the fault is
FAULTS='linalg/gemm.c|s/for (j = 0; j < NR; j++) c\[i \* ldc + j\] = alpha \* acc\[i\]\[j\];/for (j = 0; j < NR; j++) c[i * ldc + j] = alpha * acc[i][j] + 0.0f * c[i * ldc + j];/|GEMM full-tile beta == 0 store reads C (0 * NaN)
linalg/orth.c|s/safety = 1\.01; break;/safety = 1.0; break;/|Polar Express without its 1.01 safety factor
train/muon_optimizer.c|s/U\[i\] = c->nesterov ? G\[i\] \* one_mu + mu \* m : m;/U[i] = m;/|Muon ignores Nesterov
train/adamw.c|s/const double bc1 = 1\.0 - pow((double)b1, (double)t);/const double bc1 = 1.0;/|AdamW without first-moment bias correction
model/rmsnorm.c|s/for (j = 0; j < n; j++) dx\[j\] = rs \* (dy\[j\] \* g\[j\] - x\[j\] \* c);/for (j = 0; j < n; j++) dx[j] = rs * dy[j] * g[j];/|RMSNorm backward drops the mean term
model/attention.c|s/ds\[j\] = p\[j\] \* (ds\[j\] - D\[r\]) \* scale;/ds[j] = p[j] * ds[j] * scale;/|attention backward drops D (the softmax row term)
metrics/spectral.c|s/h \/ log((double)r);/h \/ log((double)r + 1.0);/|spectral entropy normalised by ln(r+1)
train/optimizer.c|s/s = muon_orthogonal_update_ws(ws, c, lr, p->rows, p->cols, m->params + off,/s = muon_orthogonal_update_keyed(c, lr, p->rows, p->cols, m->params + off,/|Muon step allocates its orthogonaliser workspace per matrix
io/safetensors.c|s/st = muon_error(MUON_ERR_FORMAT, "%s: tensor .%s. appears twice", path, t->name);/st = MUON_OK;/|safetensors reader accepts duplicate tensor names
linalg/status.c|s/^MUON_OMP(omp threadprivate(last_error))$//|one global error message shared by every thread
linalg/svd_values.c|s/const double a = tau_r \* v\[j\];/const double a = 0.0 * v[j];/|bidiagonalisation drops the last right reflector from its fused pass
linalg/svd_values.c|s/e\[j - 1\] = c \* e\[j - 1\];/e[j - 1] = e[j - 1];/|bidiagonal column chase forgets to rotate the entry above
linalg/svd_values.c|s/const double mu = den != 0.0 ? t22 - t12 \* t12 \/ den : t22;/const double mu = 0.0 * den;/|bidiagonal QR without its Wilkinson shift
linalg/svd.c|s/    warm = !reference \&\& N >= SVD_WARM_MIN \&\& well_conditioned;/    warm = 0 \&\& well_conditioned;/|Jacobi SVD without its warm start
linalg/svd.c|s/mul_rows(nr, N, N, w->Zt + (size_t)r0 \* N, N, w->rows, X2 + (size_t)r0 \* N, N, MUL_UPPER);/mul_rows(nr, N, N, w->Zt + (size_t)r0 * N, N, w->rows, X2 + (size_t)r0 * N, N, MUL_UPPER + MUL_SUB);/|warm start subtracts Z^T X from stale scratch instead of storing it
linalg/svd.c|s/        if (warm \&\& !(sig\[ord\[N - 1\]\] \* SVD_SOLVE_COND > sig\[ord\[0\]\])) {/        if (0 \&\& warm \&\& !(sig[ord[N - 1]] * SVD_SOLVE_COND > sig[ord[0]])) {/|Jacobi keeps a warm start whose values show kappa > 1e6
metrics/spectral.c|s/    return st == MUON_ERR_NUMERIC ? muon_svd_ws(ws, rows, cols, X, s, NULL, NULL, NULL) : st;/    return st;/|metrics: no Jacobi where the Gram path QL does not converge
linalg/svd_gram.c|s/    thresh \*= DBL_EPSILON;/    thresh *= 0.0;/|QL deflates by the relative test alone (no absolute floor)
linalg/svd_gram.c|s/        if (!(gap > TOPK_GAP \* lmax)) return -1;/        if (0 \&\& !(gap > TOPK_GAP * lmax)) return -1;/|top-k Gram vectors by inverse iteration even within a cluster
linalg/svd_gram.c|s/            const double c = muon_dot_d(u, y, i) \/ hs\[i\];/            const double c = 0.0 * hs[i];/|top-k Gram vectors not carried back by the reflectors
linalg/svd_gram.c|s/            dcur = scur - ml\[i\] \* dn;/            dcur = scur;/|inverse iteration: the elimination forgets the pivoted row update
model/model.c|s/if (apart) muon_axpy(1.0f, demb, m->grads + a->w.embed, (size_t)V \* C);/if (apart) memcpy(m->grads + a->w.embed, demb, (size_t)V * C * sizeof *demb);/|backward ADD overwrites the embedding gradient instead of adding it
train/data_parallel.c|s/return leaf(dp, m, tokens, targets, mid, out, 1);/return leaf(dp, m, tokens, targets, mid, out, 0);/|tree right leaf overwrites its left sibling instead of adding onto it
train/data_parallel.c|s/static int leaf_adds(const muon_dp \*dp) { return dp->T <= muon_gemm_k_block(); }/static int leaf_adds(const muon_dp *dp) { return dp != NULL; }/|tree right leaves add onto their siblings also past the GEMM K block
linalg/gemm.c|s/                    for (jr = s0; jr < s1; jr++) {/                    for (jr = s0; jr + 1 < s1; jr++) {/|GEMM skips the last B micro-panel of each A sliver'

restore() {
    [ -n "${cur:-}" ] && [ -f "$cur.mutate-orig" ] && mv "$cur.mutate-orig" "$cur" && touch "$cur"
    cur=
}
trap 'restore; exit 2' INT TERM

# a clean build first: every fault then rebuilds one object
echo "building $B ..."
if ! $MAKE -s BUILD=$B $B/muon $B/muon_tests >/dev/null 2>&1; then
    echo "mutate: the unmutated tree does not build" >&2
    exit 2
fi

echo "| # | fault | file | failing checks | first failures |"
echo "|---|---|---|---|---|"
n=0; survived=0
echo "$FAULTS" | {
while IFS='|' read -r file expr what; do
    n=$((n + 1))
    if [ $# -gt 0 ]; then
        case " $* " in *" $n "*) ;; *) continue ;; esac
    fi
    cur=$file
    cp -p "$file" "$file.mutate-orig"
    sed "$expr" "$file.mutate-orig" > "$file"
    changed=$(diff "$file.mutate-orig" "$file" | grep -c '^>')
    if [ "$changed" != 1 ]; then
        echo "| $n | $what | $file | fault did not apply ($changed lines changed) | |"
        restore; survived=1; continue
    fi
    if ! $MAKE -s BUILD=$B $B/muon $B/muon_tests >/dev/null 2>&1; then
        echo "| $n | $what | $file | build failed | |"
        restore; continue
    fi
    out=$(OMP_WAIT_POLICY=passive MUON_BIN=./$B/muon ./$B/muon_tests 2>&1)
    fails=$(printf '%s\n' "$out" | grep -c '^FAIL')
    first=$(printf '%s\n' "$out" | grep '^FAIL' | head -2 | sed 's/^FAIL *//; s/|/\//g' | cut -c1-90 | tr '\n' ';')
    if [ "$fails" -eq 0 ]; then survived=1; fails="0 (SURVIVED)"; fi
    echo "| $n | $what | \`$file\` | $fails | $first |"
    restore
done
# rebuild the restored tree so build/mutate matches the sources again
$MAKE -s BUILD=$B $B/muon $B/muon_tests >/dev/null 2>&1
exit $survived
}
