"""gunicorn hooks of ``portal.gunicorn_conf`` that run in every worker."""
from __future__ import annotations

import gc
import logging

import pytest
from gunicorn.config import Config

from portal import gunicorn_conf


def test_a_worker_freezes_what_it_loaded_and_collects_less_often():
    before = gc.get_threshold()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == gunicorn_conf.GC_THRESHOLDS
        assert gc.get_threshold()[0] > before[0]
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)



@pytest.fixture
def gunicorn_loggers():
    """gunicorn's logger configures the ``gunicorn.*`` loggers of the process: put them back."""
    loggers = [logging.getLogger(name) for name in ("gunicorn.error", "gunicorn.access")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        for handler in lg.handlers[:]:
            if handler not in handlers:
                lg.removeHandler(handler)
                handler.close()
        lg.setLevel(level)
        lg.propagate = propagate


def test_gunicorn_writes_no_access_log_of_its_own(monkeypatch, gunicorn_loggers):
    """The portal logs each request itself; gunicorn's logger (set by this config) neither
    writes nor prepares an access line, even where gunicorn's access log would be on (a
    ``logconfig_dict``, as for JSON logs, turns it on just as an access log file does)."""
    cfg = Config()
    cfg.set("logger_class", gunicorn_conf.logger_class)
    cfg.set("accesslog", "-")
    assert cfg.logger_class is gunicorn_conf.PortalLogger
    logger = cfg.logger_class(cfg)

    def no_atoms(*_args):
        raise AssertionError("access-log fields gathered")

    monkeypatch.setattr(logger, "atoms", no_atoms)
    logger.access(None, None, {}, 0.01)
