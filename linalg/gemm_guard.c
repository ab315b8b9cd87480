/* GEMM's contention guard: the one piece of muon_gemm that looks at the
 * clock. It changes only how many threads a call uses, never a result. */
#include "linalg/gemm_internal.h"
#include "linalg/omp.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef _OPENMP
/* When other processes keep the cores busy, a fork/join waits for whichever
 * thread the OS has descheduled, and a 2-thread call can take many times as
 * long as on one thread. So each threaded call measures how much
 * later each thread finished than it would have starting at once at the
 * pace of the fastest thread (per micro-kernel call, so uneven shares do
 * not count); if that lag was over a quarter of the call (and over
 * GUARD_MIN_LAG), calls run on one thread for a while, the while doubling
 * as long as the contention lasts. The results are the same bits either
 * way; only the speed changes. */
#define GUARD_MIN_LAG 1e-4     /* seconds: below this, lag is just wake-up */
#define GUARD_FIRST_PAUSE 0.02 /* seconds on one thread after a bad call */
#define GUARD_MAX_PAUSE 0.25

static int guard_on = 1;
static double guard_until = 0.0, guard_pause = GUARD_FIRST_PAUSE;

void muon_gemm_guard_enable(int on)
{
MUON_OMP(omp critical(muon_gemm_guard))
    {
        guard_on = on;
        guard_until = 0.0;
        guard_pause = GUARD_FIRST_PAUSE;
    }
}

int muon_gemm_guard_says_serial(void)
{
    int serial;
    double now = omp_get_wtime();
MUON_OMP(omp critical(muon_gemm_guard))
    serial = guard_on && now < guard_until;
    return serial;
}

void muon_gemm_guard_record(const muon_gemm_times *t, int nt, double total)
{
    double now = omp_get_wtime(), pace = -1.0, lag = 0.0;
    int i;
    for (i = 0; i < nt; i++)
        if (t[i].tiles > 0 && (pace < 0.0 || t[i].busy / t[i].tiles < pace))
            pace = t[i].busy / t[i].tiles;
    for (i = 0; i < nt; i++) {
        double late = t[i].start + t[i].busy - (pace > 0.0 ? pace * t[i].tiles : 0.0);
        if (late > lag) lag = late;
    }
MUON_OMP(omp critical(muon_gemm_guard))
    {
        if (lag > GUARD_MIN_LAG && lag > 0.25 * total) {
            guard_until = now + guard_pause;
            guard_pause = 2.0 * guard_pause < GUARD_MAX_PAUSE ? 2.0 * guard_pause : GUARD_MAX_PAUSE;
        } else {
            guard_pause = GUARD_FIRST_PAUSE;
        }
    }
}
#else
void muon_gemm_guard_enable(int on) { (void)on; }
int muon_gemm_guard_says_serial(void) { return 0; }
void muon_gemm_guard_record(const muon_gemm_times *t, int nt, double total) { (void)t; (void)nt; (void)total; }
#endif

