/* augkit._native: the C kernels of augkit (colour jitter, mixing, normalize, nearest warps), with one CPU-variant dispatch.
 *
 * The variant is picked once, here, at import: AVX-512 where the CPU has it, else AVX2 with FMA,
 * else baseline x86-64; AUGKIT_BASELINE_KERNELS in the environment forces the baseline loops (to
 * compare the variants, which give the same bits). variant() names the one picked.
 */
#include <stdlib.h>

#include "native.h"

int native_variant = VARIANT_BASELINE;

static const char *const VARIANT_NAMES[] = {"baseline", "avx2", "avx512"};

static PyObject *variant(PyObject *self, PyObject *unused) { return PyUnicode_FromString(VARIANT_NAMES[native_variant]); }

static void pick_variant(void) {
#if defined(__GNUC__) && defined(__x86_64__)
    if (getenv("AUGKIT_BASELINE_KERNELS")) return;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
        native_variant = VARIANT_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        native_variant = VARIANT_AVX2;
#endif
}

static PyMethodDef methods[] = {
    {"color_jitter", native_color_jitter, METH_VARARGS,
     "color_jitter(src, dst, n, channels, hw, factors, order, is_uint8, interleaved): jitter n contiguous "
     "float32 (or uint8) images at address src into dst, CHW or (interleaved) HWC with 3 channels; factors "
     "float32 (n, 4), order int64 (n, 4), by address."},
    {"mix", native_mix, METH_VARARGS,
     "mix(src, dst, n, channels, height, width, item_size, is_uint8, channels_last, index, weights, boxes): "
     "by address; dst == src mixes in place; index int64 (n,), weights float32 (n,) or 0 (keep), boxes "
     "int64 (n, 4) or 0 (none)."},
    {"normalize", native_normalize, METH_VARARGS,
     "normalize(src, dst, planes, channels, hw, is_uint8, scale, bias): x * scale[c] + bias[c] of planes of hw "
     "contiguous float32 (or uint8) pixels at address src into float32 dst, plane p of channel p % channels; "
     "scale and bias float32 (channels,), by address."},
    {"warp_nearest", native_warp_nearest, METH_VARARGS,
     "warp_nearest(src, dst, n, channels, h, w, oh, ow, maps, fill): nearest affine warp of n contiguous uint8 "
     "images, by address; maps float64 (n, 2, 3) from output pixels to grid_sample's [-1, 1], fill uint8 "
     "(channels,)."},
    {"variant", variant, METH_NOARGS, "variant(): the loops picked for this CPU: 'avx512', 'avx2' or 'baseline'."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "The C kernels of augkit.", -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    pick_variant();
    return PyModule_Create(&module);
}
