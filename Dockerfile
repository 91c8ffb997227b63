# Credit Lab, CPU-only. Build:  docker build -t creditlab .
# Run:    docker run -p 8000:8000 -v creditlab-data:/data creditlab
FROM python:3.11-slim-bookworm AS build
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU wheel first (PyPI's default Linux torch is the multi-GB CUDA build); `pip install .` then finds
# torch==2.13.0 already satisfied by 2.13.0+cpu.
RUN pip install torch==2.13.0 --index-url ${TORCH_INDEX_URL}
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY app ./app
COPY static ./static
COPY templates ./templates
COPY lessons ./lessons
RUN pip install .

FROM python:3.11-slim-bookworm
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 CREDITLAB_DATA_DIR=/data
RUN useradd --uid 10001 --create-home app && mkdir -p /data && chown app /data
USER app
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"
CMD ["creditlab", "serve", "--host", "0.0.0.0", "--port", "8000"]
