"""One cron run: which sources are due, fetch, analyse, store, and the run's lock."""
