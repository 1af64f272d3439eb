"""Operations: readiness checks, Prometheus metrics and per-request ids and logs."""
