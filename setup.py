"""Build the one native extension, engine.hotpath._native, from the Cython sources in ext/.

Metadata lives in pyproject.toml; this file only holds what setuptools cannot
say declaratively: the extension build and copying schemas/ into the package so
an installed engine can find its JSON schemas.
"""

import shutil
from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).parent


class BuildPyWithSchemas(build_py):
    """Copy top-level schemas/*.json into engine/schemas in the build tree."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "engine" / "schemas"
        target.mkdir(parents=True, exist_ok=True)
        for schema in (ROOT / "schemas").glob("*.json"):
            shutil.copy2(schema, target / schema.name)


extensions = [
    Extension(
        "engine.hotpath._native",
        sources=["ext/_native.pyx"],
        extra_compile_args=["-O3"],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
    ),
    cmdclass={"build_py": BuildPyWithSchemas},
)
