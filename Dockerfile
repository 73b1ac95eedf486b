# Hugging Face Docker Space (and any container host): CPU-only CV Lab on port 7860.
# A Docker Space is used because pip requirements cannot say --no-deps for one line
# (facenet-pytorch and mediapipe pin old numpy/torch; see requirements-nodeps.txt).
FROM python:3.11-slim

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
EXPOSE 7860
CMD ["python", "app.py", "--host", "0.0.0.0", "--port", "7860", "--device", "cpu"]
