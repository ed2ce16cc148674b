"""A test Android device: a loopback endpoint that speaks the ADB transport protocol as adbd does.

No phone can be attached to a test machine and no adbd exists for Linux, so this endpoint plays the
device side for a real adb server, registered with `adb connect 127.0.0.1:PORT` (adb's own TCP
transport, as for a phone in wireless debugging). Everything above the transport (adbutils, the adb
server, the runner) is the real thing.

Protocol (system/core/adb/protocol.txt): 24-byte little-endian headers (command, arg0, arg1,
data_length, data_crc32, magic = command ^ 0xffffffff) and payloads. We answer CNXN with our banner
(`device::ro.product.name=…;ro.product.model=…;ro.product.device=…;features=…`, no AUTH), and serve
streams opened with OPEN:
- `shell:<cmd>`: runs `/bin/sh -c <cmd>` on this machine, stdout and stderr merged as adbd does without
  a pty, streamed with WRTE (waiting for OKAY between writes) and ended with CLSE; exit codes reach the
  host by adbutils' `; echo X4EXIT:$?` suffix (we do not advertise shell_v2). Closing the stream from
  the host does not kill the process (as on a phone): only its output pipe goes away.
- `sync:`: STAT, LIST, SEND (DATA…DONE → OKAY or FAIL), RECV (DATA…DONE or FAIL), QUIT.

The "device" lives in a scratch folder: `/data/local/tmp` in commands and sync paths maps to
`<scratch>/data/local/tmp`; `getprop` (the device's properties) and `df` are small scripts first on the
shell's PATH, everything else (`mkdir`, `rm`, `timeout`, `taskset`, `sha256sum`…) is this machine's.

Fault switches (attribute `fault`, exported to commands as `MAI_STANDIN_FAULT` for the stand-in
`benchmark_model` of `tests/devices/standin_benchmark_model.py`):
- `disconnect`: a command that runs `benchmark_model --graph…` starts, then the device drops off the
  bus (connection closed, port closed) until `replug()`;
- `nospace`: every SEND fails and `df` reports an almost full /data;
- `hang`, `partial`, `reject`, `crash`: handled by the stand-in benchmark_model.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

A_CNXN, A_OPEN, A_OKAY, A_CLSE, A_WRTE, A_AUTH = (
    0x4E584E43,
    0x4E45504F,
    0x59414B4F,
    0x45534C43,
    0x45545257,
    0x48545541,
)
A_VERSION = 0x01000001  # skip-checksum version
MAX_PAYLOAD = 256 * 1024
DEVICE_ROOT = "/data/local/tmp"

DEFAULT_PROPS = {
    "ro.product.name": "x2pro",
    "ro.product.model": "Find X2 Pro",
    "ro.product.device": "OP4A89",
    "ro.product.manufacturer": "OPPO",
    "ro.soc.manufacturer": "Qualcomm",
    "ro.soc.model": "SM8250",
    "ro.board.platform": "kona",
    "ro.build.version.release": "13",
    "ro.build.version.sdk": "33",
    "ro.build.fingerprint": "OPPO/CPH2025EEA/OP4A89:13/TP1A.220905.001/R.1234567:user/release-keys",
    "ro.product.cpu.abi": "arm64-v8a",
    "ro.serialno": "MAITEST0001",
}

GETPROP = r"""#!/bin/sh
# getprop of the test device: properties from a key=value file.
if [ -z "$1" ]; then
  sed -e 's/^\([^=]*\)=\(.*\)$/[\1]: [\2]/' "$MAI_DEVICE_PROPS"
else
  v=$(grep -m1 "^$1=" "$MAI_DEVICE_PROPS" | cut -d= -f2-)
  printf '%s\n' "$v"
fi
"""

DF = r"""#!/bin/sh
# df of the test device: toybox's format; an almost full /data when the `nospace` fault is on.
if [ "$MAI_STANDIN_FAULT" = "nospace" ]; then
  echo "Filesystem     1K-blocks     Used Available Use% Mounted on"
  echo "/dev/block/dm-8 116388748 116388636      112 100% /data"
else
  exec /bin/df "$@"
fi
"""


def _checksum(data: bytes) -> int:
    return sum(data) & 0xFFFFFFFF


def _packet(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    header = struct.pack("<6I", command, arg0, arg1, len(data), _checksum(data), command ^ 0xFFFFFFFF)
    return header + data


class _Stream:
    def __init__(self, device: AdbTestDevice, local_id: int, remote_id: int):
        self.device, self.local_id, self.remote_id = device, local_id, remote_id
        self.acked = threading.Semaphore(0)
        self.inbox = bytearray()
        self.inbox_cond = threading.Condition()
        self.closed = False

    # device → host, one WRTE at a time (the host answers each with OKAY)
    def write(self, data: bytes) -> bool:
        for i in range(0, len(data), self.device.max_payload):
            if self.closed:
                return False
            if not self.device.send(
                _packet(A_WRTE, self.local_id, self.remote_id, data[i : i + self.device.max_payload])
            ):
                return False
            while not self.acked.acquire(timeout=0.5):
                if self.closed or not self.device.connected:
                    return False
        return True

    def close(self):
        if not self.closed:
            self.closed = True
            self.device.send(_packet(A_CLSE, self.local_id, self.remote_id))
        with self.inbox_cond:
            self.inbox_cond.notify_all()

    # host → device bytes of a sync stream
    def feed(self, data: bytes):
        with self.inbox_cond:
            self.inbox.extend(data)
            self.inbox_cond.notify_all()

    def read_exact(self, n: int) -> bytes | None:
        with self.inbox_cond:
            while len(self.inbox) < n:
                if self.closed or not self.device.connected:
                    return None
                self.inbox_cond.wait(0.5)
            data = bytes(self.inbox[:n])
            del self.inbox[:n]
            return data


class AdbTestDevice:
    """One test device listening on 127.0.0.1:port (see the module docstring)."""

    def __init__(self, scratch: Path, port: int, props: dict | None = None):
        self.scratch = Path(scratch)
        self.port = port
        self.props = {**DEFAULT_PROPS, **(props or {})}
        self.fault = ""
        self.max_payload = 4096
        self.connected = False
        self.commands: list[str] = []  # every shell command, for tests to read
        self._sock: socket.socket | None = None
        self._listener: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._streams: dict[int, _Stream] = {}
        self._next_id = 1
        self._stop = threading.Event()
        self._unplugged = threading.Event()
        self._thread: threading.Thread | None = None
        self.data_dir = self.scratch / DEVICE_ROOT.lstrip("/")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.bin_dir = self.scratch / "system" / "bin"
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for name, text in (("getprop", GETPROP), ("df", DF)):
            (self.bin_dir / name).write_text(text)
            (self.bin_dir / name).chmod(0o755)
        self.props_file = self.scratch / "build.prop"
        self.props_file.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))

    @property
    def serial(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- lifecycle
    def start(self) -> AdbTestDevice:
        self._listen()
        self._thread = threading.Thread(target=self._serve, name=f"adb-test-device-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(4)
        self._listener = listener

    def stop(self):
        self._stop.set()
        self.unplug()

    def unplug(self):
        """The cable is pulled: the connection drops and the port closes until `replug()`."""
        self._unplugged.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
            self._listener = None
        self._drop_connection()

    def replug(self):
        self._listen()
        self._unplugged.clear()

    def _drop_connection(self):
        self.connected = False
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for stream in list(self._streams.values()):
            stream.closed = True
            with stream.inbox_cond:
                stream.inbox_cond.notify_all()
        self._streams.clear()

    def send(self, data: bytes) -> bool:
        sock = self._sock
        if sock is None:
            return False
        try:
            with self._send_lock:
                sock.sendall(data)
            return True
        except OSError:
            return False

    # --- transport
    def _serve(self):
        while not self._stop.is_set():
            listener = self._listener
            if listener is None or self._unplugged.is_set():
                time.sleep(0.05)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.2)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                continue
            self._drop_connection()
            self._sock = conn
            self._handle_connection(conn)

    def _recv_exact(self, conn: socket.socket, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = conn.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf.extend(chunk)
        return bytes(buf)

    def _handle_connection(self, conn: socket.socket):
        while not self._stop.is_set():
            header = self._recv_exact(conn, 24)
            if header is None:
                break
            command, arg0, arg1, length, _crc, magic = struct.unpack("<6I", header)
            if magic != command ^ 0xFFFFFFFF:
                break
            data = self._recv_exact(conn, length) if length else b""
            if data is None:
                break
            self._dispatch(command, arg0, arg1, data)
        if self._sock is conn:
            self._drop_connection()

    def _dispatch(self, command: int, arg0: int, arg1: int, data: bytes):
        if command == A_CNXN:
            self.max_payload = max(4096, min(arg1, MAX_PAYLOAD) - 64)
            banner = "device::" + "".join(
                f"{key}={self.props[key]};"
                for key in ("ro.product.name", "ro.product.model", "ro.product.device")
            )
            banner += "features=cmd,fixed_push_mkdir"
            self.connected = True
            self.send(_packet(A_CNXN, A_VERSION, MAX_PAYLOAD, banner.encode()))
        elif command == A_OPEN:
            local_id = self._next_id
            self._next_id += 1
            stream = _Stream(self, local_id, arg0)
            self._streams[local_id] = stream
            self.send(_packet(A_OKAY, local_id, arg0))
            service = data.rstrip(b"\0").decode("utf-8", "replace")
            threading.Thread(target=self._run_service, args=(stream, service), daemon=True).start()
        elif command == A_OKAY:
            stream = self._streams.get(arg1)
            if stream is not None:
                stream.acked.release()
        elif command == A_WRTE:
            stream = self._streams.get(arg1)
            if stream is not None:
                self.send(_packet(A_OKAY, arg1, arg0))
                stream.feed(data)
        elif command == A_CLSE:
            stream = self._streams.pop(arg1, None)
            if stream is not None:
                stream.closed = True
                with stream.inbox_cond:
                    stream.inbox_cond.notify_all()

    # --- services
    def _run_service(self, stream: _Stream, service: str):
        try:
            if service.startswith("shell:"):
                self._shell(stream, service[len("shell:") :])
            elif service == "sync:":
                self._sync(stream)
        finally:
            stream.close()
            self._streams.pop(stream.local_id, None)

    def map_path(self, text: str) -> str:
        return text.replace(DEVICE_ROOT, str(self.data_dir))

    def _shell_env(self) -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAI_")}
        env.update(
            PATH=f"{self.bin_dir}:{env.get('PATH', '/usr/bin:/bin')}",
            HOME=str(self.data_dir),
            MAI_DEVICE_PROPS=str(self.props_file),
            MAI_STANDIN_FAULT=self.fault,
            TMPDIR=str(self.data_dir),
        )
        return env

    def _shell(self, stream: _Stream, command: str):
        self.commands.append(command)
        proc = subprocess.Popen(
            ["/bin/sh", "-c", self.map_path(command)],
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=self._shell_env(),
            start_new_session=True,
        )
        if self.fault == "disconnect" and "benchmark_model" in command and "--graph" in command:
            threading.Timer(0.5, self.unplug).start()
        fd = proc.stdout.fileno()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            if not stream.write(chunk):
                break  # host went away: leave the process running, as a phone would
        proc.stdout.close()
        threading.Thread(target=proc.wait, daemon=True).start()

    def _sync(self, stream: _Stream):
        while True:
            header = stream.read_exact(8)
            if header is None:
                return
            cmd, length = header[:4], struct.unpack("<I", header[4:])[0]
            if cmd == b"QUIT":
                return
            arg = stream.read_exact(length) if cmd != b"DONE" else b""
            if arg is None:
                return
            if cmd == b"STAT":
                path = Path(self.map_path(arg.decode()))
                try:
                    st = path.stat()
                    stream.write(
                        b"STAT" + struct.pack("<3I", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime))
                    )
                except OSError:
                    stream.write(b"STAT" + struct.pack("<3I", 0, 0, 0))
            elif cmd == b"LIST":
                folder = Path(self.map_path(arg.decode()))
                entries = sorted(folder.iterdir()) if folder.is_dir() else []
                for entry in entries:
                    st = entry.lstat()
                    name = entry.name.encode()
                    stream.write(
                        b"DENT"
                        + struct.pack("<4I", st.st_mode, st.st_size & 0xFFFFFFFF, int(st.st_mtime), len(name))
                        + name
                    )
                stream.write(b"DONE" + struct.pack("<4I", 0, 0, 0, 0))
            elif cmd == b"SEND":
                self._sync_send(stream, arg.decode())
            elif cmd == b"RECV":
                path = Path(self.map_path(arg.decode()))
                try:
                    content = path.read_bytes()
                except OSError as exc:
                    message = f"open failed: {exc.strerror}".encode()
                    stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
                    continue
                for i in range(0, len(content), 65536):
                    piece = content[i : i + 65536]
                    stream.write(b"DATA" + struct.pack("<I", len(piece)) + piece)
                stream.write(b"DONE" + struct.pack("<I", 0))
            else:
                message = b"unknown sync command"
                stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
                return

    def _sync_send(self, stream: _Stream, spec: str):
        remote, _, mode = spec.rpartition(",")
        path = Path(self.map_path(remote))
        chunks = []
        while True:
            header = stream.read_exact(8)
            if header is None:
                return
            cmd, length = header[:4], struct.unpack("<I", header[4:])[0]
            if cmd == b"DATA":
                data = stream.read_exact(length)
                if data is None:
                    return
                chunks.append(data)
            elif cmd == b"DONE":
                break
            else:
                return
        if self.fault == "nospace":
            message = f"write failed: No space left on device: {remote}".encode()
            stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(chunks))
            path.chmod(int(mode) & 0o7777 if mode.isdigit() else 0o644)
        except OSError as exc:
            message = f"couldn't create file: {exc.strerror}".encode()
            stream.write(b"FAIL" + struct.pack("<I", len(message)) + message)
            return
        stream.write(b"OKAY" + struct.pack("<I", 0))
