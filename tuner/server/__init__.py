"""`tuner server`: the REST API (`/api/v1`) and the controller for submitted experiments.

`create_app(settings)` builds the FastAPI app; `tuner.cli.server` serves it with uvicorn. The app drives
every submitted experiment in a background thread (`tuner.server.drivers`) and resumes unfinished ones
when it starts again.
"""
