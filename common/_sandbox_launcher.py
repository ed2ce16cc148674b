"""The first code a sandboxed child runs (see `common.sandbox`): it closes the doors, then calls the
requested function.

Started as `python -I _sandbox_launcher.py SPEC.json`; imports only the standard library until the
limits are in place. Order matters: address-space limit and no core dumps, die with the parent (and
leave at once if the parent is already gone), a network namespace of its own where the kernel allows
it, then the project on sys.path and the target `package.module:function(request) -> dict`. The
result, or the exception's type and text, is written as JSON; a death by signal writes nothing and the
parent turns the signal into a verdict.
"""

import ctypes
import importlib
import json
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _close_doors(spec: dict) -> None:
    limit = int(spec["address_space_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died between fork and prctl: then nobody would ever kill us.
    if os.getppid() != int(spec["parent_pid"]):
        os._exit(70)
    # A network namespace of its own (only a down loopback). Best effort: needs root or unprivileged
    # user namespaces, otherwise the child keeps the host's network.
    if spec.get("isolate_network", True) and libc.unshare(CLONE_NEWNET) != 0:
        libc.unshare(CLONE_NEWUSER | CLONE_NEWNET)


def _write(path: str, payload: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)


def main() -> int:
    with open(sys.argv[1]) as fh:
        spec = json.load(fh)
    _close_doors(spec)
    sys.path.insert(0, spec["project_root"])
    with open(spec["request_path"]) as fh:
        request = json.load(fh)
    try:
        module_name, function_name = spec["target"].split(":")
        function = getattr(importlib.import_module(module_name), function_name)
        payload = {"ok": True, "result": function(request)}
    except MemoryError:
        payload = {"ok": False, "error": "MemoryError", "detail": "out of memory"}
    except BaseException as exc:  # noqa: BLE001 - every failure of untrusted input is a verdict
        payload = {"ok": False, "error": type(exc).__name__, "detail": str(exc)[:2000]}
    _write(spec["result_path"], payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
