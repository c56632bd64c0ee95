/* Shared by the C kernels of augkit._native: includes, and the one CPU-variant dispatch.
 *
 * A kernel's loops are written once, as an always-inline function of a job; VARIANTS compiles
 * it for AVX-512, AVX2 and baseline x86-64 and defines the function that runs the variant picked
 * once at import (native_variant, set in module.c). Every variant computes the same values: the
 * extension is built with -ffp-contract=off (no fused multiply-adds but those written as fmaf,
 * which are exact) and -fno-trapping-math, which lets loops be vectorised without changing them.
 */
#ifndef AUGKIT_NATIVE_H
#define AUGKIT_NATIVE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(_MSC_VER)
#define INLINE static __forceinline
#else
#define INLINE static inline __attribute__((always_inline))
#endif

/* Streaming stores: outputs of at least STREAM_MIN_BYTES (about a last-level cache; smaller ones
 * are better left in it for what reads them next) are computed a small tile at a time and copied
 * out with non-temporal stores, which do not read the output's lines into the cache first. */
#define STREAM_MIN_BYTES (24 << 20)
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define STREAMING 1
#else
#define STREAMING 0
#endif

/* n bytes from tile to out, in non-temporal stores where the CPU has them; stream_fence() orders
 * them before the kernel returns */
INLINE void stream(char *restrict out, const char *restrict tile, int64_t n) {
#if STREAMING
    int64_t k = 0;
    for (; k < n && ((uintptr_t)(out + k) & 15); k++) out[k] = tile[k];
    for (; k + 16 <= n; k += 16) _mm_stream_si128((__m128i *)(out + k), _mm_loadu_si128((const __m128i *)(tile + k)));
    for (; k < n; k++) out[k] = tile[k];
#else
    memcpy(out, tile, n);
#endif
}

INLINE void stream_fence(void) {
#if STREAMING
    _mm_sfence();
#endif
}

enum { VARIANT_BASELINE, VARIANT_AVX2, VARIANT_AVX512 };

/* the variant the kernels run, picked at import (module.c) */
extern int native_variant;

#if defined(__GNUC__) && defined(__x86_64__)
#define VARIANTS(name, job_type, body)                                                                   \
    static void name##_baseline(const job_type *job) { body(job); }                                      \
    __attribute__((target("avx2,fma"))) static void name##_avx2(const job_type *job) { body(job); }     \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) static void name##_avx512(        \
        const job_type *job) {                                                                           \
        body(job);                                                                                       \
    }                                                                                                    \
    static void name(const job_type *job) {                                                              \
        static void (*const variants[])(const job_type *) = {name##_baseline, name##_avx2, name##_avx512}; \
        variants[native_variant](job);                                                                   \
    }
#else
#define VARIANTS(name, job_type, body) \
    static void name(const job_type *job) { body(job); }
#endif

/* the functions of the module, by address (see their doc strings in module.c) */
PyObject *native_color_jitter(PyObject *self, PyObject *args);
PyObject *native_mix(PyObject *self, PyObject *args);
PyObject *native_normalize(PyObject *self, PyObject *args);
PyObject *native_warp_nearest(PyObject *self, PyObject *args);

#endif
