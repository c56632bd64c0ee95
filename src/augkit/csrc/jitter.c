/* Colour jitter of float32 and uint8 images on the CPU in one or two passes over memory.
 *
 * Each image runs its own sequence of brightness, contrast, saturation and hue steps, each
 * followed by a clamp to [0, 1] (uint8: values 0 to 255 in float32, rounded half to even, then
 * clamped to [0, 255]): the same float operations, in the same order, as the tensor kernels of
 * augkit.functional.color (the hue step is _rotate_hue_unit_; on uint8 images it runs in grey levels
 * with one reciprocal, within one rounding of it: rotate_hue_bytes). Pixels are processed in
 * chunks small enough for the L1 cache, every step on a chunk before the next chunk; a contrast
 * step needs the mean grey of the image before it, so the steps before it run first over the
 * whole image (summing as they go) and the rest in a second pass. An image is planar (CHW) or
 * interleaved (HWC, 3 channels): the chunks are planes either way, read and written with the
 * image's strides, so both layouts compute the same values.
 *
 * Results do not depend on the CPU: no fused multiply-adds (built with -ffp-contract=off; and
 * -fno-trapping-math, which lets the hue loop be vectorised without changing values), no
 * reassociation; the sums use a fixed number of double lanes in a fixed order. The loops are
 * compiled for each CPU variant (native.h).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "native.h"

enum { BRIGHTNESS, CONTRAST, SATURATION, HUE };
enum { CHUNK = 1024, LANES = 8 };

static const float LUMA_R = 0.299f, LUMA_G = 0.587f, LUMA_B = 0.114f;

INLINE float clamp(float v, float low, float high) {
    v = v < low ? low : v;
    return v > high ? high : v;
}

/* The end of every step: integer images (values 0 to 255) are rounded half to even, then clamped. */
INLINE float finish(float v, float white, int integral) {
    return clamp(integral ? nearbyintf(v) : v, 0.0f, white);
}

/* v * scale + term, finished, on n values */
INLINE void blend(float *restrict v, int n, float scale, float term, float white, int integral) {
    for (int i = 0; i < n; i++) v[i] = finish(v[i] * scale + term, white, integral);
}

/* the grey of integer images is floored first, as torchvision does */
INLINE void saturate(float *restrict r, float *restrict g, float *restrict b, int n, float scale, float white,
                     int integral) {
    const float keep = 1.0f - scale;
    for (int i = 0; i < n; i++) {
        const float grey = r[i] * LUMA_R + g[i] * LUMA_G + b[i] * LUMA_B;
        const float term = (integral ? floorf(grey) : grey) * keep;
        r[i] = finish(r[i] * scale + term, white, integral);
        g[i] = finish(g[i] * scale + term, white, integral);
        b[i] = finish(b[i] * scale + term, white, integral);
    }
}

/* channel k becomes v - c + c * clamp(||sixths + offset_k| - 3|, 1, 2) (see _rotate_hue_unit_),
 * clamped to [0, white] */
INLINE float hue_channel(float sixths, float offset, float chroma, float base, float white) {
    const float d = clamp(fabsf(fabsf(sixths + offset) - 3.0f), 1.0f, 2.0f);
    return clamp(d * chroma + base, 0.0f, white);
}

/* The hue in sixths of a turn, plus shift, wrapped to [0, 6): from each channel's (v - low) / chroma
 * (nr, ng, nb) and which channel is the largest (pick_r: red, else pick_g: green, else blue). */
INLINE float hue_sixths(float nr, float ng, float nb, float pick_r, float pick_g, float shift) {
    const float pick_b = pick_r * -1.0f + 1.0f - pick_g;
    const float to_r = (ng - nb) * pick_r;
    const float to_g = (nb - nr + 2.0f) * pick_g;
    float sixths = (nr - ng + 4.0f) * pick_b + to_r + to_g;
    sixths = sixths + shift;
    return sixths - floorf(sixths * (float)(1.0 / 6.0)) * 6.0f;
}

INLINE float largest(float red, float green, float blue) {
    const float value = red > green ? red : green;
    return value < blue ? blue : value;
}

INLINE float smallest(float red, float green, float blue) {
    const float low = red < green ? red : green;
    return low > blue ? blue : low;
}

/* on float values in [0, 1]: the float operations of the tensor kernel */
INLINE void rotate_hue(float *restrict r, float *restrict g, float *restrict b, int n, float shift) {
    for (int i = 0; i < n; i++) {
        const float red = r[i], green = g[i], blue = b[i];
        const float value = largest(red, green, blue), low = smallest(red, green, blue);
        const float chroma = value - low;
        const float safe = chroma < FLT_MIN ? FLT_MIN : chroma;
        const float nr = (red - low) / safe, ng = (green - low) / safe, nb = (blue - low) / safe;
        const float pick_r = floorf(nr);
        const float pick_g = floorf(ng) * (pick_r * -1.0f + 1.0f);
        const float sixths = hue_sixths(nr, ng, nb, pick_r, pick_g, shift);
        const float base = low - chroma;
        r[i] = hue_channel(sixths, -6.0f, chroma, base, 1.0f);
        g[i] = hue_channel(sixths, -2.0f, chroma, base, 1.0f);
        b[i] = hue_channel(sixths, -4.0f, chroma, base, 1.0f);
    }
}

/* On integer values 0 to 255, in those units (the hue is a ratio of differences, and the result
 * scales with them), with one reciprocal of the chroma: within a rounding of the tensor kernel, which
 * divides every channel by 255 and by the chroma. The largest channel is found by comparing the exact
 * integers, where the tensor kernel floors its ratios (1 for the largest). */
INLINE void rotate_hue_bytes(float *restrict r, float *restrict g, float *restrict b, int n, float shift) {
    for (int i = 0; i < n; i++) {
        const float red = r[i], green = g[i], blue = b[i];
        const float value = largest(red, green, blue), low = smallest(red, green, blue);
        const float chroma = value - low;
        const float inverse = 1.0f / (chroma < 1.0f ? 1.0f : chroma);
        const float nr = (red - low) * inverse, ng = (green - low) * inverse, nb = (blue - low) * inverse;
        const float pick_r = red == value ? 1.0f : 0.0f;
        const float pick_g = green == value && red != value ? 1.0f : 0.0f;
        const float sixths = hue_sixths(nr, ng, nb, pick_r, pick_g, shift);
        const float base = low - chroma;
        r[i] = nearbyintf(hue_channel(sixths, -6.0f, chroma, base, 255.0f));
        g[i] = nearbyintf(hue_channel(sixths, -2.0f, chroma, base, 255.0f));
        b[i] = nearbyintf(hue_channel(sixths, -4.0f, chroma, base, 255.0f));
    }
}

/* Add the n values of v to the lanes of sums, value i to lane i % LANES. */
INLINE void accumulate(double *restrict sums, const float *restrict v, int n) {
    int i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) sums[k] += v[i + k];
    for (int k = 0; i < n; i++, k++) sums[k] += v[i];
}

typedef struct {
    int op;
    float scale, term;  /* blend steps: v * scale + term; hue: shift in sixths */
} Step;

/* n values of one channel, from element first of src on, stride apart, into a plane */
INLINE void load(float *restrict plane, const void *src, int integral, int64_t first, int stride, int n) {
    if (integral) {
        const uint8_t *from = (const uint8_t *)src + first;
        for (int i = 0; i < n; i++) plane[i] = from[(int64_t)i * stride];
    } else if (stride == 1) {
        memcpy(plane, (const float *)src + first, n * sizeof(float));
    } else {
        const float *from = (const float *)src + first;
        for (int i = 0; i < n; i++) plane[i] = from[(int64_t)i * stride];
    }
}

/* the n values of a plane, written from element first of dst on, stride apart (uint8: they are
 * integers in [0, 255] already) */
INLINE void store(void *dst, const float *restrict plane, int integral, int64_t first, int stride, int n) {
    if (integral) {
        uint8_t *to = (uint8_t *)dst + first;
        for (int i = 0; i < n; i++) to[(int64_t)i * stride] = (uint8_t)plane[i];
    } else if (stride == 1) {
        memcpy((float *)dst + first, plane, n * sizeof(float));
    } else {
        float *to = (float *)dst + first;
        for (int i = 0; i < n; i++) to[(int64_t)i * stride] = plane[i];
    }
}

/* Steps [0, count) on every pixel of src (float32, or uint8 when integral; planar, or interleaved
 * with 3 channels), written to dst (when not NULL) in the same layout; the per-lane sums of each
 * channel's results are added to sums (when not NULL). Integer values are computed in float32, as
 * the torch code does. */
INLINE void run_steps(const void *src, void *dst, int integral, int interleaved, int channels, int64_t hw,
                      const Step *steps, int count, double *sums) {
    const float white = integral ? 255.0f : 1.0f;
    const int stride = interleaved ? 3 : 1;
    float chunk[3][CHUNK];
    for (int64_t start = 0; start < hw; start += CHUNK) {
        const int n = (int)(hw - start < CHUNK ? hw - start : CHUNK);
        for (int c = 0; c < channels; c++)
            load(chunk[c], src, integral, interleaved ? start * 3 + c : c * hw + start, stride, n);
        for (int s = 0; s < count; s++) {
            const Step step = steps[s];
            if (step.op == SATURATION) {
                saturate(chunk[0], chunk[1], chunk[2], n, step.scale, white, integral);
            } else if (step.op == HUE) {
                if (integral)
                    rotate_hue_bytes(chunk[0], chunk[1], chunk[2], n, step.scale);
                else
                    rotate_hue(chunk[0], chunk[1], chunk[2], n, step.scale);
            } else {
                for (int c = 0; c < channels; c++) blend(chunk[c], n, step.scale, step.term, white, integral);
            }
        }
        if (count == 0)  /* no step: only the final clamp */
            for (int c = 0; c < channels; c++) blend(chunk[c], n, 1.0f, 0.0f, white, integral);
        for (int c = 0; c < channels; c++) {
            if (sums) accumulate(sums + c * LANES, chunk[c], n);
            if (dst) store(dst, chunk[c], integral, interleaved ? start * 3 + c : c * hw + start, stride, n);
        }
    }
}

/* The mean grey of the image whose per-lane channel sums are sums, as _luma_mean_tensor: in
 * float32 from float32 means, or, for integer images (whose sums are exact), in float64. */
INLINE float mean_grey(const double *sums, int channels, int64_t hw, int integral) {
    double means[3];
    for (int c = 0; c < channels; c++) {
        double total = 0.0;
        for (int k = 0; k < LANES; k++) total += sums[c * LANES + k];
        means[c] = total / (double)hw;
    }
    if (channels == 1) return (float)means[0];
    if (integral) return (float)(means[0] * 0.299 + means[1] * 0.587 + means[2] * 0.114);
    return (float)means[0] * LUMA_R + (float)means[1] * LUMA_G + (float)means[2] * LUMA_B;
}

/* One image: factors (brightness, contrast, saturation, hue turns) applied in order (op indices). */
INLINE void jitter_image(const void *src, void *dst, int integral, int interleaved, int channels, int64_t hw,
                         const float *factors, const int64_t *order) {
    Step steps[4];
    int count = 0, contrast_at = -1;
    for (int k = 0; k < 4; k++) {
        const int op = (int)order[k];
        const float f = factors[op];
        if ((op == HUE ? f == 0.0f : f == 1.0f) || (channels == 1 && op >= SATURATION)) continue;
        if (op == CONTRAST) contrast_at = count;
        steps[count++] = (Step){op, op == HUE ? f * 6.0f : f, 0.0f};
    }
    if (contrast_at < 0) {
        run_steps(src, dst, integral, interleaved, channels, hw, steps, count, NULL);
        return;
    }
    double sums[3 * LANES] = {0.0};
    run_steps(src, contrast_at ? dst : NULL, integral, interleaved, channels, hw, steps, contrast_at, sums);
    const float scale = steps[contrast_at].scale;
    steps[contrast_at].term = (1.0f - scale) * mean_grey(sums, channels, hw, integral);
    run_steps(contrast_at ? dst : src, dst, integral, interleaved, channels, hw, steps + contrast_at,
              count - contrast_at, NULL);
}

typedef struct {
    const char *src;
    char *dst;
    int integral;     /* uint8 images, else float32 */
    int interleaved;  /* HWC images (3 channels), else CHW */
    int64_t n, channels, hw;
    const float *factors;
    const int64_t *order;
} Job;

/* the images of job in one layout (a constant once inlined, so each layout gets its own loops) */
INLINE void jitter_layout(const Job *job, int interleaved) {
    for (int64_t i = 0; i < job->n; i++) {
        const int64_t offset = i * job->channels * job->hw * (job->integral ? 1 : 4);
        jitter_image(job->src + offset, job->dst + offset, job->integral, interleaved, (int)job->channels, job->hw,
                     job->factors + 4 * i, job->order + 4 * i);
    }
}

INLINE void jitter_all(const Job *job) {
    if (job->interleaved)
        jitter_layout(job, 1);
    else
        jitter_layout(job, 0);
}

VARIANTS(jitter_batch, Job, jitter_all)

PyObject *native_color_jitter(PyObject *self, PyObject *args) {
    unsigned long long src, dst, factors, order;
    long long n, channels, hw, is_uint8, interleaved;
    if (!PyArg_ParseTuple(args, "KKLLLKKLL", &src, &dst, &n, &channels, &hw, &factors, &order, &is_uint8,
                          &interleaved))
        return NULL;
    if (channels != 1 && channels != 3) {
        PyErr_Format(PyExc_ValueError, "color_jitter expects 1 or 3 channels; got %lld", channels);
        return NULL;
    }
    if (interleaved && channels != 3) {
        PyErr_Format(PyExc_ValueError, "color_jitter interleaves 3 channels; got %lld", channels);
        return NULL;
    }
    const Job job = {(const char *)src, (char *)dst, (int)is_uint8, interleaved != 0, n, channels, hw,
                     (const float *)factors, (const int64_t *)order};
    Py_BEGIN_ALLOW_THREADS
    jitter_batch(&job);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}
