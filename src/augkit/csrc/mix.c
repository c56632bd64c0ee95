/* MixUp and CutMix of CPU batches, out of place or in place, each output pixel written once.
 *
 * Image i takes the pixels of image index[i] inside its box (top, bottom, left, right), if any,
 * and elsewhere keeps its own pixels (no weights: row pieces copied byte for byte, so any dtype)
 * or blends them as torch.lerp(image index[i], image i, weight[i]) computes it on the CPU (one
 * fused multiply-add from the nearer end; uint8 images are blended in float32 and rounded half to
 * even, as the torch code does). Channels-first or channels-last. fmaf and nearbyintf are exact,
 * so every CPU variant (native.h) gives the same results, in place or not.
 *
 * The order: images are written along the walks i, index[i], index[index[i]], ..., so that the
 * partner of an image is the next image's own, read again from the cache rather than from memory.
 * In place (dst == src) an image is overwritten only once every image that reads it as a partner
 * has been written: first the images no other one reads, then those they read (a topological
 * order), then each remaining cycle of the index from its first image on, the last image of the
 * cycle reading the first one's original pixels from a copy taken before (only the box it reads,
 * when pasting). Pasting in place writes the boxes only, and an image that is its own partner is
 * left as it is.
 *
 * Out of place on a channels-first batch larger than the caches, a chunk of rows is computed a
 * tile at a time into a small buffer and written to the output with non-temporal stores, which do
 * not read the output's lines into the cache first; meanwhile the same rows of the next image's
 * partner are prefetched. Together they take a 64x3x224x224 float32 MixUp from about 1.3x the
 * time of a copy_ of the batch to about that of the copy (either alone gains little, and without
 * the prefetch the streamed stores are slower). Channels-last rows, several times longer, measured
 * slower streamed (CutMix by 30%) and keep the plain stores.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

typedef struct {
    int64_t image;     /* the image written */
    int64_t saves;     /* -1, or the image whose partner this one is: what it reads is copied to scratch first */
    int from_scratch;  /* the partner's original pixels are in the scratch copy */
} Step;

typedef struct {
    const char *src;
    char *dst;      /* src itself in place */
    char *scratch;  /* one image, or NULL when no step uses it */
    uint8_t *select;  /* pasting out of place: a row of byte masks, 0xff in the box columns; else NULL */
    char *tile;       /* streaming the output (top of the file): rows are computed here first; else NULL */
    int64_t n, height, row, image, pixel;  /* sizes in bytes, but n and height */
    int is_uint8;
    const int64_t *index, *boxes;  /* boxes may be NULL */
    const float *weight;           /* NULL: keep the own pixels outside the boxes */
    const Step *steps;
    int64_t count;
} Job;

typedef struct {
    int64_t top, bottom, left, right;  /* rows, and bytes in a row */
} Box;

INLINE Box box_of(const Job *job, int64_t i) {
    if (!job->boxes) return (Box){0, 0, 0, 0};
    const int64_t *box = job->boxes + 4 * i;
    return (Box){box[0], box[1], box[2] * job->pixel, box[3] * job->pixel};
}

/* torch.lerp(start, end, weight) as its CPU kernel computes it: with c = weight when |weight| < 0.5
 * (near) and weight - 1 otherwise */
INLINE float lerp(float start, float end, float c, int near) { return fmaf(c, end - start, near ? start : end); }

INLINE void blend_f32(const float *restrict p, const float *restrict o, float *restrict r, int64_t n, float c,
                      int near) {
    for (int64_t k = 0; k < n; k++) r[k] = lerp(p[k], o[k], c, near);
}

INLINE void blend_f32_into(const float *restrict p, float *restrict o, int64_t n, float c, int near) {
    for (int64_t k = 0; k < n; k++) o[k] = lerp(p[k], o[k], c, near);
}

INLINE void blend_u8(const uint8_t *restrict p, const uint8_t *restrict o, uint8_t *restrict r, int64_t n, float c,
                     int near) {
    for (int64_t k = 0; k < n; k++) r[k] = (uint8_t)nearbyintf(lerp(p[k], o[k], c, near));
}

INLINE void blend_u8_into(const uint8_t *restrict p, uint8_t *restrict o, int64_t n, float c, int near) {
    for (int64_t k = 0; k < n; k++) o[k] = (uint8_t)nearbyintf(lerp(p[k], o[k], c, near));
}

/* Bytes [start, stop) outside the box: the own values, or the blend with the partner's. */
INLINE void outside(const Job *job, int64_t i, const char *partner, const char *own, char *out, int64_t start,
                    int64_t stop) {
    if (start >= stop) return;
    partner += start, own += start, out += start;
    if (!job->weight) {
        memcpy(out, own, stop - start);
        return;
    }
    const float weight = job->weight[i];
    const int near = fabsf(weight) < 0.5f;
    const float c = near ? weight : weight - 1.0f;
    if (job->is_uint8) {
        if (out == own) blend_u8_into((const uint8_t *)partner, (uint8_t *)out, stop - start, c, near);
        else blend_u8((const uint8_t *)partner, (const uint8_t *)own, (uint8_t *)out, stop - start, c, near);
    } else if (out == own) {
        blend_f32_into((const float *)partner, (float *)out, (stop - start) / 4, c, near);
    } else {
        blend_f32((const float *)partner, (const float *)own, (float *)out, (stop - start) / 4, c, near);
    }
}

/* Write rows [first, last) of a plane of image i to out, from its own pixels and its partner's:
 * own, partner and out point at row first. */
INLINE void mix_rows(const Job *job, int64_t i, const char *own, const char *partner, char *out, int64_t first,
                     int64_t last) {
    const Box box = box_of(job, i);
    const int64_t width = job->row;  /* in a local: the byte stores below could alias job */
    const int keep = !job->weight && out == own;  /* in place, the pixels outside the box stay */
    /* the box rows, from row first on */
    const int64_t top = (box.top > first ? box.top : first) - first, bottom = (box.bottom < last ? box.bottom : last) - first;
    const int64_t rows = last - first, above = top < rows ? top : rows, below = bottom > 0 ? bottom : 0;
    /* the rows above and below the box are one stretch each; the box rows are three pieces, or,
     * pasting out of place, one pass picking each byte from the image or the partner by the mask
     * of the box columns (the partner's row is read whole, as the next image's own, cached) */
    if (job->select && top < bottom) {
        uint8_t *restrict pick = job->select;
        memset(pick, 0, box.left), memset(pick + box.left, 0xff, box.right - box.left);
        memset(pick + box.right, 0, width - box.right);
        memcpy(out, own, top * width);
        for (int64_t h = top; h < bottom; h++) {
            const uint8_t *restrict o = (const uint8_t *)own + h * width, *restrict p = (const uint8_t *)partner + h * width;
            uint8_t *restrict r = (uint8_t *)out + h * width;
            for (int64_t k = 0; k < width; k++) r[k] = (uint8_t)((o[k] & ~pick[k]) | (p[k] & pick[k]));
        }
        memcpy(out + bottom * width, own + bottom * width, (rows - bottom) * width);
        return;
    }
    if (!keep) outside(job, i, partner, own, out, 0, above * width);
    for (int64_t h = top; h < bottom; h++) {
        const int64_t row = h * width;
        if (!keep) outside(job, i, partner + row, own + row, out + row, 0, box.left);
        memcpy(out + row + box.left, partner + row + box.left, box.right - box.left);
        if (!keep) outside(job, i, partner + row, own + row, out + row, box.right, width);
    }
    if (!keep) outside(job, i, partner, own, out, below * width, rows * width);
}

/* Copy to the scratch buffer, at the same offsets, the pixels of rows [first, last) of the plane at
 * offset at of image j that image reader reads. */
INLINE void save(const Job *job, int64_t j, int64_t reader, int64_t at, int64_t first, int64_t last) {
    const char *from = job->src + j * job->image;
    if (job->weight) {
        memcpy(job->scratch + at + first * job->row, from + at + first * job->row, (last - first) * job->row);
        return;
    }
    const Box box = box_of(job, reader);
    for (int64_t h = box.top > first ? box.top : first; h < box.bottom && h < last; h++) {
        const int64_t row = at + h * job->row + box.left;
        memcpy(job->scratch + row, from + row, box.right - box.left);
    }
}

/* Rows per chunk: the images are written a chunk of rows at a time along the order of the steps, so
 * that the partner's chunk read for one image is still in the L1/L2 cache as the next image's own. */
#define CHUNK_BYTES (64 << 10)
/* Streaming (top of the file): the bytes of a tile */
#define TILE_BYTES (1 << 10)

INLINE void mix_all(const Job *job) {
    const int64_t plane = job->height * job->row;  /* a channel, or the whole image when channels-last */
    const int64_t rows = job->row >= CHUNK_BYTES ? 1 : CHUNK_BYTES / job->row;
    const int64_t group = !job->tile ? rows : job->row >= TILE_BYTES ? 1 : TILE_BYTES / job->row;
    for (int64_t at = 0; at < job->image; at += plane)
        for (int64_t first = 0; first < job->height; first += rows) {
            const int64_t last = first + rows < job->height ? first + rows : job->height;
            for (int64_t k = 0; k < job->count; k++) {
                const Step step = job->steps[k];
                if (step.saves >= 0) save(job, step.image, step.saves, at, first, last);
                const char *own = job->src + step.image * job->image + at;
                const char *partner = (step.from_scratch ? job->scratch : job->src + job->index[step.image] * job->image) + at;
                char *out = job->dst + step.image * job->image + at;
                const char *next = k + 1 < job->count ? job->src + job->index[job->steps[k + 1].image] * job->image + at : NULL;
                for (int64_t g = first; g < last; g += group) {
                    const int64_t end = g + group < last ? g + group : last, at_row = g * job->row;
                    if (!job->tile) {
                        mix_rows(job, step.image, own + at_row, partner + at_row, out + at_row, g, end);
                        continue;
                    }
                    if (next)
                        for (int64_t b = 0; b < (end - g) * job->row; b += 64) __builtin_prefetch(next + at_row + b, 0, 2);
                    mix_rows(job, step.image, own + at_row, partner + at_row, job->tile, g, end);
                    stream(out + at_row, job->tile, (end - g) * job->row);
                }
            }
        }
    if (job->tile) stream_fence();
}

VARIANTS(mix_batch, Job, mix_all)

/* The steps in the order of the top of the file; their number, or -1 when out of memory. */
static int64_t schedule(const int64_t *index, int64_t n, int inplace, Step *steps) {
    char *done = calloc(n ? n : 1, 1);
    int64_t *readers = inplace ? calloc(n ? n : 1, sizeof *readers) : NULL;
    int64_t *ready = inplace ? malloc((n ? n : 1) * sizeof *ready) : NULL;
    int64_t count = 0;
    if (!done || (inplace && (!readers || !ready))) {
        count = -1;
    } else if (!inplace) {
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = i; !done[j]; j = index[j]) done[j] = 1, steps[count++] = (Step){j, -1, 0};
    } else {
        int64_t head = 0, tail = 0;
        for (int64_t i = 0; i < n; i++)
            if (index[i] != i) readers[index[i]]++;
        for (int64_t i = 0; i < n; i++)
            if (!readers[i]) ready[tail++] = i;
        while (head < tail) {  /* the images no unwritten image reads */
            const int64_t i = ready[head++];
            done[i] = 1;
            if (index[i] == i) continue;
            steps[count++] = (Step){i, -1, 0};
            if (!--readers[index[i]]) ready[tail++] = index[i];
        }
        for (int64_t i = 0; i < n; i++) {  /* the rest are cycles, of two images or more */
            if (done[i]) continue;
            int64_t last = i;
            while (index[last] != i) last = index[last];
            for (int64_t j = i; !done[j]; j = index[j]) done[j] = 1, steps[count++] = (Step){j, j == i ? last : -1, j == last};
        }
    }
    free(done), free(readers), free(ready);
    return count;
}

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

PyObject *native_mix(PyObject *self, PyObject *args) {
    unsigned long long src, dst, index, weight, boxes;
    long long n, channels, height, width, item, is_uint8, channels_last;
    if (!PyArg_ParseTuple(args, "KKLLLLLLLKKK", &src, &dst, &n, &channels, &height, &width, &item, &is_uint8,
                          &channels_last, &index, &weight, &boxes))
        return NULL;
    if (!check_arguments((const int64_t *)index, (const int64_t *)boxes, n, height, width)) return NULL;
    const int inplace = src == dst;
    Step *steps = malloc((n ? n : 1) * sizeof *steps);
    const int64_t count = steps ? schedule((const int64_t *)index, n, inplace, steps) : -1;
    int cycles = 0;
    for (int64_t k = 0; k < count; k++) cycles |= steps[k].from_scratch;
    /* channels-first, a row holds one channel; channels-last, the pixels of all channels interleaved */
    const int64_t pixel = item * (channels_last ? channels : 1), image = channels * height * width * item;
    char *scratch = cycles ? malloc(image) : NULL;
    uint8_t *select = !weight && boxes && !inplace ? malloc(width * pixel) : NULL;
    const int streams = STREAMING && !inplace && !channels_last && n * image >= STREAM_MIN_BYTES;
    char *tile = streams ? malloc(width * pixel > TILE_BYTES ? width * pixel : TILE_BYTES) : NULL;
    if (count < 0 || (cycles && !scratch) || (!weight && boxes && !inplace && !select) || (streams && !tile)) {
        free(steps), free(scratch), free(select), free(tile);
        return PyErr_NoMemory();
    }
    const Job job = {(const char *)src, (char *)dst, scratch, select, tile, n, height, width * pixel, image, pixel, (int)is_uint8,
                     (const int64_t *)index, (const int64_t *)boxes, (const float *)weight, steps, count};
    Py_BEGIN_ALLOW_THREADS
    mix_batch(&job);
    Py_END_ALLOW_THREADS
    free(steps), free(scratch), free(select), free(tile);
    Py_RETURN_NONE;
}
