/* MixUp and CutMix of CPU batches in one pass: each output image is written once, reading its own
 * pixels and its partner's straight from the batch (no gathered copy of the partners).
 *
 * Image i takes the pixels of image index[i] inside its box (top, bottom, left, right), if any,
 * and elsewhere keeps its own pixels (no weights: row pieces copied byte for byte, so any dtype)
 * or blends them as torch.lerp(image index[i], image i, weight[i]) computes it on the CPU (one
 * fused multiply-add from the nearer end; uint8 images are blended in float32 and rounded half to
 * even, as the torch code does). Channels-first or channels-last. The loops are compiled for
 * AVX-512 and AVX2 as well, picked at import; fmaf and nearbyintf are exact, so every variant
 * gives the same results.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

typedef struct {
    const char *src;
    char *dst;
    int64_t n, height, planes, row, image, pixel;  /* sizes in bytes, but n and height */
    int is_uint8;
    const int64_t *index, *boxes;  /* boxes may be NULL */
    const float *weight;           /* NULL: keep the own pixels outside the boxes */
} Job;

/* torch.lerp(start, end, weight) as its CPU kernel computes it */
INLINE float lerp(float start, float end, float weight) {
    const int small = fabsf(weight) < 0.5f;
    return fmaf(small ? weight : weight - 1.0f, end - start, small ? start : end);
}

/* Bytes [start, stop) outside the box: the own values, or the blend with the partner's. */
INLINE void outside(const Job *job, int64_t i, const char *partner, const char *own, char *out, int64_t start,
                    int64_t stop) {
    if (!job->weight) {
        memcpy(out + start, own + start, stop - start);
        return;
    }
    const float weight = job->weight[i];
    if (job->is_uint8) {
        const uint8_t *restrict p = (const uint8_t *)partner, *restrict o = (const uint8_t *)own;
        uint8_t *restrict r = (uint8_t *)out;
        for (int64_t k = start; k < stop; k++) r[k] = (uint8_t)nearbyintf(lerp(p[k], o[k], weight));
    } else {
        const float *restrict p = (const float *)partner, *restrict o = (const float *)own;
        float *restrict r = (float *)out;
        for (int64_t k = start / 4; k < stop / 4; k++) r[k] = lerp(p[k], o[k], weight);
    }
}

INLINE void mix_all(const Job *job) {
    const int64_t plane = job->height * job->row;
    for (int64_t i = 0; i < job->n; i++) {
        const int64_t *box = job->boxes ? job->boxes + 4 * i : NULL;
        const int64_t top = box ? box[0] : 0, bottom = box ? box[1] : 0;
        const int64_t left = box ? box[2] * job->pixel : 0, right = box ? box[3] * job->pixel : 0;
        const char *own = job->src + i * job->image, *partner = job->src + job->index[i] * job->image;
        char *out = job->dst + i * job->image;
        for (int64_t at = 0; at < job->image; at += plane) {
            /* the rows above and below the box are one stretch each; the box rows are three pieces */
            outside(job, i, partner + at, own + at, out + at, 0, top * job->row);
            for (int64_t h = top; h < bottom; h++) {
                const int64_t row = at + h * job->row;
                outside(job, i, partner + row, own + row, out + row, 0, left);
                memcpy(out + row + left, partner + row + left, right - left);
                outside(job, i, partner + row, own + row, out + row, right, job->row);
            }
            outside(job, i, partner + at, own + at, out + at, bottom * job->row, plane);
        }
    }
}

static void mix_base(const Job *job) { mix_all(job); }
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma"))) static void mix_avx512(const Job *job) { mix_all(job); }
__attribute__((target("avx2,fma"))) static void mix_avx2(const Job *job) { mix_all(job); }
#endif
static void (*mix_best)(const Job *) = mix_base;

static int check_arguments(const int64_t *index, const int64_t *boxes, int64_t n, int64_t height, int64_t width) {
    for (int64_t i = 0; i < n; i++) {
        if (index[i] < 0 || index[i] >= n) {
            PyErr_Format(PyExc_ValueError, "index holds %lld, outside a batch of %lld images", (long long)index[i],
                         (long long)n);
            return 0;
        }
        const int64_t *box = boxes ? boxes + 4 * i : NULL;
        if (box && (box[0] < 0 || box[0] > box[1] || box[1] > height || box[2] < 0 || box[2] > box[3] || box[3] > width)) {
            PyErr_Format(PyExc_ValueError, "box (%lld, %lld, %lld, %lld) of image %lld is not inside %lldx%lld",
                         (long long)box[0], (long long)box[1], (long long)box[2], (long long)box[3], (long long)i,
                         (long long)height, (long long)width);
            return 0;
        }
    }
    return 1;
}

static PyObject *mix(PyObject *self, PyObject *args) {
    unsigned long long src, dst, index, weight, boxes;
    long long n, channels, height, width, item, is_uint8, channels_last;
    if (!PyArg_ParseTuple(args, "KKLLLLLLLKKK", &src, &dst, &n, &channels, &height, &width, &item, &is_uint8,
                          &channels_last, &index, &weight, &boxes))
        return NULL;
    if (!check_arguments((const int64_t *)index, (const int64_t *)boxes, n, height, width)) return NULL;
    /* a plane is a channel (channels-first) or the whole image (channels-last, pixels interleaved) */
    const int64_t planes = channels_last ? 1 : channels, pixel = item * (channels_last ? channels : 1);
    const Job job = {(const char *)src, (char *)dst, n, height, planes, width * pixel, planes * height * width * pixel,
                     pixel, (int)is_uint8, (const int64_t *)index, (const int64_t *)boxes, (const float *)weight};
    Py_BEGIN_ALLOW_THREADS
    mix_best(&job);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"mix", mix, METH_VARARGS,
     "mix(src, dst, n, channels, height, width, item_size, is_uint8, channels_last, index, weights, boxes): "
     "by address; index int64 (n,), weights float32 (n,) or 0 (keep), boxes int64 (n, 4) or 0 (none)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mix", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mix(void) {
#if defined(__GNUC__) && defined(__x86_64__)
    if (getenv("AUGKIT_BASELINE_KERNELS")) return PyModule_Create(&module);  /* to compare the variants */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        mix_best = mix_avx512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        mix_best = mix_avx2;
#endif
    return PyModule_Create(&module);
}
