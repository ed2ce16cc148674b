"""A real OpenSSH server (Debian's /usr/sbin/sshd) on a loopback port, for the ssh runner's tests.

Throw-away ed25519 host and user keys made by ssh-keygen, key-only login for the current user (root on
the test machines: `PermitRootLogin prohibit-password`), the authorized key pinned to a folder of
board-side helpers: a `df` that reports a full disk while the file `<root>/full` exists, so "no space
on the board" can be reproduced without filling a real disk. `stop()` cuts every live session, as a
board that loses power or network would; `start()` brings the board back on the same port and key.
"""

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SSHD_CONFIG = """\
Port {port}
ListenAddress 127.0.0.1
HostKey {root}/host_ed25519
PidFile {root}/sshd.pid
AuthorizedKeysFile {root}/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitUserEnvironment yes
Subsystem sftp internal-sftp
LogLevel ERROR
"""

FAKE_DF = """#!/bin/sh
if [ -e "{root}/full" ]; then
  echo "Filesystem     1024-blocks    Used Available Capacity Mounted on"
  echo "/dev/mmcblk0p2    29720000 29719900       100     100% /"
else
  exec /bin/df "$@"
fi
"""


class SshTestServer:
    def __init__(self, root: Path, port: int):
        self.root, self.port = Path(root), port
        self.user = getpass.getuser()
        self.proc: subprocess.Popen | None = None
        self.root.mkdir(parents=True, exist_ok=True)
        for name in ("host_ed25519", "user_ed25519"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(self.root / name)],
                check=True,
            )
        bin_dir = self.root / "board-bin"
        bin_dir.mkdir(exist_ok=True)
        (bin_dir / "df").write_text(FAKE_DF.format(root=self.root))
        (bin_dir / "df").chmod(0o755)
        user_key = (self.root / "user_ed25519.pub").read_text().strip()
        path = f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"
        (self.root / "authorized_keys").write_text(f'environment="PATH={path}" {user_key}\n')
        host_key = (self.root / "host_ed25519.pub").read_text().split()
        self.known_hosts = self.root / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
        (self.root / "sshd_config").write_text(SSHD_CONFIG.format(port=port, root=self.root))
        self.user_key = self.root / "user_ed25519"

    def start(self) -> "SshTestServer":
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation folder
        self.proc = subprocess.Popen(
            ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.root / "sshd_config")],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "sshd.log", "a"),  # noqa: SIM115 - stays open: handed to a child process (or the caller) for its lifetime
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.root / "sshd.log").read_text())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start")

    def stop(self) -> None:
        """Stops the listener and every session it forked (the board is gone)."""
        if self.proc is None:
            return
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        self.proc.kill()
        self.proc.wait(5)
        for pid in children.split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        self.proc = None

    def set_full(self, full: bool) -> None:
        flag = self.root / "full"
        if full:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)
