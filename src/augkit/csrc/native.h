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

#if defined(_MSC_VER)
#define INLINE static __forceinline
#else
#define INLINE static inline __attribute__((always_inline))
#endif

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
PyObject *native_warp_nearest(PyObject *self, PyObject *args);

#endif
