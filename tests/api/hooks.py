"""Schemathesis hooks for the HTTP API run of tests/it/api.rs (SCHEMATHESIS_HOOKS=hooks).

An Idempotency-Key is state: a key already used for one request is refused, with 422 as the IETF
draft says, for a different one. The fuzzer draws keys from a small space ("0", "00", ...), so
one key comes back with other bodies; each valid key it draws is made unique, as a real client's
keys are. Invalid keys stay as drawn, so that their refusal is still tested. Replays with the
same key are tested in tests/it/api.rs.
"""

import itertools
import re

import schemathesis

_COUNTER = itertools.count()
_VALID = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name, key in list(headers.items()):
        if name.lower() == "idempotency-key" and isinstance(key, str) and _VALID.fullmatch(key):
            suffix = f"-{next(_COUNTER)}"
            headers[name] = key[: 255 - len(suffix)] + suffix
