"""Entry points: each module here owns I/O for one stage and runs under `trajlake run` or `spark-submit`."""
