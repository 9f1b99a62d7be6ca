/*
 * qemu-robust-shim.c: for TEST BINARIES RUN UNDER QEMU-USER ONLY; never link
 * it into the shipped invsync.
 *
 * qemu-user does not implement get/set_robust_list, so musl's
 * pthread_mutexattr_setrobust() fails with ENOSYS there and LMDB (built with
 * MDB_USE_ROBUST) refuses to open an environment.  Linked with
 * -Wl,--wrap=pthread_mutexattr_setrobust, this wrapper turns exactly that
 * ENOSYS into success, so LMDB falls back to an ordinary process-shared
 * mutex.  Every other result is passed through unchanged.  Real Linux
 * kernels (including the Raspberry Pi's) have robust futexes and do not
 * need it.
 */
#include <errno.h>
#include <pthread.h>

int	__real_pthread_mutexattr_setrobust(pthread_mutexattr_t *, int);
int	__wrap_pthread_mutexattr_setrobust(pthread_mutexattr_t *, int);

int
__wrap_pthread_mutexattr_setrobust(pthread_mutexattr_t *a, int robust)
{
	int e;

	e = __real_pthread_mutexattr_setrobust(a, robust);
	return e == ENOSYS ? 0 : e;
}
