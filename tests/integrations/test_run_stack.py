"""manage.py run_stack (what `make run` starts): which mode its processes run in."""

import pytest
from django.core.management import CommandError, call_command

from integrations.management.commands import run_stack


class FinishedProcess:
    """Stands in for a child process that has already exited cleanly."""

    returncode = 0

    def __init__(self, args, env=None, preexec_fn=None):
        self.args, self.env, self.preexec_fn = args, env, preexec_fn

    def poll(self):
        return 0

    def wait(self, timeout=None):
        return 0


@pytest.fixture
def started(monkeypatch):
    processes = []

    def popen(args, **kwargs):
        processes.append(FinishedProcess(args, kwargs.get("env"), kwargs.get("preexec_fn")))
        return processes[-1]

    monkeypatch.setattr(run_stack.subprocess, "Popen", popen)
    return processes


def test_development_auto_sandbox_runs_the_stack_in_explicit_sandbox_mode(started, settings):
    # make run: DEBUG on, INTEGRATIONS_MODE auto, no Exact client id. The sandbox signs its
    # webhooks with the public secret, which only an explicit sandbox mode accepts.
    settings.DEBUG = True
    settings.INTEGRATIONS_MODE_REQUESTED, settings.INTEGRATIONS_MODE = "auto", "sandbox"
    call_command("run_stack")
    commands = [" ".join(p.args[1:]) for p in started]
    assert commands[0] == "manage.py run_sandbox"
    assert all(p.env and p.env["INTEGRATIONS_MODE"] == "sandbox" for p in started)


def test_live_stack_is_not_switched_to_the_sandbox(started, settings, monkeypatch):
    monkeypatch.delenv("INTEGRATIONS_MODE", raising=False)
    settings.INTEGRATIONS_MODE_REQUESTED, settings.INTEGRATIONS_MODE = "auto", "live"
    call_command("run_stack")
    assert not any("run_sandbox" in p.args for p in started)
    assert all("INTEGRATIONS_MODE" not in (p.env or {}) for p in started)


def test_run_sandbox_refuses_a_guessed_sandbox_mode(settings, monkeypatch):
    from integrations.sandbox import server

    def serve(*args, **kwargs):  # never serve from a test
        raise AssertionError("run_sandbox started serving")

    monkeypatch.setattr(server, "serve", serve)
    settings.INTEGRATIONS_MODE_REQUESTED, settings.INTEGRATIONS_MODE = "auto", "sandbox"
    with pytest.raises(CommandError, match="INTEGRATIONS_MODE=sandbox"):
        call_command("run_sandbox")


def test_the_qcluster_runs_below_the_web_servers_priority(started, settings, monkeypatch):
    # Exact's webhook is answered first; a job can wait a moment (settings.QCLUSTER_NICENESS).
    settings.QCLUSTER_NICENESS = 7
    settings.INTEGRATIONS_MODE_REQUESTED, settings.INTEGRATIONS_MODE = "auto", "live"
    call_command("run_stack")
    by_command = {p.args[2]: p for p in started}
    assert by_command["runserver"].preexec_fn is None
    niced = []
    monkeypatch.setattr(run_stack.os, "nice", niced.append)
    by_command["qcluster"].preexec_fn()  # what the child runs before exec
    assert niced == [7]
