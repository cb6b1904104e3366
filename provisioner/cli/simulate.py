"""`provisioner simulate serve`: a moto server that keeps simulated AWS stacks between commands."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from provisioner.cli._app import new_app
from provisioner.cli._errors import report_errors
from provisioner.cli._output import info

app = new_app(help="Persistent simulation: emulators that outlive one command.", no_args_is_help=True)

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def export_lines(url: str, region: str) -> list[str]:
    """The shell lines that point deploy-stack, provisioner and the aws CLI at the server."""
    values = {"AWS_ENDPOINT_URL": url, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region}
    return [f"export {key}={value}" for key, value in values.items()]


@app.command("serve")
@report_errors
def serve(
    *,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free one).")] = 5000,
    region: Annotated[str, typer.Option("--region", help="The AWS_DEFAULT_REGION printed for the shell.")] = "eu-west-1",
) -> None:
    """Serve moto on 127.0.0.1 as the recipes need it (AWS-managed policies loaded) until Ctrl-C.

    Like the in-process simulation it loads no default AMIs (no recipe looks one up); set
    MOTO_EC2_LOAD_DEFAULT_AMIS=true to have them.

    Prints the export lines to paste (or eval) on stdout; several stacks, and several homes, can share it.
    """
    import logging
    import signal
    import threading

    # moto reads this when its IAM backend starts: the recipes attach AWS-managed policies.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request

    from provisioner.engine.emulators.moto_lean import lean_moto

    with lean_moto():  # for the server's lifetime: shared botocore data, no default AMIs unless chosen
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        host, bound = server.get_host_and_port()
        for line in export_lines(f"http://{host}:{bound}", region):
            print(line, flush=True)
        info(f"moto is serving on http://{host}:{bound} with AWS-managed policies; Ctrl-C stops it (and forgets everything).")
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            server.stop()
