"""The read-model benchmark (``scripts/bench_readmodels.py``), one module per phase.

- ``world``: the simulated company's constants (owners, products, names, time units);
- ``simulation``, ``decisions``, ``deals``, ``history``: the seeded history generator
  (``History``: plumbing, what each command would decide, one opportunity's life,
  reference data, background processes and the run; ``GenerationMeta``);
- ``stores``: preparing the SQLite and PostgreSQL runs;
- ``measure``: raw reads, rebuild and as-of; ``lag``: the incremental lag under load;
- ``run``: one store end to end (phases, profiles);
- ``report``: the results table, the targets' verdict and the section of BENCHMARKS.md.
"""
