"""`slowfast-edu demo [--host 127.0.0.1] [--port 7860] [--checkpoint FILE] [--model NAME]`."""

from __future__ import annotations

import argparse
import sys

from ..models import PRESETS, CheckpointError


def add_demo_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the `demo` options to `parser` (and `func=run_demo`); returns `parser`."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 opens it to the network)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument("--checkpoint", default=None, metavar="FILE",
                        help="also offer this checkpoint from `slowfast-edu train` (first in "
                             "the menu)")
    parser.add_argument("--model", default=None, choices=list(PRESETS), metavar="NAME",
                        help="with --checkpoint: its architecture; alone: offer this preset, "
                             "with its Kinetics-400 weights when they are in the cache")
    parser.add_argument("--max-upload", default="100mb", metavar="SIZE",
                        help="largest upload accepted (default 100mb)")
    parser.set_defaults(func=run_demo)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    """Serve the app until interrupted (Ctrl+C or SIGTERM); 2 when the checkpoint or model
    cannot be loaded, or no port is free. Takes the next free port when `--port` is busy."""
    from .menu import available_models
    from .serve import free_port, private_temp_folder, stop_on_sigterm

    print("starting the demo (Gradio and the models load in a few seconds) ...", flush=True)
    try:
        port = free_port(args.host, args.port)
        models = available_models(args.checkpoint, args.model)
    except (CheckpointError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if port != args.port:
        print(f"port {args.port} is taken (another app?): using {port} (choose one with --port)")
    print("models: " + "; ".join(models))
    private_temp_folder()  # before gradio starts: its copies of the uploads go there too
    stop_on_sigterm()
    from .ui import build_demo, launch

    launch(args.host, port, demo=build_demo(models=models), max_file_size=args.max_upload)
    return 0
