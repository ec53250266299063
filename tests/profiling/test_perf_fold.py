"""engine.target.perf's folding of ``perf script`` output (#21), on a real capture.

tests/fixtures/perf-script-nginx.txt is 12 samples of a local nginx worker under wrk,
taken with ``perf record -e cpu-clock -F 99 -g -p MASTER,WORKER`` and read back with
``perf script -F comm,tid,time,event,ip,sym,symoff,dso`` (perf.SCRIPT_FIELDS), as
engine.target.perf runs them.
"""

from __future__ import annotations

from pathlib import Path

from engine.analysis.profile import analyse_profile
from engine.result import FoldedProfile
from engine.target.perf import SCRIPT_FIELDS, fold_perf_script

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "perf-script-nginx.txt"
K = "[kernel.kallsyms]"
WRITEV_SYSCALL = (f"__GI___writev (libc.so.6);entry_SYSCALL_64_after_hwframe ({K});"
                  f"do_syscall_64 ({K});do_writev ({K});vfs_writev ({K});"
                  f"do_iter_readv_writev ({K});sock_write_iter ({K});tcp_sendmsg ({K});"
                  f"tcp_sendmsg_locked ({K});__tcp_push_pending_frames ({K});"
                  f"tcp_write_xmit ({K});__tcp_transmit_skb ({K})")


def _stacks() -> dict[str, int]:
    return fold_perf_script(FIXTURE.read_text(encoding="utf-8"))


def test_every_sample_is_one_stack_root_first_with_offsets_and_paths_stripped() -> None:
    stacks = _stacks()
    assert sum(stacks.values()) == FIXTURE.read_text().count(": cpu-clock:") == 12
    assert len(stacks) == 10  # three samples share a stack
    epoll = (f"epoll_wait (libc.so.6);entry_SYSCALL_64_after_hwframe ({K});do_syscall_64 ({K});"
             f"__x64_sys_epoll_wait ({K});do_epoll_wait ({K});ep_send_events ({K});"
             f"ep_item_poll.isra.0 ({K});sock_poll ({K})")
    assert stacks[epoll] == 1
    assert not any("+0x" in s or "/usr/" in s for s in stacks)


def test_unknown_frames_are_kept_but_a_run_of_them_counts_once() -> None:
    stacks = _stacks()
    assert stacks["[unknown];[unknown] (nginx)"] == 3  # the shared stack, 3 addresses
    assert stacks["[unknown];[unknown] (nginx);ngx_http_core_run_phases (nginx)"] == 1
    assert stacks["[unknown];ngx_http_output_filter (nginx)"] == 1  # 4 unknown frames -> 1
    writev = [s for s in stacks if s.startswith(f"[unknown];{WRITEV_SYSCALL};")]
    assert len(writev) == 3 and {s.rsplit(";", 1)[1] for s in writev} == {
        f"skb_clone ({K})", f"eth_type_trans ({K})", f"skb_defer_free_flush ({K})"}


def test_a_single_frame_stack_is_its_leaf() -> None:
    stacks = _stacks()
    assert stacks["ngx_http_write_filter (nginx)"] == 1
    assert stacks["ngx_reusable_connection (nginx)"] == 1


def test_the_analysis_reads_perf_frames_as_function_and_library() -> None:
    stacks = _stacks()
    analysis = analyse_profile([FoldedProfile("perf", 99, 2.0, stacks, (1,))])
    assert analysis is not None and analysis.tool == "perf" and analysis.samples == 12
    where = {f.function: f.where for f in analysis.top_total}
    assert where["__GI___writev"] == "libc.so.6" and where["do_syscall_64"] == K
    top_self = {f.function: f.where for f in analysis.top_self}
    assert top_self["[unknown]"] == "nginx"  # the shared stack's leaf: 3 of 12


def test_odd_lines_are_folded_or_skipped_not_fatal() -> None:
    text = ("app 7 1.0: cpu-clock:\n"
            "\t  4005d0 std::vector<int, std::allocator<int> >::push_back(int const&)+0x10 "
            "(/opt/app/bin/app)\n"
            "\t  400100 weird;name+0x1 (/opt/app/bin/app)\n"
            "\t  400000 main\n"
            "\n"
            "app 7 1.1: cpu-clock:\n"  # a sample without a callchain: nothing to fold
            "\n"
            "garbage that is not perf output\n"
            "app 7 1.2: cpu-clock:\n"
            "\t  400000 main+0x4 (/opt/app/bin/app)")  # no trailing blank line
    assert fold_perf_script(text) == {
        "main;weird:name (app);std::vector<int, std::allocator<int> >::push_back(int const&) "
        "(app)": 1,
        "main (app)": 1}
    assert fold_perf_script("") == {}


def test_the_fixture_was_taken_with_the_fields_the_engine_asks_for() -> None:
    assert SCRIPT_FIELDS == "comm,tid,time,event,ip,sym,symoff,dso"
    first = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
    assert first.split()[:2] == ["nginx", "3367"] and first.rstrip().endswith("cpu-clock:")


def test_a_binary_replaced_while_it_ran_folds_like_the_original() -> None:
    text = ("nginx 123 1.0: cpu-clock:\n"
            "\t    55d0 ngx_http_write_filter+0x10 (/usr/sbin/nginx (deleted))\n"
            "\t    55e0 main+0x20 (/usr/sbin/nginx (deleted))\n\n")
    assert fold_perf_script(text) == {"main (nginx);ngx_http_write_filter (nginx)": 1}
