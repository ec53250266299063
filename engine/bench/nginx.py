"""The local nginx the peer benchmarks and the perf profiler's e2e test load (one worker,
``return 200 "ok"``, loopback only, everything under ``prefix``, tuned so the client is
what is measured: long keep-alive, a deep accept backlog)."""

from __future__ import annotations

__all__ = ["NGINX_CONF", "nginx_conf"]

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 "ok"; }}
    }}
}}
"""


def nginx_conf(prefix: str, port: int) -> str:
    """The configuration for an nginx rooted at ``prefix`` listening on 127.0.0.1:``port``."""
    return NGINX_CONF.format(prefix=prefix, port=port)
