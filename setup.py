"""The build settings of the C extension (declared in pyproject.toml) that pyproject.toml cannot
state: compiler flags per compiler (the kernels' variants must compute the same bits, so no
contracted multiply-adds and no trapping math), and the abi3 wheel tag (the extension uses only
the limited C API of Python 3.10)."""

from setuptools import setup
from setuptools.command.build_ext import build_ext

FLAGS = {
    "msvc": ["/O2", "/fp:precise", "/std:c11"],
    "unix": ["-O3", "-ffp-contract=off", "-fno-trapping-math"],
}


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        flags = FLAGS.get(self.compiler.compiler_type, FLAGS["unix"])
        for extension in self.extensions:
            extension.extra_compile_args = [*extension.extra_compile_args, *flags]
        super().build_extensions()


setup(cmdclass={"build_ext": BuildExt}, options={"bdist_wheel": {"py_limited_api": "cp310"}})
