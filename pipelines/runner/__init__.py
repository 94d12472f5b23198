"""The local runner: runs a compiled pipeline on this machine, tasks in parallel, with artifacts,
caching, conditions, exit handlers, retries and timeouts. Public names are loaded lazily so that the
task process (`executor`) never pays for importing the runner.
"""
