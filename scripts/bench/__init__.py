"""The read-model benchmark (``scripts/bench_readmodels.py``), one module per phase, and
the command clients of the throughput benchmark (``scripts/bench_throughput.py``).

- ``world``: the simulated company's constants (owners, teams, who does what, products,
  names, time units);
- ``simulation``, ``decisions``, ``deals``, ``history``: the seeded history generator
  (``History``: plumbing, what each command would decide, one opportunity's life,
  reference data, background processes and the run; ``GenerationMeta``);
- ``stores``: preparing the SQLite and PostgreSQL runs;
- ``measure``: raw reads, rebuild and as-of (unscoped, a rep's, a manager's); ``lag``:
  the incremental lag under load;
- ``run``: one store end to end (phases, profiles);
- ``report``, ``notes``: the results table, the targets' verdict and the section of
  BENCHMARKS.md; the machine and the history;
- ``clients``: the throughput benchmark's clients (a rep's commands, with and without a
  token check per request) and the token check's read alone.
"""
