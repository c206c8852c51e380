# The crmledger image compose.yaml runs: the API and every worker role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY commands commands
COPY projections projections
COPY processes processes
COPY readmodels readmodels
COPY adapters adapters
RUN pip install --no-cache-dir .
USER nobody
ENV CRMLEDGER_HTTP_HOST=0.0.0.0
EXPOSE 8000
ENTRYPOINT ["crmledger"]
CMD ["serve"]
