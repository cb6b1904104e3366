"""`pulumi up` entry point: the program lives in embed_kubernetes.py so tests can run it in-process."""

from embed_kubernetes import main

main()
