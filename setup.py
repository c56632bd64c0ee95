"""The build settings of the C extensions (declared in pyproject.toml) that pyproject.toml cannot
state: compiler flags per compiler (the kernels' variants must compute the same bits, so no
contracted multiply-adds and no trapping math), the abi3 wheel tag (the extensions use only the
limited C API of Python 3.10), and the probe for libjpeg: ``augkit._jpeg`` is built only where a
test program that includes jpeglib.h and calls libjpeg-turbo's region API compiles and links."""

import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError, LinkError

FLAGS = {
    "msvc": ["/O2", "/fp:precise", "/std:c11"],
    "unix": ["-O3", "-ffp-contract=off", "-fno-trapping-math"],
}
JPEG_MODULE = "augkit._jpeg"
JPEG_PROBE = """#include <stdio.h>
#include <jpeglib.h>
int main(void) {
    struct jpeg_decompress_struct cinfo;
    JDIMENSION left = 0, width = 1;
    jpeg_crop_scanline(&cinfo, &left, &width);
    return (int)jpeg_skip_scanlines(&cinfo, 0);
}
"""


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        flags = FLAGS.get(self.compiler.compiler_type, FLAGS["unix"])
        if any(e.name == JPEG_MODULE for e in self.extensions) and not self._finds_libjpeg():
            print(f"note: jpeglib.h or libjpeg (libjpeg-turbo >= 1.5) not found: {JPEG_MODULE} is not built, "
                  "and augkit's fused decode reads JPEGs with OpenCV")
            self.extensions = [e for e in self.extensions if e.name != JPEG_MODULE]
        for extension in self.extensions:
            extension.extra_compile_args = [*extension.extra_compile_args, *flags]
        super().build_extensions()

    def _finds_libjpeg(self) -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp, "probe.c")
            source.write_text(JPEG_PROBE)
            try:
                objects = self.compiler.compile([str(source)], output_dir=tmp)
                self.compiler.link_executable(objects, "probe", output_dir=tmp, libraries=["jpeg"])
            except (CompileError, LinkError):
                return False
        return True


setup(cmdclass={"build_ext": BuildExt}, options={"bdist_wheel": {"py_limited_api": "cp310"}})
