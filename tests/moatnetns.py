# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""What the namespace tests share: running things inside network namespaces
they create, and stopping all of it on every way out.

    sys.path.insert(0, <tests/>); from moatnetns import ns, spawn, stop, ...

`processes` and `namespaces` are the module's lists: spawn() adds to the
first, the caller appends the namespaces it makes to the second and removes
them in its cleanup.
"""

import subprocess
import time

processes = []
namespaces = []


def log(message):
    print(f"# {message}", flush=True)


def run(*args, check=True, **kwargs):
    return subprocess.run(list(args), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kwargs)


def ns(name, *args, **kwargs):
    """Runs a command in namespace `name` and returns its CompletedProcess."""
    return run("ip", "netns", "exec", name, *args, **kwargs)


def spawn(name, args, log_path, env=None):
    """Starts a command in namespace `name`, its output in `log_path`."""
    out = open(log_path, "w")
    proc = subprocess.Popen(["ip", "netns", "exec", name] + args, stdout=out,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    processes.append(proc)
    return proc


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc in processes:
        processes.remove(proc)


def stop_all():
    """Every process spawned and every namespace listed, gone."""
    for proc in list(processes):
        stop(proc)
    for name in namespaces:
        run("ip", "netns", "del", name, check=False)


def wait_for(what, predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


def listening(name, port, proto="t"):
    """Whether something in namespace `name` listens on `port` (t: TCP, u: UDP)."""
    out = ns(name, "ss", f"-Hl{proto}n", check=False).stdout
    return any(len(line.split()) > 3 and line.split()[3].endswith(f":{port}")
               for line in out.splitlines())
