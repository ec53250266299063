"""apply against a managed nginx with profiling on (#21): a native target, so ``tool: auto``
picks perf; the top functions name nginx's, libc's and the kernel's code and the HTML
report's flame graph draws them in headless Chromium.

nginx and perf must be installed (.ci/run: Debian's nginx and linux-perf). Where the
platform refuses perf_event_open (a container's seccomp, kernel.perf_event_paranoid) the
test skips, naming that limit; anything else that keeps perf from sampling fails it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine.bench.nginx import nginx_conf
from tests.support.browser import run_chromium
from tests.support.demo import free_port
from tests.support.specs import applied_doc

pytestmark = pytest.mark.slow

# a fixed rate, not closed-model VUs at full speed: those drove the generator to 95% of a
# core (INVALID, exit 3) on a CI run where nginx under perf was the faster side
SPEC = """\
apiVersion: perfopt/v1
kind: PerformanceFlow
metadata: {{name: native, component: nginx}}
trigger: proactive
target:
  url: http://127.0.0.1:{port}
  start: {{command: [{nginx}, -c, {conf}, -p, {prefix}]}}
journeys:
  - {{name: hello, request: {{method: GET, path: /}}}}
slos:
  - {{name: errors, sli: error_rate, objective: "< 1%"}}
load:
  baseline: {{rate: 20000/s, duration: 3s, connections: 16}}
profiling: {{rate: 99}}
report: {{formats: [markdown, json, html], dir: reports}}
history: {{enabled: false}}
"""
NATIVE = re.compile(r"^(ngx_|epoll|__GI___writev|writev|sendfile|recv|__libc_recv)")
"""nginx's own functions and the calls its event loop spends its time in."""


def _apply(tmp: Path) -> dict[str, Any]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is needed for this test (Debian: apt-get install nginx)"
    assert shutil.which("perf"), "perf is needed for this test (Debian: apt-get install linux-perf)"
    port, prefix = free_port(), tmp / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(str(prefix), port), encoding="utf-8")
    (tmp / "spec.yaml").write_text(SPEC.format(port=port, nginx=nginx, conf=conf, prefix=prefix),
                                   encoding="utf-8")
    return applied_doc(tmp, "native")


def test_perf_names_nginx_code_in_the_top_functions_and_the_flame_graph(tmp_path: Path) -> None:
    doc = _apply(tmp_path)
    run = doc["specs"][0]["runs"][0]
    prof = run["cpu_profile"]
    denied = [n for n in prof["notes"] if n.startswith("perf not permitted")]
    if denied:
        pytest.skip(f"perf_event_open not permitted here: {denied[0]}")
    assert prof["tool"] == "perf" and prof["rate"] == 99 and prof["notes"] == [], prof["notes"]
    assert run["requests"] > 0 and prof["samples"] > 0
    top = prof["top_self"] + prof["top_total"]
    assert any(NATIVE.match(f["function"]) for f in top), top
    libraries = {f["where"] for f in top}
    assert libraries & {"nginx", "libc.so.6", "[kernel.kallsyms]"}, libraries
    frames = {f for stack, _ in prof["stacks"] for f in stack.split(";")}
    assert any(f.startswith("ngx_") and f.endswith(" (nginx)") for f in frames), frames
    md = (tmp_path / "reports" / "native-latest.md").read_text()
    assert "perf at 99/s" in md
    page = tmp_path / "reports" / "native-latest.html"
    dom = run_chromium(["--window-size=1400,3000", "--dump-dom", page.as_uri()],
                       tmp_path / "chromium")
    [svg] = re.findall(r'<svg [^>]*class="flame"[^>]*>.*?</svg>', dom, re.S)
    assert 'data-chart="flame-baseline"' in svg and "[kernel.kallsyms]" in svg
    assert "(perf)" in svg
