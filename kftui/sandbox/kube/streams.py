"""Pod exec and port-forward over WebSocket, the way the API server and kubelet speak them.

Exec: subprotocols `v5.channel.k8s.io` (kubectl 1.30+: channel 255 closes a stream) and `v4.channel.k8s.io`
(the Python client). Each binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 the final
metav1.Status (Success, or Failure with reason NonZeroExitCode and an ExitCode cause), 4 terminal resize.
Port-forward: subprotocol `v4.channel.k8s.io` / `portforward.k8s.io` (the Python client's `portforward`): port i
owns data channel 2i and error channel 2i+1, each opened by a frame carrying the port as two little-endian
bytes; one WebSocket is one connection per port. Shapes follow kubelet's cri/streaming server and
apimachinery's wsstream; texts are the ones kubectl prints.
The "container" runs a tiny shell (echo, ls, cat, env, nvidia-smi...) and answers HTTP on the ports its image
would listen on (Jupyter 8888, the Istio gateway 8080, TensorBoard 6006, the KFP UI 3000), else refuses.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

from kftui.sandbox.kube import spdy

Obj = dict[str, Any]

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "channel.k8s.io")
FORWARD_PROTOCOLS = ("v4.channel.k8s.io", "portforward.k8s.io")
MAX_INPUT = 1 << 20
"""A bounded line editor: an endless stdin without newlines cannot grow the sandbox without limit."""


def _status(code: int, message: str, reason: str = "BadRequest") -> web.Response:
    """The metav1.Status a refused upgrade answers with (kubectl prints its message)."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    return web.json_response(body, status=code)


def _container(pod: Obj, wanted: str | None) -> tuple[Obj | None, str]:
    """The container to enter (kubectl's default is the annotation, else the first), and its name."""
    containers = list(pod.get("spec", {}).get("containers") or [])
    default = (pod.get("metadata", {}).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    name = wanted or default or (containers[0]["name"] if containers else "")
    return next((c for c in containers if c.get("name") == name), None), name


def _running(pod: Obj, container: str) -> bool:
    """Whether kubelet would find the container running."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return "running" in (status.get("state") or {})
    return False


def _refusal(pod: Obj | None, ns: str, name: str, container: str | None) -> tuple[web.Response | None, Obj, str]:
    """Why the API server would refuse to open a stream to this pod, if it would."""
    if pod is None:
        return _status(404, f'pods "{name}" not found', "NotFound"), {}, ""
    spec, cname = _container(pod, container)
    if spec is None:
        return _status(400, f"container {cname} is not valid for pod {name}"), {}, cname
    if not pod.get("spec", {}).get("nodeName"):
        return _status(400, f"pod {name} does not have a host assigned"), {}, cname
    if not _running(pod, cname):
        return _status(400, f'unable to upgrade connection: container not found ("{cname}")'), {}, cname
    return None, spec, cname


class Shell:
    """The pod's make-believe shell: a few commands a person tries first, with exit codes that matter."""

    def __init__(self, pod: Obj, container: Obj) -> None:
        """Know the pod the shell runs in, for hostname, env and GPUs."""
        self.pod = pod
        self.container = container
        self.cwd = "/home/jovyan" if self._labels().get("notebook-name") else "/"
        self.exited: int | None = None

    def _labels(self) -> Mapping[str, str]:
        """The pod's labels."""
        return self.pod.get("metadata", {}).get("labels") or {}

    def prompt(self) -> str:
        """What a bash prompt in the container looks like."""
        user = "jovyan" if self._labels().get("notebook-name") else "root"
        return f"{user}@{self.pod['metadata']['name']}:{self.cwd}{'$' if user != 'root' else '#'} "

    def gpus(self) -> int:
        """How many GPUs the container was given."""
        limits = (self.container.get("resources") or {}).get("limits") or {}
        try:
            return int(str(limits.get("nvidia.com/gpu", "0")))
        except ValueError:
            return 0

    def env(self) -> dict[str, str]:
        """The environment a process in the container sees."""
        meta = self.pod["metadata"]
        out = {"HOSTNAME": meta["name"], "HOME": "/home/jovyan" if self._labels().get("notebook-name") else "/root",
               "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "KUBERNETES_SERVICE_HOST": "10.12.0.1", "KUBERNETES_SERVICE_PORT": "443"}
        if self._labels().get("notebook-name"):
            out["NB_PREFIX"] = f"/notebook/{meta.get('namespace')}/{self._labels()['notebook-name']}"
        for item in self.container.get("env") or []:
            if "value" in item:
                out[str(item["name"])] = str(item["value"])
        return out

    def run_line(self, line: str) -> tuple[str, str, int]:
        """Run one command line (`;` and `&&` joined); returns stdout, stderr and the exit code."""
        out, err, code = [], [], 0
        for part, joiner in _split_commands(line):
            if joiner == "&&" and code != 0:
                continue
            o, e, code = self.run(part)
            out.append(o)
            err.append(e)
            if self.exited is not None:
                break
        return "".join(out), "".join(err), code

    def run(self, argv: list[str]) -> tuple[str, str, int]:
        """One command."""
        if not argv:
            return "", "", 0
        if argv[0] == "sh:":  # what the parser could not take, said the way sh says it
            return "", " ".join(argv) + "\n", 2
        cmd, args = argv[0].rsplit("/", 1)[-1], argv[1:]
        if cmd in ("sh", "bash") and args[:1] == ["-c"] and len(args) > 1:
            return self.run_line(args[1])
        if cmd == "exit":
            self.exited = int(args[0]) if args and args[0].isdigit() else 0
            return "", "", self.exited
        simple: dict[str, Callable[[], tuple[str, int]]] = {
            "echo": lambda: (" ".join(args) + "\n", 0),
            "true": lambda: ("", 0),
            "false": lambda: ("", 1),
            "pwd": lambda: (self.cwd + "\n", 0),
            "hostname": lambda: (self.pod["metadata"]["name"] + "\n", 0),
            "whoami": lambda: (("jovyan" if self._labels().get("notebook-name") else "root") + "\n", 0),
            "env": lambda: ("".join(f"{k}={v}\n" for k, v in sorted(self.env().items())), 0),
            "uname": lambda: ("Linux " + self.pod["metadata"]["name"] + " 6.6.93+ #1 SMP x86_64 GNU/Linux\n"
                              if "-a" in args else "Linux\n", 0),
            "ls": lambda: ("work\n" if self.cwd.startswith("/home") else "bin\netc\nhome\nproc\ntmp\nusr\nvar\n", 0),
        }
        if cmd in simple:
            text, code = simple[cmd]()
            return text, "", code
        if cmd == "cd":
            self.cwd = args[0] if args and args[0].startswith("/") else f"{self.cwd.rstrip('/')}/{args[0]}" \
                if args else self.env()["HOME"]
            return "", "", 0
        if cmd == "cat":
            files = {"/etc/hostname": self.pod["metadata"]["name"] + "\n",
                     "/etc/os-release": 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\nID=ubuntu\n'}
            missing = [a for a in args if a not in files]
            if missing:
                return "", f"cat: {missing[0]}: No such file or directory\n", 1
            return "".join(files[a] for a in args), "", 0
        if cmd == "nvidia-smi":
            if not self.gpus():
                return "", "bash: nvidia-smi: command not found\n", 127
            rows = "".join(f"|   {i}  Tesla T4                       On  | 00000000:00:0{4 + i}.0 Off |"
                           "                    0 |\n" for i in range(self.gpus()))
            return f"NVIDIA-SMI 550.90.07    Driver Version: 550.90.07    CUDA Version: 12.4\n{rows}", "", 0
        return "", f"bash: {cmd}: command not found\n", 127


def _execs_a_shell(command: list[str]) -> bool:
    """`sh -c "command -v bash >/dev/null && exec bash || exec sh"`, the k9s way of asking for the best shell."""
    return len(command) >= 3 and command[-2] == "-c" and ("exec bash" in command[-1] or "exec sh" in command[-1])


def _split_commands(line: str) -> list[tuple[list[str], str]]:
    """A command line cut at `;` and `&&` (quotes respected); each part with the joiner before it."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    parts: list[tuple[list[str], str]] = []
    current: list[str] = []
    joiner = ";"
    try:
        for token in lexer:
            if token in ("|", "||", "&"):
                return [(["sh:", f"{token!r}", "is", "not", "supported", "by", "the", "sandbox", "shell"], ";")]
            if token in (";", "&&"):
                parts.append((current, joiner))
                current, joiner = [], token
            else:
                current.append(token)
    except ValueError:  # an unclosed quote: what sh says
        return [(["sh:", "syntax", "error"], ";")]
    parts.append((current, joiner))
    return parts


async def serve_exec(request: web.Request, pod: Obj | None, ns: str, name: str) -> web.StreamResponse:
    """Open an exec stream to a running container (the API server's /exec subresource)."""
    query = parse_qs(request.query_string)
    refused, spec, _cname = _refusal(pod, ns, name, next(iter(query.get("container") or []), None))
    if refused is not None or pod is None:
        return refused or _status(404, f'pods "{name}" not found', "NotFound")
    command = query.get("command") or []
    tty = (query.get("tty") or ["false"])[0] in ("true", "1")
    stdin = (query.get("stdin") or ["false"])[0] in ("true", "1")
    ws = web.WebSocketResponse(protocols=EXEC_PROTOCOLS)
    if not ws.can_prepare(request).ok:
        return _status(400, "Upgrade request required")
    await ws.prepare(request)
    shell = Shell(pod, spec)
    eol = "\r\n" if tty else "\n"

    async def send(channel: int, text: str) -> None:
        if text:
            await ws.send_bytes(bytes([channel]) + text.replace("\n", eol).encode())

    interactive = stdin and (not command or command[-1].rsplit("/", 1)[-1] in ("sh", "bash")
                             or _execs_a_shell(command))
    code = 0
    if not interactive:
        out, err, code = shell.run(command)
        await send(STDOUT, out)
        await send(STDERR if not tty else STDOUT, err)
    else:
        code = await _interactive(ws, shell, send, tty)
    status: Obj = {"metadata": {}, "status": "Success"}
    if code:
        status = {"metadata": {}, "status": "Failure", "reason": "NonZeroExitCode",
                  "message": f"command terminated with non-zero exit code: error executing command {command}, "
                             f"exit code {code}",
                  "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}
    await ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
    await ws.close()
    return ws


async def _interactive(ws: web.WebSocketResponse, shell: Shell, send: Callable[[int, str], Awaitable[None]],
                       tty: bool) -> int:
    """A read-eval-print loop over stdin; a tty gets echo and line editing, as a real pty would give."""
    line = ""
    code = 0
    if tty:
        await send(STDOUT, shell.prompt())
    async for msg in ws:
        if msg.type != WSMsgType.BINARY or not msg.data:
            continue
        channel, data = msg.data[0], msg.data[1:]
        if channel == CLOSE or (channel == STDIN and not data):
            break
        if channel != STDIN:
            continue  # resize and anything else: nothing to draw
        for ch in data.decode(errors="replace"):
            if ch in "\r\n":
                if tty:
                    await send(STDOUT, "\n")
                out, err, code = shell.run_line(line)
                line = ""
                await send(STDOUT, out)
                await send(STDERR if not tty else STDOUT, err)
                if shell.exited is not None:
                    return shell.exited
                if tty:
                    await send(STDOUT, shell.prompt())
            elif ch == "\x04" and not line:
                return code
            elif ch == "\x03":
                line = ""
                await send(STDOUT, "^C\n" + shell.prompt() if tty else "")
            elif ch in "\x7f\b":
                if line:
                    line = line[:-1]
                    await send(STDOUT, "\b \b" if tty else "")
            elif ch.isprintable() and len(line) < MAX_INPUT:
                line += ch
                await send(STDOUT, ch if tty else "")
    if line.strip():
        out, err, code = shell.run_line(line)
        await send(STDOUT, out)
        await send(STDERR, err)
    return shell.exited if shell.exited is not None else code


def listening(pod: Obj, port: int) -> str | None:
    """What answers on this port of the pod: declared container ports, or what its image serves."""
    labels = pod.get("metadata", {}).get("labels") or {}
    images = " ".join(str(c.get("image", "")) for c in pod.get("spec", {}).get("containers") or [])
    if "notebook-name" in labels and port == 8888:
        return "jupyter"
    if labels.get("istio") == "ingressgateway" and port in (8080, 8443):
        return "dashboard"
    if ("tensorboard" in images or labels.get("app") == "tensorboard") and port == 6006:
        return "tensorboard"
    if labels.get("app") == "ml-pipeline-ui" and port == 3000:
        return "kfp-ui"
    for container in pod.get("spec", {}).get("containers") or []:
        for declared in container.get("ports") or []:
            if int(declared.get("containerPort", 0)) == port:
                return "declared"
    return None


def http_answer(pod: Obj, port: int, what: str, request_head: bytes) -> bytes:
    """The HTTP answer the pod's server gives: enough for a browser tab or a test to recognise it."""
    first = request_head.split(b"\r\n", 1)[0].decode(errors="replace")
    path = first.split(" ")[1] if first.count(" ") >= 2 else "/"
    meta = pod["metadata"]
    titles = {"jupyter": "JupyterLab", "dashboard": "Kubeflow Central Dashboard", "tensorboard": "TensorBoard",
              "kfp-ui": "Kubeflow Pipelines"}
    title = titles.get(what, f"{meta['name']}:{port}")
    body = (f"<!doctype html><title>{title}</title><p>sandbox pod {meta.get('namespace')}/{meta['name']} "
            f"port {port} path {path}</p>\n").encode()
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    return head + body


async def serve_portforward(request: web.Request, pod: Obj | None, ns: str, name: str) -> web.StreamResponse:
    """Forward one connection per requested port to the pod (the /portforward subresource)."""
    refused, _spec, _cname = _refusal(pod, ns, name, None)
    if refused is not None or pod is None:
        return refused or _status(404, f'pods "{name}" not found', "NotFound")
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if spdy.PROTOCOL in offered:
        return await _serve_spdy(request, pod, ns, name)
    query = parse_qs(request.query_string)
    ports: list[int] = []
    for value in query.get("ports") or []:
        for item in value.split(","):
            if not item.strip().isdigit() or not 0 < int(item) < 65536:
                return _status(400, f"invalid port {item!r}")
            ports.append(int(item))
    if not ports:
        return _status(400, "query parameter \"port\" is required")
    ws = web.WebSocketResponse(protocols=FORWARD_PROTOCOLS)
    if not ws.can_prepare(request).ok:
        return _status(400, "Upgrade request required")
    await ws.prepare(request)
    for i, port in enumerate(ports):
        tag = port.to_bytes(2, "little")
        await ws.send_bytes(bytes([2 * i]) + tag)
        await ws.send_bytes(bytes([2 * i + 1]) + tag)
    heads = dict.fromkeys(range(len(ports)), b"")
    for i, port in enumerate(ports):
        if (refusal := _refused_text(pod, ns, name, port)) is not None:
            await ws.send_bytes(bytes([2 * i + 1]) + refusal.encode())
    answered: set[int] = {i for i, p in enumerate(ports) if listening(pod, p) is None}
    try:
        async with asyncio.timeout(600):
            async for msg in ws:
                if msg.type != WSMsgType.BINARY or not msg.data or msg.data[0] % 2:
                    continue
                i = msg.data[0] // 2
                if i >= len(ports) or i in answered:
                    continue
                heads[i] = (heads[i] + msg.data[1:])[:MAX_INPUT]
                if b"\r\n\r\n" in heads[i]:
                    what = listening(pod, ports[i]) or "declared"
                    await ws.send_bytes(bytes([2 * i]) + http_answer(pod, ports[i], what, heads[i]))
                    answered.add(i)
                if len(answered) == len(ports):
                    break
    except TimeoutError:
        pass
    await ws.close()
    return ws


def _refused_text(pod: Obj, ns: str, name: str, port: int) -> str | None:
    """kubelet's (containerd's) words when nothing listens on the port, else None."""
    if listening(pod, port) is not None:
        return None
    sandbox = pod["metadata"].get("uid", "").replace("-", "")
    return (f"an error occurred forwarding {port} -> {port}: error forwarding port {port} to pod {sandbox}, uid : "
            f'failed to execute portforward in network namespace "/var/run/netns/cni-{sandbox[:8]}": failed to '
            f'connect to localhost:{port} inside namespace "{sandbox}", IPv4: dial tcp4 127.0.0.1:{port}: connect: '
            f"connection refused IPv6 dial tcp6 [::1]:{port}: connect: connection refused")


async def _serve_spdy(request: web.Request, pod: Obj, ns: str, name: str) -> web.StreamResponse:
    """kubectl's port-forward: SPDY/3.1 streams carried as bytes inside WebSocket binary messages."""
    ws = web.WebSocketResponse(protocols=(spdy.PROTOCOL,))
    await ws.prepare(request)

    def answer(port: int, received: bytes) -> bytes | None:
        if b"\r\n\r\n" not in received:
            return None
        return http_answer(pod, port, listening(pod, port) or "declared", received)

    session = spdy.Session(send=ws.send_bytes, answer=answer, refuse=lambda port: _refused_text(pod, ns, name, port))
    try:
        async with asyncio.timeout(3600):
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    await session.feed(msg.data)
                if session.closed:
                    break
    except TimeoutError:
        pass
    await ws.close()
    return ws


def stream_kind(path: str) -> tuple[str, str, str] | None:
    """(namespace, pod, "exec"|"portforward") for a pod stream subresource path, else None."""
    parts = path.strip("/").split("/")
    if len(parts) == 7 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods" \
            and parts[6] in ("exec", "portforward"):
        return parts[3], parts[5], parts[6]
    return None
