# perfopt-engine as a container: `docker build -t perfopt-engine .`, then
#   docker run --rm --network host -v "$PWD:/work" perfopt-engine apply specs/
# Multi-stage: the builder compiles the native extension (Cython -> C -> .so) into a
# wheel with every dependency; the runtime stage installs only those wheels, so it has no
# compiler, no source tree and runs as a non-root user. Nothing from the build context
# but the package sources reaches the image (.dockerignore keeps reports, history,
# build output and any local .env out of the context altogether).

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY ext/ ext/
COPY schemas/ schemas/
COPY engine/ engine/
# The project's wheel (its build compiles ext/_native.pyx: cython is a build requirement)
# and wheels of every runtime dependency, with the metrics extra for --metrics-port.
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[metrics]"
# Fail the build, not a run, when the extension did not make it into the wheel.
RUN python -m zipfile -l /wheels/perfopt_engine-*.whl | grep -q "engine/hotpath/_native"

FROM python:${PYTHON_VERSION}-slim AS runtime
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin perfopt
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-cache-dir --no-index --find-links=/tmp/wheels "perfopt-engine[metrics]" \
 && rm -rf /tmp/wheels \
 && python -c "from engine.hotpath.native import IMPLEMENTATION; assert IMPLEMENTATION == 'c', IMPLEMENTATION"
USER perfopt
WORKDIR /work
# Reports and the history database are written under /work (mount the repository there,
# and keep .perfopt/history.db between runs to keep the regression baseline).
ENTRYPOINT ["perfopt-engine"]
CMD ["--help"]
