FROM python:3.11-slim
WORKDIR /board
COPY pyproject.toml README.md ./
COPY bbs ./bbs
RUN pip install --no-cache-dir .
COPY menus ./menus
COPY data ./data
EXPOSE 2323
CMD ["bbs", "serve", "--host", "0.0.0.0"]
