"""Shared test rigs: the test CSMS, PKI, file servers, processes, the controller on a
manual clock. Fakes of hardware seams live in `tests.fakes`."""
