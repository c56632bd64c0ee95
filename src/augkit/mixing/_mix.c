/* MixUp and CutMix of CPU batches in one pass: each output image is written once, reading its own
 * pixels and its partner's straight from the batch (no gathered copy of the partners).
 *
 * paste: image i gets the pixels of image index[i] inside its box (top, bottom, left, right) and
 * keeps its own elsewhere: row pieces copied byte for byte, so any dtype, channels-first or
 * channels-last. blend: image i becomes lerp(image index[i], image i, weight[i]) as torch.lerp
 * computes it on the CPU (one fused multiply-add from the nearer end); uint8 images are blended in
 * float32 and rounded half to even, as the torch code does.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define VECTOR_CLONES
#endif

/* Whether every index lies in [0, n); sets a ValueError otherwise. */
static int check_index(const int64_t *index, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        if (index[i] < 0 || index[i] >= n) {
            PyErr_Format(PyExc_ValueError, "index holds %lld, outside a batch of %lld images",
                         (long long)index[i], (long long)n);
            return 0;
        }
    }
    return 1;
}

static PyObject *paste(PyObject *self, PyObject *args) {
    unsigned long long src_address, dst_address, index_address, box_address;
    long long n, channels, height, width, item, channels_last;
    if (!PyArg_ParseTuple(args, "KKLLLLLLKK", &src_address, &dst_address, &n, &channels, &height, &width,
                          &item, &channels_last, &index_address, &box_address))
        return NULL;
    const int64_t *index = (const int64_t *)index_address, *boxes = (const int64_t *)box_address;
    if (!check_index(index, n)) return NULL;
    for (int64_t i = 0; i < n; i++) {
        const int64_t *box = boxes + 4 * i;
        if (box[0] < 0 || box[0] > box[1] || box[1] > height || box[2] < 0 || box[2] > box[3] || box[3] > width) {
            PyErr_Format(PyExc_ValueError, "box (%lld, %lld, %lld, %lld) of image %lld is not inside %lldx%lld",
                         (long long)box[0], (long long)box[1], (long long)box[2], (long long)box[3], (long long)i,
                         (long long)height, (long long)width);
            return NULL;
        }
    }
    /* a plane is a channel (channels-first) or the whole image (channels-last, pixels interleaved) */
    const int64_t planes = channels_last ? 1 : channels, pixel = item * (channels_last ? channels : 1);
    const int64_t row = width * pixel, plane = height * row, image = planes * plane;
    const char *src = (const char *)src_address;
    char *dst = (char *)dst_address;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t i = 0; i < n; i++) {
        const int64_t top = boxes[4 * i], bottom = boxes[4 * i + 1];
        const int64_t left = boxes[4 * i + 2] * pixel, right = boxes[4 * i + 3] * pixel;
        const char *own = src + i * image, *partner = src + index[i] * image;
        char *out = dst + i * image;
        for (int64_t p = 0; p < planes; p++) {
            for (int64_t h = 0; h < height; h++) {
                const int64_t at = p * plane + h * row;
                if (h < top || h >= bottom || left == right) {
                    memcpy(out + at, own + at, row);
                    continue;
                }
                memcpy(out + at, own + at, left);
                memcpy(out + at + left, partner + at + left, right - left);
                memcpy(out + at + right, own + at + right, row - right);
            }
        }
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

/* torch.lerp(start, end, weight) as its CPU kernel computes it */
static inline __attribute__((always_inline)) float lerp(float start, float end, float weight) {
    const int small = fabsf(weight) < 0.5f;
    return fmaf(small ? weight : weight - 1.0f, end - start, small ? start : end);
}

VECTOR_CLONES
static void blend_float(const float *restrict partner, const float *restrict own, float *restrict out,
                        int64_t count, float weight) {
    for (int64_t k = 0; k < count; k++) out[k] = lerp(partner[k], own[k], weight);
}

VECTOR_CLONES
static void blend_uint8(const uint8_t *restrict partner, const uint8_t *restrict own, uint8_t *restrict out,
                        int64_t count, float weight) {
    for (int64_t k = 0; k < count; k++) out[k] = (uint8_t)nearbyintf(lerp(partner[k], own[k], weight));
}

static PyObject *blend(PyObject *self, PyObject *args) {
    unsigned long long src_address, dst_address, index_address, weight_address;
    long long n, count, is_uint8;
    if (!PyArg_ParseTuple(args, "KKLLLKK", &src_address, &dst_address, &n, &count, &is_uint8, &index_address,
                          &weight_address))
        return NULL;
    const int64_t *index = (const int64_t *)index_address;
    const float *weight = (const float *)weight_address;
    if (!check_index(index, n)) return NULL;
    Py_BEGIN_ALLOW_THREADS
    for (int64_t i = 0; i < n; i++) {
        if (is_uint8) {
            const uint8_t *src = (const uint8_t *)src_address;
            blend_uint8(src + index[i] * count, src + i * count, (uint8_t *)dst_address + i * count, count, weight[i]);
        } else {
            const float *src = (const float *)src_address;
            blend_float(src + index[i] * count, src + i * count, (float *)dst_address + i * count, count, weight[i]);
        }
    }
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"paste", paste, METH_VARARGS,
     "paste(src, dst, n, channels, height, width, item_size, channels_last, index, boxes): by address; "
     "index int64 (n,), boxes int64 (n, 4) as top, bottom, left, right."},
    {"blend", blend, METH_VARARGS,
     "blend(src, dst, n, values_per_image, is_uint8, index, weights): by address; index int64 (n,), "
     "weights float32 (n,), the share of each image itself."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_mix", NULL, -1, methods};

PyMODINIT_FUNC PyInit__mix(void) { return PyModule_Create(&module); }
