"""A stateful fake of the GCP REST list, get and delete endpoints a leftover sweep calls.

The simulated engine's GCP emulators write what they create into a JSON file next to the simulated
state (``store.py``); ``server.py`` serves that file over the real REST paths and JSON shapes, on
127.0.0.1, for as long as one command needs it.
"""
