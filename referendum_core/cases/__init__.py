"""Case management: every piece of work in the portal is a case with a declared workflow.

``models`` holds the tables, ``workflows`` the case types as data (states, transitions, who may
make them, deadlines), ``services`` the verb-named writes (re-exported from ``lifecycle``,
``filing``, ``handling`` and ``saved_filters``), ``deadlines`` the escalation job, ``queries``
and ``metrics`` the work queues and service-level figures.
"""
