FROM python:3.11-slim
WORKDIR /board
# The monospace font faxes are drawn in (bbs/fax/render.py).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY bbs ./bbs
RUN pip install --no-cache-dir .
COPY menus ./menus
COPY data ./data
EXPOSE 2323
CMD ["bbs", "serve", "--host", "0.0.0.0"]
