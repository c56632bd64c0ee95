/* Normalize of contiguous CPU images: out = x * scale[c] + bias[c] per channel plane, float32 out.
 *
 * One pass over the pixels where torch takes two (a multiply into the output, then an add in
 * place) with the same two roundings: the extension is built with -ffp-contract=off, so x * scale
 * is rounded before the add, as torch's, and uint8 pixels are converted exactly first, so the
 * result is torch's bit for bit on every CPU variant. Outputs above STREAM_MIN_BYTES (native.h)
 * go out through a tile in non-temporal stores.
 */
#include "native.h"

typedef struct {
    const char *src;
    float *dst;
    int64_t planes, channels, hw;  /* planes of hw pixels, plane p of channel p % channels */
    int is_uint8;
    const float *scale, *bias;
    float *tile;  /* streaming: TILE floats; else NULL */
} NormalizeJob;

enum { TILE = 256 };

INLINE void affine(const NormalizeJob *job, int64_t at, float *restrict out, int64_t count, float scale, float bias) {
    if (job->is_uint8) {
        const uint8_t *restrict x = (const uint8_t *)job->src + at;
        for (int64_t k = 0; k < count; k++) out[k] = (float)x[k] * scale + bias;
    } else {
        const float *restrict x = (const float *)job->src + at;
        for (int64_t k = 0; k < count; k++) out[k] = x[k] * scale + bias;
    }
}

INLINE void normalize_all(const NormalizeJob *job) {
    for (int64_t p = 0; p < job->planes; p++) {
        const float scale = job->scale[p % job->channels], bias = job->bias[p % job->channels];
        const int64_t at = p * job->hw;
        if (!job->tile) {
            affine(job, at, job->dst + at, job->hw, scale, bias);
            continue;
        }
        for (int64_t k = 0; k < job->hw; k += TILE) {
            const int64_t count = job->hw - k < TILE ? job->hw - k : TILE;
            affine(job, at + k, job->tile, count, scale, bias);
            stream((char *)(job->dst + at + k), (const char *)job->tile, count * (int64_t)sizeof(float));
        }
    }
    if (job->tile) stream_fence();
}

VARIANTS(normalize_planes, NormalizeJob, normalize_all)

PyObject *native_normalize(PyObject *self, PyObject *args) {
    unsigned long long src, dst, scale, bias;
    long long planes, channels, hw, is_uint8;
    if (!PyArg_ParseTuple(args, "KKLLLLKK", &src, &dst, &planes, &channels, &hw, &is_uint8, &scale, &bias))
        return NULL;
    float tile[TILE];
    const int streams = STREAMING && planes * hw * (int64_t)sizeof(float) >= STREAM_MIN_BYTES;
    const NormalizeJob job = {(const char *)src, (float *)dst, planes, channels, hw, (int)is_uint8,
                              (const float *)scale, (const float *)bias, streams ? tile : NULL};
    Py_BEGIN_ALLOW_THREADS
    normalize_planes(&job);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
