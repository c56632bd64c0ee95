/* augkit._jpeg: decode one region of a JPEG at a DCT scale with libjpeg-turbo's own API.
 *
 * decode() entropy-decodes the file only down to the region's last row (it stops there), skips
 * the rows above it (jpeg_skip_scanlines: no inverse DCT, no colour conversion) and decodes only
 * the iMCU columns that hold it (jpeg_crop_scanline), at 1/scale_denom of the stored size, straight
 * to RGB or grey. Built only where setup.py finds jpeglib.h and libjpeg (augkit.data.fused falls
 * back to OpenCV's reduced decode of the whole file elsewhere). libjpeg's errors and warnings
 * (corrupt data) end the decode with a ValueError: nothing is printed, the process never exits.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} errors;

typedef struct {
    const unsigned char *data;
    unsigned long size;
    int denom, grey;
    long top, left, height, width; /* in: the box wanted; out: the region decoded, both in scaled pixels */
    unsigned char *pixels;         /* out: height x width x components bytes, malloc'ed */
    int components;
    errors err;
} job;

enum { DONE, FAILED, UNSUPPORTED, NO_MEMORY, OUTSIDE };

static void fail(j_common_ptr cinfo) {
    errors *err = (errors *)cinfo->err;
    (*err->base.format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void message(j_common_ptr cinfo, int level) {
    if (level < 0) fail(cinfo); /* a warning: corrupt data, left to the full decoder to report */
}

static void silent(j_common_ptr cinfo) { (void)cinfo; }

static long clip(long v, long lo, long hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Decode job->box, widened by one pixel of context on each side (clipped to the image) so that
 * no wanted pixel is interpolated against a missing neighbour at the region's edge when a
 * component is upsampled; jpeg_crop_scanline widens the columns further, to whole iMCUs. */
static int run(job *j) {
    struct jpeg_decompress_struct cinfo;
    cinfo.err = jpeg_std_error(&j->err.base);
    j->err.base.error_exit = fail;
    j->err.base.emit_message = message;
    j->err.base.output_message = silent;
    j->pixels = NULL;
    if (setjmp(j->err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(j->pixels);
        j->pixels = NULL;
        return FAILED;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (unsigned char *)j->data, j->size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space != JCS_YCbCr && cinfo.jpeg_color_space != JCS_GRAYSCALE &&
        cinfo.jpeg_color_space != JCS_RGB) {
        jpeg_destroy_decompress(&cinfo);
        return UNSUPPORTED;
    }
    cinfo.scale_num = 1;
    cinfo.scale_denom = (unsigned int)j->denom;
    cinfo.out_color_space = j->grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    long rows = (long)cinfo.output_height, cols = (long)cinfo.output_width;
    if (j->top >= rows || j->left >= cols) {
        jpeg_destroy_decompress(&cinfo);
        return OUTSIDE;
    }
    long top = clip(j->top - 1, 0, rows), bottom = clip(j->top + j->height + 1, 0, rows);
    long left = clip(j->left - 1, 0, cols), right = clip(j->left + j->width + 1, 0, cols);
    JDIMENSION xoffset = (JDIMENSION)left, width = (JDIMENSION)(right - left);
    if (width < (JDIMENSION)cols) jpeg_crop_scanline(&cinfo, &xoffset, &width);
    j->components = cinfo.output_components;
    size_t stride = (size_t)width * (size_t)j->components;
    j->pixels = malloc(stride * (size_t)(bottom - top));
    if (j->pixels == NULL) {
        jpeg_destroy_decompress(&cinfo);
        return NO_MEMORY;
    }
    if (top > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)top);
    while ((long)cinfo.output_scanline < bottom) {
        JSAMPROW row = j->pixels + stride * (size_t)((long)cinfo.output_scanline - top);
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_abort_decompress(&cinfo); /* the rows below the region are never read */
    jpeg_destroy_decompress(&cinfo);
    j->top = top;
    j->left = (long)xoffset;
    j->height = bottom - top;
    j->width = (long)width;
    return DONE;
}

static PyObject *decode(PyObject *self, PyObject *args) {
    const char *data;
    Py_ssize_t size;
    job j;
    if (!PyArg_ParseTuple(args, "y#illllp", &data, &size, &j.denom, &j.top, &j.left, &j.height, &j.width, &j.grey))
        return NULL;
    if (j.denom != 1 && j.denom != 2 && j.denom != 4 && j.denom != 8)
        return PyErr_Format(PyExc_ValueError, "scale_denom must be 1, 2, 4 or 8, got %d", j.denom);
    if (j.top < 0 || j.left < 0)
        return PyErr_Format(PyExc_ValueError, "top and left must be >= 0, got %ld and %ld", j.top, j.left);
    if (j.height < 1 || j.width < 1)
        return PyErr_Format(PyExc_ValueError, "height and width must be >= 1, got %ld and %ld", j.height, j.width);
    j.data = (const unsigned char *)data;
    j.size = (unsigned long)size;
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = run(&j);
    Py_END_ALLOW_THREADS
    switch (status) {
        case FAILED: return PyErr_Format(PyExc_ValueError, "libjpeg: %s", j.err.message);
        case UNSUPPORTED: return PyErr_Format(PyExc_ValueError, "libjpeg: not a YCbCr, RGB or grey JPEG");
        case NO_MEMORY: return PyErr_NoMemory();
        case OUTSIDE: return PyErr_Format(PyExc_ValueError, "the box at top %ld, left %ld is outside the image", j.top, j.left);
        default: break;
    }
    PyObject *pixels = PyByteArray_FromStringAndSize((const char *)j.pixels, (Py_ssize_t)(j.height * j.width * j.components));
    free(j.pixels);
    if (pixels == NULL) return NULL;
    return Py_BuildValue("(Nllll)", pixels, j.top, j.left, j.height, j.width);
}

static PyMethodDef methods[] = {
    {"decode", decode, METH_VARARGS,
     "decode(data, scale_denom, top, left, height, width, grey) -> (pixels, top, left, height, width): the "
     "region of the JPEG data decoded at 1/scale_denom of its stored size (1, 2, 4 or 8) that holds the box "
     "(top, left, height, width in scaled pixels of the stored, unrotated image), as RGB or grey (grey true) "
     "uint8 bytes (a bytearray), row-major, with the region's own box; ValueError for corrupt data (libjpeg errors and "
     "warnings) and for files that are not YCbCr, RGB or grey."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jpeg", "Region decodes of JPEGs with libjpeg-turbo.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__jpeg(void) { return PyModule_Create(&module); }
