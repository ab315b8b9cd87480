/* GEMM: muon_gemm against the reference muon_gemm_naive (double accumulation)
 * on every op case and awkward shapes, the alpha/beta contract, views with
 * long leading dimensions, bad arguments, out of memory, and bit-identity
 * across thread counts and concurrent callers.
 *
 * Tolerance, per element: the probabilistic rounding-error bound of Higham &
 * Mary (SIAM J. Sci. Comput. 2019) for a length-K float32 dot product,
 *   |got - want| <= lambda*sqrt(K)*u * |alpha| * sum_p |a_ip||b_pj|
 *                   + 2*eps*(|want| + |beta*c_ij|),
 * with u = 2^-24 and lambda = 2 (so sqrt(K)*FLT_EPSILON * sum|a||b|); the
 * second term covers the final roundings of alpha*acc + beta*c. The exact
 * sum_p |a||b| comes from the reference on |A| and |B|. */
#include "test.h"
#include "linalg/omp.h"
#include "linalg/gemm_internal.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const char *op_name(muon_op a, muon_op b)
{
    static const char *names[4] = {"NN", "NT", "TN", "TT"};
    return names[2 * (a == MUON_TRANS) + (b == MUON_TRANS)];
}

/* One run of muon_gemm against the reference on random data with the given
 * leading-dimension padding; returns the worst err/tol (> 1 means a failure;
 * NaN or a status error gives +inf) and counts the elements outside the
 * padding that changed (must be 0). */
static double run_case(muon_op opA, muon_op opB, int M, int N, int K, float alpha,
                       float beta, int pad, int nan_c, uint64_t seed, long *pad_touched)
{
    int ar = opA == MUON_NOTRANS ? M : K, ac = opA == MUON_NOTRANS ? K : M;
    int br = opB == MUON_NOTRANS ? K : N, bc = opB == MUON_NOTRANS ? N : K;
    int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
    size_t na = (size_t)(ar > 0 ? ar : 1) * lda, nb = (size_t)(br > 0 ? br : 1) * ldb;
    size_t nc = (size_t)(M > 0 ? M : 1) * ldc, i;
    float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B);
    float *C = malloc(nc * sizeof *C), *C0 = malloc(nc * sizeof *C);
    float *R = malloc(nc * sizeof *R), *Aa = malloc(na * sizeof *A);
    float *Ba = malloc(nb * sizeof *B), *S = malloc(nc * sizeof *R);
    double worst = 0.0;
    int r, c, saw_nan = 0;
    if (!A || !B || !C || !C0 || !R || !Aa || !Ba || !S) {
        worst = INFINITY;
        goto done;
    }
    test_fill_random(A, na, seed);
    test_fill_random(B, nb, seed + 1);
    test_fill_random(C0, nc, seed + 2);
    if (nan_c)
        for (i = 0; i < nc; i++) C0[i] = NAN;
    /* padding of C (columns N..ldc-1) holds a sentinel that must survive */
    for (r = 0; r < M; r++)
        for (c = N; c < ldc; c++) C0[(size_t)r * ldc + c] = 12345.0f;
    for (i = 0; i < na; i++) Aa[i] = fabsf(A[i]);
    for (i = 0; i < nb; i++) Ba[i] = fabsf(B[i]);
    memcpy(C, C0, nc * sizeof *C);
    memcpy(R, C0, nc * sizeof *C);
    if (muon_gemm(opA, opB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) != MUON_OK ||
        muon_gemm_naive(opA, opB, M, N, K, alpha, A, lda, B, ldb, beta, R, ldc) != MUON_OK ||
        muon_gemm_naive(opA, opB, M, N, K, 1.0f, Aa, lda, Ba, ldb, 0.0f, S, ldc) != MUON_OK) {
        worst = INFINITY;
        goto done;
    }
    for (r = 0; r < M; r++) {
        for (c = 0; c < N; c++) {
            size_t k = (size_t)r * ldc + c;
            double cb = beta == 0.0f ? 0.0 : fabs((double)beta * C0[k]);
            double tol = sqrt((double)K) * FLT_EPSILON * fabs(alpha) * S[k]
                       + 2.0 * FLT_EPSILON * (fabs(R[k]) + cb) + 1e-30;
            double e = fabs((double)C[k] - R[k]) / tol;
            /* a NaN error must stick: a later finite one may not overwrite it */
            if (e != e) saw_nan = 1;
            else if (e > worst) worst = e;
        }
        for (c = N; c < ldc; c++)
            if (C[(size_t)r * ldc + c] != 12345.0f) (*pad_touched)++;
    }
    if (saw_nan) worst = INFINITY;
done:
    free(A); free(B); free(C); free(C0); free(R); free(Aa); free(Ba); free(S);
    return worst;
}

static void test_shapes(void)
{
    static const int dims[] = {1, 7, 33, 130};
    /* tall-skinny, short-fat, K = 1, blocks crossing MC, KC and NC, and
     * the small attention-like products */
    static const int extra[][3] = {
        {1000, 3, 17}, {3, 1000, 17}, {517, 9, 1}, {65, 70, 1}, {400, 70, 300},
        {9, 4100, 5}, {64, 64, 64}, {128, 128, 32}, {50, 513, 260}, {29, 31, 700},
    };
    int o, x, y, z, e;
    for (o = 0; o < 4; o++) {
        muon_op opA = o / 2 ? MUON_TRANS : MUON_NOTRANS, opB = o % 2 ? MUON_TRANS : MUON_NOTRANS;
        double worst = 0.0;
        long touched = 0;
        int wm = 0, wn = 0, wk = 0, count = 0;
        for (x = 0; x < 4; x++)
            for (y = 0; y < 4; y++)
                for (z = 0; z < 4; z++) {
                    double w = run_case(opA, opB, dims[x], dims[y], dims[z], 1.0f, 0.0f, 0, 0,
                                        (uint64_t)(100 + 16 * x + 4 * y + z), &touched);
                    count++;
                    if (w > worst) { worst = w; wm = dims[x]; wn = dims[y]; wk = dims[z]; }
                }
        for (e = 0; e < (int)(sizeof extra / sizeof extra[0]); e++) {
            double w = run_case(opA, opB, extra[e][0], extra[e][1], extra[e][2], 1.0f, 0.0f, 0, 0,
                                (uint64_t)(200 + e), &touched);
            count++;
            if (w > worst) { worst = w; wm = extra[e][0]; wn = extra[e][1]; wk = extra[e][2]; }
        }
        check(worst <= 1.0, "%s: %d shapes ({1,7,33,130}^3, tall-skinny, K=1, > MC/KC/NC) vs naive: "
              "max err/tol %.3f (at %dx%dx%d; tol sqrt(K)*eps*sum|a||b| + 2eps|c|)",
              op_name(opA, opB), count, worst, wm, wn, wk);
    }
}

static void test_alpha_beta(void)
{
    static const float alphas[] = {1.0f, -0.5f, 2.5f};
    static const float betas[] = {0.0f, 1.0f, -0.3f};
    /* the two thin shapes take the matrix-vector path */
    static const int shapes[][3] = {{37, 45, 29}, {70, 90, 600}, {1, 45, 29}, {37, 1, 600}};
    int o, a, b, s;
    for (o = 0; o < 4; o++) {
        muon_op opA = o / 2 ? MUON_TRANS : MUON_NOTRANS, opB = o % 2 ? MUON_TRANS : MUON_NOTRANS;
        double worst = 0.0;
        long touched = 0;
        for (s = 0; s < 4; s++)
            for (a = 0; a < 3; a++)
                for (b = 0; b < 3; b++) {
                    /* beta == 0 gets C full of NaN: it must not be read */
                    double w = run_case(opA, opB, shapes[s][0], shapes[s][1], shapes[s][2],
                                        alphas[a], betas[b], 0, betas[b] == 0.0f,
                                        (uint64_t)(300 + 9 * s + 3 * a + b), &touched);
                    if (w > worst) worst = w;
                }
        check(worst <= 1.0, "%s: alpha {1,-0.5,2.5} x beta {0 (C = NaN), 1, -0.3} on 37x45x29, "
              "70x90x600 (two KC blocks), 1x45x29, 37x1x600: max err/tol %.3f", op_name(opA, opB), worst);
    }
}

static void test_views(void)
{
    int o;
    for (o = 0; o < 4; o++) {
        muon_op opA = o / 2 ? MUON_TRANS : MUON_NOTRANS, opB = o % 2 ? MUON_TRANS : MUON_NOTRANS;
        long touched = 0;
        double w1 = run_case(opA, opB, 33, 47, 70, 1.5f, 0.5f, 13, 0, (uint64_t)(400 + o), &touched);
        double w2 = run_case(opA, opB, 130, 7, 33, 1.0f, 0.0f, 3, 1, (uint64_t)(410 + o), &touched);
        double w3 = run_case(opA, opB, 1, 40, 50, 1.0f, 0.5f, 5, 0, (uint64_t)(420 + o), &touched);
        double w4 = run_case(opA, opB, 40, 1, 50, 1.0f, 0.5f, 5, 0, (uint64_t)(430 + o), &touched);
        check(w1 <= 1.0 && w2 <= 1.0 && w3 <= 1.0 && w4 <= 1.0 && touched == 0,
              "%s: submatrix views (lda/ldb/ldc = row + 13, + 3, + 5 on 1xN and Mx1): max err/tol "
              "%.3f, %.3f, %.3f, %.3f; %ld padding elements of C touched",
              op_name(opA, opB), w1, w2, w3, w4, touched);
    }
}

static void test_degenerate(void)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 1, 1, 1, 1, 1};
    float C[6], D[6] = {1, 2, 3, 4, 5, 6};
    int i, ok;

    for (i = 0; i < 6; i++) C[i] = D[i];
    ok = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, 0, 3, 2, 1.0f, A, 2, B, 3, 0.0f, C, 3) == MUON_OK &&
         muon_gemm(MUON_NOTRANS, MUON_NOTRANS, 2, 0, 2, 1.0f, A, 2, B, 1, 0.0f, C, 1) == MUON_OK &&
         muon_gemm(MUON_TRANS, MUON_TRANS, 0, 0, 0, 1.0f, NULL, 1, NULL, 1, 0.0f, NULL, 1) == MUON_OK;
    for (i = 0; i < 6; i++) ok = ok && C[i] == D[i];
    check(ok, "M = 0 / N = 0: MUON_OK, C untouched (NULL pointers fine when empty)");

    for (i = 0; i < 6; i++) C[i] = D[i];
    ok = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, 2, 3, 0, 1.0f, A, 1, B, 3, -2.0f, C, 3) == MUON_OK;
    for (i = 0; i < 6; i++) ok = ok && C[i] == -2.0f * D[i];
    check(ok, "K = 0: C = beta*C (beta = -2, exact)");

    for (i = 0; i < 6; i++) C[i] = NAN;
    ok = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, 2, 3, 0, 1.0f, A, 1, B, 3, 0.0f, C, 3) == MUON_OK;
    for (i = 0; i < 6; i++) ok = ok && C[i] == 0.0f;
    check(ok, "K = 0, beta = 0: C = 0 exactly though it held NaN");

    for (i = 0; i < 6; i++) C[i] = NAN;
    ok = muon_gemm(MUON_TRANS, MUON_NOTRANS, 2, 3, 2, 0.0f, A, 2, B, 3, 0.0f, C, 3) == MUON_OK;
    for (i = 0; i < 6; i++) ok = ok && C[i] == 0.0f;
    check(ok, "alpha = 0, beta = 0: C = 0 exactly though it held NaN");

    /* a hand-computed 2x2x3 product: small integers are exact in float */
    {
        float a[6] = {1, 2, 3, 4, 5, 6};      /* (2,3) */
        float b[6] = {7, 8, 9, 10, 11, 12};   /* (3,2) */
        float c[4] = {1, 1, 1, 1};
        static const float want[4] = {58 + 10, 64 + 10, 139 + 10, 154 + 10};
        ok = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, 2, 2, 3, 1.0f, a, 3, b, 2, 10.0f, c, 2) == MUON_OK;
        for (i = 0; i < 4; i++) ok = ok && c[i] == want[i];
        check(ok, "2x3 * 3x2 + 10*ones = [68 74; 149 164] exactly");
    }
}

static void test_bad_args(void)
{
    float A[64], B[64], C[64];
    int i, ok = 1;
    struct { muon_op a, b; int M, N, K, lda, ldb, ldc; const char *what; } bad[] = {
        {MUON_NOTRANS, MUON_NOTRANS, -1, 2, 2, 2, 2, 2, "M < 0"},
        {MUON_NOTRANS, MUON_NOTRANS, 2, -1, 2, 2, 2, 2, "N < 0"},
        {MUON_NOTRANS, MUON_NOTRANS, 2, 2, -1, 2, 2, 2, "K < 0"},
        {MUON_NOTRANS, MUON_NOTRANS, 2, 3, 4, 3, 3, 3, "lda < K (A not transposed)"},
        {MUON_TRANS, MUON_NOTRANS, 5, 3, 4, 4, 3, 3, "lda < M (A transposed)"},
        {MUON_NOTRANS, MUON_NOTRANS, 2, 3, 4, 4, 2, 3, "ldb < N (B not transposed)"},
        {MUON_NOTRANS, MUON_TRANS, 2, 3, 4, 4, 3, 3, "ldb < K (B transposed)"},
        {MUON_NOTRANS, MUON_NOTRANS, 2, 3, 4, 4, 3, 2, "ldc < N"},
        {MUON_NOTRANS, MUON_NOTRANS, 0, 0, 0, 0, 1, 1, "lda = 0"},
    };
    for (i = 0; i < 64; i++) { A[i] = 1.0f; B[i] = 1.0f; C[i] = 7.0f; }
    for (i = 0; i < (int)(sizeof bad / sizeof bad[0]); i++) {
        int st = muon_gemm(bad[i].a, bad[i].b, bad[i].M, bad[i].N, bad[i].K, 1.0f, A, bad[i].lda,
                           B, bad[i].ldb, 0.0f, C, bad[i].ldc);
        if (st != MUON_ERR_ARG || !strstr(muon_last_error(), "gemm")) {
            check(0, "bad argument %s: got status %d, message '%s'", bad[i].what, st, muon_last_error());
            ok = 0;
        }
    }
    for (i = 0; i < 64; i++) ok = ok && C[i] == 7.0f;
    check(ok, "%d bad calls (negative sizes, each short leading dimension) return MUON_ERR_ARG "
          "naming gemm, C untouched", (int)(sizeof bad / sizeof bad[0]));
}

static void test_nomem(void)
{
    enum { M = 200, N = 300, K = 100 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * M * N);
    int st1, st2;
    if (!A || !B || !C) { check(0, "out of memory test: malloc"); goto done; }
    test_fill_random(A, (size_t)M * K, 1);
    test_fill_random(B, (size_t)K * N, 2);
    muon_gemm_release(); /* empty cache: the next call must allocate */
    muon_alloc_fail_after(1);
    st1 = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    muon_alloc_fail_after(0);
    check(st1 == MUON_ERR_NOMEM && strstr(muon_last_error(), "gemm"),
          "failed packing-buffer allocation returns MUON_ERR_NOMEM (got %d: %s)", st1, muon_last_error());
    st2 = muon_gemm(MUON_NOTRANS, MUON_NOTRANS, M, N, K, 1.0f, A, K, B, N, 0.0f, C, N);
    check(st2 == MUON_OK, "the next call after a failed allocation succeeds");
done:
    free(A); free(B); free(C);
}

/* The 1-thread and 2-thread results must be the same bits. Shapes chosen so
 * both the M split and the N split (few rows) are used, with edge tiles and
 * several KC blocks. */
static void test_threads(void)
{
    static const int shapes[][3] = {{300, 200, 300}, {8, 1000, 100}, {1030, 70, 520}};
    int s, o, before = muon_threads();
    muon_set_threads(2);
    muon_gemm_guard_enable(0); /* 2 threads even if the machine is busy */
    if (muon_threads() < 2) {
        skip("threads: bit-identity 1 vs 2 threads needs OpenMP (built without)");
        muon_set_threads(before);
        muon_gemm_guard_enable(1);
        return;
    }
    for (s = 0; s < 3; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], same = 1;
        size_t n = (size_t)M * N;
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C1 = malloc(sizeof(float) * n), *C2 = malloc(sizeof(float) * n);
        if (!A || !B || !C1 || !C2) { check(0, "threads: malloc"); free(A); free(B); free(C1); free(C2); break; }
        test_fill_random(A, (size_t)M * K, 7);
        test_fill_random(B, (size_t)K * N, 8);
        for (o = 0; o < 4; o++) {
            muon_op opA = o / 2 ? MUON_TRANS : MUON_NOTRANS, opB = o % 2 ? MUON_TRANS : MUON_NOTRANS;
            int lda = opA == MUON_NOTRANS ? K : M, ldb = opB == MUON_NOTRANS ? N : K;
            test_fill_random(C1, n, 9);
            memcpy(C2, C1, n * sizeof *C1);
            muon_set_threads(1);
            muon_gemm(opA, opB, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, N);
            muon_set_threads(2);
            muon_gemm(opA, opB, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C2, N);
            same = same && memcmp(C1, C2, n * sizeof *C1) == 0;
        }
        check(same, "%dx%dx%d, all four op cases: 1 and 2 threads give identical bits", M, N, K);
        free(A); free(B); free(C1); free(C2);
    }
    muon_set_threads(before);
    muon_gemm_guard_enable(1);
}

/* Several threads calling muon_gemm at once (each then runs single-threaded
 * inside the parallel region) get the same bits as one call at a time. */
static void test_concurrent(void)
{
    enum { CALLS = 8, M = 90, N = 110, K = 300 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * CALLS * M * N), *R = malloc(sizeof(float) * CALLS * M * N);
    int i, before = muon_threads(), bad = 0;
    if (!A || !B || !C || !R) { check(0, "concurrent: malloc"); goto done; }
    test_fill_random(A, (size_t)M * K, 11);
    test_fill_random(B, (size_t)K * N, 12);
    for (i = 0; i < CALLS; i++)
        muon_gemm(MUON_NOTRANS, MUON_TRANS, M, N, K, 1.0f + i, A, K, B, K, 0.0f, R + (size_t)i * M * N, N);
    muon_set_threads(2);
MUON_OMP(omp parallel for schedule(static, 1) reduction(+ : bad))
    for (i = 0; i < CALLS; i++)
        bad += muon_gemm(MUON_NOTRANS, MUON_TRANS, M, N, K, 1.0f + i, A, K, B, K, 0.0f,
                         C + (size_t)i * M * N, N) != MUON_OK;
    check(!bad && memcmp(C, R, sizeof(float) * CALLS * M * N) == 0,
          "%d concurrent calls from a parallel region match one-at-a-time calls bit for bit (team size %d)",
          CALLS, muon_threads() > 1 ? 2 : 1);
    /* inside an inactive (one-thread) region muon_gemm starts its own team */
    memset(C, 0, sizeof(float) * M * N);
MUON_OMP(omp parallel num_threads(1))
    bad += muon_gemm(MUON_NOTRANS, MUON_TRANS, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N) != MUON_OK;
    check(!bad && memcmp(C, R, sizeof(float) * M * N) == 0,
          "a call inside a one-thread parallel region (own nested team) gives the same bits");
#ifdef _OPENMP
    {
        /* a runtime that grants fewer threads than asked (here: no active
         * levels at all) must still get the whole product, same bits */
        int levels = omp_get_max_active_levels();
        omp_set_max_active_levels(0);
        memset(C, 0, sizeof(float) * M * N);
        bad += muon_gemm(MUON_NOTRANS, MUON_TRANS, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N) != MUON_OK;
        omp_set_max_active_levels(levels);
        check(!bad && memcmp(C, R, sizeof(float) * M * N) == 0,
              "a team smaller than asked for (max active levels 0) gives the same bits");
    }
#endif
    muon_set_threads(before);
done:
    free(A); free(B); free(C); free(R);
}

/* muon_gemm_packed reads op(B) from muon_gemm_pack_b's buffer instead of
 * packing it per call: the same bits as muon_gemm on every op case, on
 * shapes with an edge sliver (N not a multiple of NR), several KC blocks
 * (K > KC), two NC panels (N > NC), both at once, a thin product (M == 1, which reads B
 * itself) and a strided B, at 1 and 2 threads. A packed buffer of other
 * values must change the result, so the packed path is the one taken. */
static void test_packed(void)
{
    enum { FENCE = 64 };
    const int shapes[][3] = {{128, 128, 128}, {128, 384, 128}, {37, 45, 2 * KC + 9},
                             {20, NC + NR + 5, 70}, {8, NC + NR + 5, KC + 9}, {1, 300, 90}};
    int s, o, t, before = muon_threads();
    muon_gemm_guard_enable(0);
    for (s = 0; s < 6; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], same = 1, used = 1, pad = 3, fenced = 1;
        size_t n = (size_t)M * N, np = muon_gemm_packed_size(K, N), ab = (size_t)(M > K ? M : K) * (K > M ? K : M);
        size_t bb = (size_t)(K > N ? K : N) * ((K > N ? N : K) + pad);
        float *A = malloc(sizeof(float) * ab), *B = malloc(sizeof(float) * bb), *P = malloc(sizeof(float) * (np + FENCE));
        float *C1 = malloc(sizeof(float) * n), *C2 = malloc(sizeof(float) * n);
        if (!A || !B || !P || !C1 || !C2) { check(0, "packed: malloc"); goto next; }
        test_fill_random(A, ab, 21);
        test_fill_random(B, bb, 22);
        for (o = 0; o < 4; o++) {
            muon_op opA = o / 2 ? MUON_TRANS : MUON_NOTRANS, opB = o % 2 ? MUON_TRANS : MUON_NOTRANS;
            int lda = opA == MUON_NOTRANS ? K : M, ldb = (opB == MUON_NOTRANS ? N : K) + pad;
            size_t f;
            for (f = 0; f < FENCE; f++) P[np + f] = -7.0f; /* past the end: must stay */
            if (muon_gemm_pack_b(opB, K, N, B, ldb, P)) { same = 0; continue; }
            for (f = 0; f < FENCE; f++) fenced = fenced && P[np + f] == -7.0f;
            for (t = 1; t <= 2; t++) {
                muon_set_threads(t);
                test_fill_random(C1, n, 23);
                memcpy(C2, C1, n * sizeof *C1);
                muon_gemm(opA, opB, M, N, K, 0.7f, A, lda, B, ldb, 0.3f, C1, N);
                muon_gemm_packed(opA, opB, M, N, K, 0.7f, A, lda, B, ldb, P, 0.3f, C2, N);
                same = same && memcmp(C1, C2, n * sizeof *C1) == 0;
            }
            if (M > 1) {
                /* the packed path reads P: other values there give other results */
                size_t i;
                for (i = 0; i < np; i++) P[i] *= 2.0f;
                memcpy(C2, C1, n * sizeof *C1);
                muon_gemm_packed(opA, opB, M, N, K, 1.0f, A, lda, B, ldb, P, 0.0f, C2, N);
                muon_gemm(opA, opB, M, N, K, 2.0f, A, lda, B, ldb, 0.0f, C1, N);
                used = used && memcmp(C1, C2, n * sizeof *C1) == 0;
            }
        }
        check(same && fenced, "packed B, %dx%dx%d, all four op cases, ldb padded by %d: muon_gemm_packed gives "
              "muon_gemm's bits at 1 and 2 threads; the pack stays inside muon_gemm_packed_size", M, N, K, pad);
        if (M > 1) check(used, "packed B, %dx%dx%d: it reads the packed buffer (2*P gives the product with alpha 2)", M, N, K);
    next:
        free(A); free(B); free(P); free(C1); free(C2);
    }
    check(muon_gemm_packed_size(0, 5) == 0 && muon_gemm_packed_size(3, NR + 1) == (size_t)3 * 2 * NR,
          "packed B size: 0 for K == 0; whole NR slivers (K=3, N=NR+1: 6 NR floats)");
    check(muon_gemm_pack_b(MUON_TRANS, 10, 4, NULL, 9, NULL) == MUON_ERR_ARG &&
          muon_gemm_pack_b(MUON_NOTRANS, -1, 4, NULL, 4, NULL) == MUON_ERR_ARG,
          "pack_b rejects a short ldb and a negative size");
    muon_set_threads(before);
    muon_gemm_guard_enable(1);
}

void suite_gemm(void)
{
    test_shapes();
    test_alpha_beta();
    test_views();
    test_degenerate();
    test_bad_args();
    test_nomem();
    test_threads();
    test_concurrent();
    test_packed();
    muon_gemm_release();
}
