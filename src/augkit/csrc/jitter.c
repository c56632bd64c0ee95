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

/* n values of one plane, from element first of src on */
INLINE void load(float *restrict plane, const void *src, int integral, int64_t first, int n) {
    if (integral) {
        const uint8_t *from = (const uint8_t *)src + first;
        for (int i = 0; i < n; i++) plane[i] = from[i];
    } else {
        memcpy(plane, (const float *)src + first, n * sizeof(float));
    }
}

/* the n values of a plane, written from element first of dst on (uint8: they are integers in
 * [0, 255] already) */
INLINE void store(void *dst, const float *restrict plane, int integral, int64_t first, int n) {
    if (integral) {
        uint8_t *to = (uint8_t *)dst + first;
        for (int i = 0; i < n; i++) to[i] = (uint8_t)plane[i];
    } else {
        memcpy((float *)dst + first, plane, n * sizeof(float));
    }
}

/* Interleaved uint8 RGB pixels to and from three float planes. On x86-64 CPUs with SSSE3 and
 * SSE4.1 (those of the AVX2 and AVX-512 variants) 16 pixels (48 bytes) go at a time through byte
 * shuffles, each plane's bytes gathered from the three 16-byte blocks; elsewhere, one at a time.
 * Both give the same values. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <smmintrin.h>
#define SHUFFLED_RGB 1
#define Z -128

__attribute__((target("ssse3,sse4.1"))) static int load_rgb_shuffled(float chunk[3][CHUNK], const uint8_t *from,
                                                                       int n) {
    const __m128i take[3][3] = {
        {_mm_setr_epi8(0, 3, 6, 9, 12, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, 2, 5, 8, 11, 14, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 1, 4, 7, 10, 13)},
        {_mm_setr_epi8(1, 4, 7, 10, 13, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, 0, 3, 6, 9, 12, 15, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 2, 5, 8, 11, 14)},
        {_mm_setr_epi8(2, 5, 8, 11, 14, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, 1, 4, 7, 10, 13, Z, Z, Z, Z, Z, Z),
         _mm_setr_epi8(Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, 0, 3, 6, 9, 12, 15)}};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m128i v0 = _mm_loadu_si128((const __m128i *)(from + 3 * i)),
                      v1 = _mm_loadu_si128((const __m128i *)(from + 3 * i + 16)),
                      v2 = _mm_loadu_si128((const __m128i *)(from + 3 * i + 32));
        for (int c = 0; c < 3; c++) {
            __m128i bytes = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(v0, take[c][0]), _mm_shuffle_epi8(v1, take[c][1])),
                                         _mm_shuffle_epi8(v2, take[c][2]));
            for (int q = 0; q < 4; q++, bytes = _mm_srli_si128(bytes, 4))
                _mm_storeu_ps(chunk[c] + i + 4 * q, _mm_cvtepi32_ps(_mm_cvtepu8_epi32(bytes)));
        }
    }
    return i;
}

__attribute__((target("ssse3,sse4.1"))) static int store_rgb_shuffled(uint8_t *to, float chunk[3][CHUNK], int n) {
    const __m128i put[3][3] = {
        {_mm_setr_epi8(0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z, 5),
         _mm_setr_epi8(Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z, Z),
         _mm_setr_epi8(Z, Z, 0, Z, Z, 1, Z, Z, 2, Z, Z, 3, Z, Z, 4, Z)},
        {_mm_setr_epi8(Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10, Z),
         _mm_setr_epi8(5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z, 10),
         _mm_setr_epi8(Z, 5, Z, Z, 6, Z, Z, 7, Z, Z, 8, Z, Z, 9, Z, Z)},
        {_mm_setr_epi8(Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z, Z),
         _mm_setr_epi8(Z, Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15, Z),
         _mm_setr_epi8(10, Z, Z, 11, Z, Z, 12, Z, Z, 13, Z, Z, 14, Z, Z, 15)}};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i plane[3];  /* the 16 bytes of each channel (values are integers in [0, 255]) */
        for (int c = 0; c < 3; c++) {
            const float *v = chunk[c] + i;
            const __m128i low = _mm_packus_epi32(_mm_cvttps_epi32(_mm_loadu_ps(v)), _mm_cvttps_epi32(_mm_loadu_ps(v + 4)));
            const __m128i high = _mm_packus_epi32(_mm_cvttps_epi32(_mm_loadu_ps(v + 8)),
                                                  _mm_cvttps_epi32(_mm_loadu_ps(v + 12)));
            plane[c] = _mm_packus_epi16(low, high);
        }
        for (int k = 0; k < 3; k++)
            _mm_storeu_si128((__m128i *)(to + 3 * i + 16 * k),
                             _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(plane[0], put[k][0]),
                                                       _mm_shuffle_epi8(plane[1], put[k][1])),
                                          _mm_shuffle_epi8(plane[2], put[k][2])));
    }
    return i;
}
#undef Z
#else
#define SHUFFLED_RGB 0
#endif

/* n pixels of an interleaved uint8 RGB image, from pixel first on, into three planes */
INLINE void load_rgb(float chunk[3][CHUNK], const uint8_t *src, int64_t first, int n) {
    const uint8_t *from = src + first * 3;
    int i = 0;
#if SHUFFLED_RGB
    if (native_variant != VARIANT_BASELINE) i = load_rgb_shuffled(chunk, from, n);
#endif
    for (; i < n; i++) chunk[0][i] = from[3 * i], chunk[1][i] = from[3 * i + 1], chunk[2][i] = from[3 * i + 2];
}

/* three planes of n integers in [0, 255] into an interleaved uint8 image from pixel first on */
INLINE void store_rgb(uint8_t *dst, float chunk[3][CHUNK], int64_t first, int n) {
    uint8_t *to = dst + first * 3;
    int i = 0;
#if SHUFFLED_RGB
    if (native_variant != VARIANT_BASELINE) i = store_rgb_shuffled(to, chunk, n);
#endif
    for (; i < n; i++)
        to[3 * i] = (uint8_t)chunk[0][i], to[3 * i + 1] = (uint8_t)chunk[1][i], to[3 * i + 2] = (uint8_t)chunk[2][i];
}

/* Steps [0, count) on every pixel of src (float32, or uint8 when integral; planar, or interleaved
 * with 3 channels), written to dst (when not NULL) in the same layout; the per-lane sums of each
 * channel's results are added to sums (when not NULL). Integer values are computed in float32, as
 * the torch code does. */
INLINE void run_steps(const void *src, void *dst, int integral, int interleaved, int channels, int64_t hw,
                      const Step *steps, int count, double *sums) {
    const float white = integral ? 255.0f : 1.0f;
    float chunk[3][CHUNK];
    for (int64_t start = 0; start < hw; start += CHUNK) {
        const int n = (int)(hw - start < CHUNK ? hw - start : CHUNK);
        if (interleaved)
            load_rgb(chunk, (const uint8_t *)src, start, n);
        else
            for (int c = 0; c < channels; c++) load(chunk[c], src, integral, c * hw + start, n);
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
        if (sums)
            for (int c = 0; c < channels; c++) accumulate(sums + c * LANES, chunk[c], n);
        if (dst && interleaved)
            store_rgb((uint8_t *)dst, chunk, start, n);
        else if (dst)
            for (int c = 0; c < channels; c++) store(dst, chunk[c], integral, c * hw + start, n);
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
