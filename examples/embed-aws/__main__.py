"""`pulumi up` entry point: the program lives in embed_aws.py so tests can run it in-process."""

from embed_aws import main

main()
