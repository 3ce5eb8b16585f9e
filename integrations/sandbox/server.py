"""Serve a sandbox WSGI app on a local port from a daemon thread (tests and the demo).

`serve(app)` returns the server and its base URL; `server.shutdown()` stops it. When the app
raises `DropConnection` the connection is closed without an answer, which is how the Exact
sandbox's "timeout" fault looks to a client.
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from integrations.sandbox.exact import DropConnection


class _Handler(ServerHandler):
    def handle_error(self):
        import sys

        if isinstance(sys.exc_info()[1], DropConnection):
            self.close()  # no answer at all: the client sees the connection drop
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - quiet in tests
        pass

    def handle(self):
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _Handler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self
        handler.run(self.server.get_app())


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def serve(app, host: str = "127.0.0.1", port: int = 0):
    """Start `app` on host:port (0 = a free port); returns (server, base_url)."""
    server = _ThreadingServer((host, port), _RequestHandler)
    server.set_app(app)
    thread = threading.Thread(  # a short poll interval makes shutdown() quick in tests
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-server",
        daemon=True,
    )
    thread.start()
    server.serve_forever_thread = thread  # run_sandbox joins it
    return server, f"http://{host}:{server.server_address[1]}"


def combined_app(exact_app, monday_app):
    """One WSGI app for the demo: /exact/... → Exact sandbox, /monday/... → Monday sandbox."""
    routes = {"/exact": exact_app, "/monday": monday_app}

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        for prefix, target in routes.items():
            if path == prefix or path.startswith(prefix + "/"):
                environ = dict(environ)
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :]
                return target(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"Not Found"]

    return app
