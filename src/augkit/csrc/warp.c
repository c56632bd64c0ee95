/* Nearest-neighbour affine warps of uint8 CHW images on the CPU, with the pixels of grid_sample.
 *
 * Every output pixel samples the source pixel torch's grid_sample(mode="nearest",
 * align_corners=False) picks for the grid of augkit.functional.warp._affine_grid: the grid is
 * the float32 sum of a per-row and a per-column term (each a float64 product, or product and sum,
 * cast to float32), unnormalized in float32 as (g + 1) * size / 2 - 0.5 and rounded half to even;
 * positions outside the image take the fill of their channel. No float copy of the image: the
 * source offsets of a row computed once, then each plane's picked bytes gathered. Built with
 * -ffp-contract=off, so the float operations are the ones written, on every CPU variant.
 */
#include <math.h>

#include "native.h"

typedef struct {
    const uint8_t *src;
    uint8_t *dst;
    int64_t n, channels, h, w, oh, ow;
    const double *maps;   /* (n, 2, 3): rows of the map from output pixels to grid_sample's [-1, 1] */
    const uint8_t *fill;  /* (channels,) */
} WarpJob;

enum { ROW = 4096 };

/* The source offset of the output pixels of row y (-1: outside), from the float32 column terms
 * of the map (computed once per image); vectorisable. */
INLINE void pick_row(int32_t *restrict at, const float *restrict col_x, const float *restrict col_y, const double *m,
                     int64_t y, int count, int64_t h, int64_t w) {
    const float half_w = (float)(w / 2.0), half_h = (float)(h / 2.0);
    const float row_x = (float)(m[1] * (double)y + m[2]), row_y = (float)(m[4] * (double)y + m[5]);
    for (int k = 0; k < count; k++) {
        const float fx = nearbyintf((row_x + col_x[k] + 1.0f) * half_w - 0.5f);
        const float fy = nearbyintf((row_y + col_y[k] + 1.0f) * half_h - 0.5f);
        const int inside = fx >= 0.0f && fx < (float)w && fy >= 0.0f && fy < (float)h;
        at[k] = inside ? (int32_t)fy * (int32_t)w + (int32_t)fx : -1;
    }
}

INLINE void warp_nearest_all(const WarpJob *job) {
    const int64_t h = job->h, w = job->w, oh = job->oh, ow = job->ow, channels = job->channels;
    int32_t at[ROW];
    float col_x[ROW], col_y[ROW];
    for (int64_t i = 0; i < job->n; i++) {
        const double *m = job->maps + 6 * i;
        const uint8_t *src = job->src + i * channels * h * w;
        uint8_t *dst = job->dst + i * channels * oh * ow;
        for (int64_t x0 = 0; x0 < ow; x0 += ROW) {
            const int count = (int)(ow - x0 < ROW ? ow - x0 : ROW);
            for (int k = 0; k < count; k++) {
                col_x[k] = (float)(m[0] * (double)(x0 + k));
                col_y[k] = (float)(m[3] * (double)(x0 + k));
            }
            for (int64_t y = 0; y < oh; y++) {
                pick_row(at, col_x, col_y, m, y, count, h, w);
                for (int64_t c = 0; c < channels; c++) {  /* plane by plane: one gather loop each */
                    const uint8_t *restrict plane = src + c * h * w;
                    uint8_t *restrict out = dst + c * oh * ow + y * ow + x0;
                    const uint8_t fill = job->fill[c];
                    for (int k = 0; k < count; k++) out[k] = at[k] < 0 ? fill : plane[at[k] < 0 ? 0 : at[k]];
                }
            }
        }
    }
}

VARIANTS(warp_nearest, WarpJob, warp_nearest_all)

PyObject *native_warp_nearest(PyObject *self, PyObject *args) {
    unsigned long long src, dst, maps, fill;
    long long n, channels, h, w, oh, ow;
    if (!PyArg_ParseTuple(args, "KKLLLLLLKK", &src, &dst, &n, &channels, &h, &w, &oh, &ow, &maps, &fill)) return NULL;
    const WarpJob job = {(const uint8_t *)src, (uint8_t *)dst, n, channels, h, w, oh, ow, (const double *)maps,
                         (const uint8_t *)fill};
    Py_BEGIN_ALLOW_THREADS
    warp_nearest(&job);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
