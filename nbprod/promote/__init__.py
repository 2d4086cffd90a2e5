"""Promotion: stage pointers moved behind gates, roles and approvals, every step audited.

:mod:`.roles` reads who may promote, approve and force; :mod:`.gates` defines the gate
contract (entry-point group ``nbprod.gates``) and the built-in gates. The registry access they
need comes in through :class:`~.gates.GateContext`, implemented by the API.
"""
