#!/usr/bin/env python3
"""Drive the Duo simulator with Duo's own Python client (duo_client).

The client signs for the configured API hostname (DUO_SIM_HOST) exactly as it would
for Duo; only the TCP connection is redirected to the simulator (DUO_SIM_URL), so a
signature that verifies here verifies against the same canonical string Duo uses.

Environment:
  DUO_SIM_URL            http://127.0.0.1:PORT
  DUO_SIM_HOST           API hostname the simulator verifies against
  DUO_ADMIN_RO_IKEY/SKEY read-only Admin API integration
  DUO_ADMIN_RW_IKEY/SKEY read/write Admin API integration
  DUO_AUTH_IKEY/SKEY     Auth API integration
  DUO_DISABLE_USER       username to disable through the Admin API
  DUO_PUSH_USER          username that approves an Auth API push

Prints one "PASS <check>" or "FAIL <check>: <why>" line per check; exits 1 on any failure.
"""

import hashlib
import http.client
import os
import sys
import time
import urllib.parse

import duo_client

FAILURES = []


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"fidelity.py: environment variable {name} is required (see the module docstring)")
    return value


SIM = urllib.parse.urlsplit(env("DUO_SIM_URL"))
HOST = env("DUO_SIM_HOST")


def _connect_to_simulator(self):
    # Same request, same signed host; only the socket goes to the local simulator.
    conn = http.client.HTTPConnection(SIM.hostname, SIM.port, timeout=30)
    return conn


class Admin(duo_client.Admin):
    _connect = _connect_to_simulator


class Auth(duo_client.Auth):
    _connect = _connect_to_simulator


class TamperedAdmin(Admin):
    """Changes one byte of the query string after the request was signed."""

    def _make_request(self, method, uri, body, headers):
        assert "limit=1" in uri, uri
        return super()._make_request(method, uri.replace("limit=1", "limit=2", 1), body, headers)


def check(name, fn):
    try:
        detail = fn()
    except Exception as exc:  # report every failure, keep going
        FAILURES.append(name)
        print(f"FAIL {name}: {type(exc).__name__}: {exc}")
        return None
    print(f"PASS {name}" + (f": {detail}" if detail else ""))
    return detail


def expect_error(fn, status, code):
    try:
        fn()
    except RuntimeError as exc:
        data = getattr(exc, "data", b"")
        data = data.decode() if isinstance(data, bytes) else str(data)
        if getattr(exc, "status", None) != status or str(code) not in data:
            raise AssertionError(f"expected {status}/{code}, got {getattr(exc, 'status', None)} {data}")
        return f"{status} {code}"
    raise AssertionError(f"expected {status}/{code}, the request succeeded")


def admin(kind, **kw):
    return Admin(env(f"DUO_ADMIN_{kind}_IKEY"), env(f"DUO_ADMIN_{kind}_SKEY"), HOST, ca_certs="HTTP", **kw)


def list_users():
    users = list(admin("RO").get_users())
    ids = {u["user_id"] for u in users}
    assert len(ids) == len(users), "duplicate users across pages"
    assert all(u["status"] in ("active", "bypass", "disabled", "locked out") for u in users)
    return f"{len(users)} users"


# A fixed window so that every signature version must return the very same events.
NOW_MS = int(time.time() * 1000)
WINDOW = (NOW_MS - 7 * 86400 * 1000, NOW_MS - 2 * 60 * 1000)


def page_auth_logs(client, offset_as_list):
    seen, offset, pages, total = [], None, 0, None
    while True:
        kw = dict(api_version=2, mintime=WINDOW[0], maxtime=WINDOW[1], limit="1000", sort="ts:asc")
        if offset is not None:
            kw["next_offset"] = offset if offset_as_list else ",".join(offset)
        resp = client.get_authentication_log(**kw)
        pages += 1
        total = resp["metadata"]["total_objects"]
        seen.extend((e["timestamp"], e["txid"]) for e in resp["authlogs"])
        offset = resp["metadata"]["next_offset"]
        if not offset:
            break
    txids = [t for _, t in seen]
    assert len(txids) == len(set(txids)), "duplicate txids across pages"
    assert len(txids) == total, f"got {len(txids)} events, metadata.total_objects says {total}"
    assert [s for s, _ in seen] == sorted(s for s, _ in seen), "events not in ascending order"
    return frozenset(txids), pages


RESULTS = {}


def auth_logs(label, sig_version, digestmod, offset_as_list):
    def run():
        client = admin("RO", sig_version=sig_version, digestmod=digestmod)
        txids, pages = page_auth_logs(client, offset_as_list)
        RESULTS[label] = txids
        return f"{len(txids)} events in {pages} pages"
    return run


def same_events():
    sets = set(RESULTS.values())
    assert len(RESULTS) == 3 and len(sets) == 1, f"signature versions disagree: { {k: len(v) for k, v in RESULTS.items()} }"
    return f"{len(next(iter(sets)))} identical events for v2/sha512, v2/sha1, v5"


def disable_user():
    name = env("DUO_DISABLE_USER")
    rw = admin("RW")
    user = rw.get_users_by_name(name)[0]
    updated = rw.update_user(user["user_id"], status="disabled")
    assert updated["status"] == "disabled", updated["status"]
    again = admin("RO").get_user_by_id(user["user_id"])
    assert again["status"] == "disabled", again["status"]
    return f"{name} disabled"


def read_only_cannot_write():
    ro = admin("RO")
    user = ro.get_users(limit=1)[0]
    return expect_error(lambda: ro.update_user(user["user_id"], status="disabled"), 403, 40301)


def tampered_request():
    client = TamperedAdmin(env("DUO_ADMIN_RO_IKEY"), env("DUO_ADMIN_RO_SKEY"), HOST, ca_certs="HTTP", sig_version=2)
    return expect_error(lambda: client.get_users(limit=1), 401, 40103)


def wrong_secret():
    client = Admin(env("DUO_ADMIN_RO_IKEY"), "x" * 40, HOST, ca_certs="HTTP")
    return expect_error(lambda: client.get_users(limit=1), 401, 40103)


def wrong_host():
    # Signed for another hostname: the simulator verifies against its own.
    client = Admin(env("DUO_ADMIN_RO_IKEY"), env("DUO_ADMIN_RO_SKEY"), "api-00000000.duosecurity.com", ca_certs="HTTP")
    return expect_error(lambda: client.get_users(limit=1), 401, 40103)


def unknown_ikey():
    client = Admin("DIXXXXXXXXXXXXXXXXXX", env("DUO_ADMIN_RO_SKEY"), HOST, ca_certs="HTTP")
    return expect_error(lambda: client.get_users(limit=1), 401, 40102)


def auth_client():
    return Auth(env("DUO_AUTH_IKEY"), env("DUO_AUTH_SKEY"), HOST, ca_certs="HTTP")


def auth_ping_check():
    client = auth_client()
    ping = client.ping()
    check_ = client.check()
    assert abs(ping["time"] - time.time()) < 600 and abs(check_["time"] - time.time()) < 600
    return "ping and check answered"


def auth_push():
    client = auth_client()
    name = env("DUO_PUSH_USER")
    pre = client.preauth(username=name)
    assert pre["result"] == "auth", pre
    device = next(d for d in pre["devices"] if "push" in d["capabilities"])
    txn = client.auth(factor="push", username=name, device=device["device"], async_txn=True)
    for _ in range(20):
        status = client.auth_status(txn["txid"])
        if not status["waiting"]:
            break
        time.sleep(0.2)
    assert status["success"] and status["status"] == "allow", status
    return f"push to {name} approved ({status['status_msg']})"


def admin_key_on_auth_api():
    client = Auth(env("DUO_ADMIN_RO_IKEY"), env("DUO_ADMIN_RO_SKEY"), HOST, ca_certs="HTTP")
    return expect_error(client.check, 403, 40301)


def main():
    check("list users (v5, paged)", list_users)
    check("auth logs v2/hmac-sha512", auth_logs("v2-sha512", 2, hashlib.sha512, offset_as_list=False))
    check("auth logs v2/hmac-sha1", auth_logs("v2-sha1", 2, hashlib.sha1, offset_as_list=True))
    check("auth logs v5", auth_logs("v5", 5, hashlib.sha512, offset_as_list=True))
    check("signature versions agree", same_events)
    check("disable user (v5 JSON POST)", disable_user)
    check("read-only key cannot write", read_only_cannot_write)
    check("one byte changed after signing is rejected", tampered_request)
    check("wrong secret key is rejected", wrong_secret)
    check("signature for another host is rejected", wrong_host)
    check("unknown integration key is rejected", unknown_ikey)
    check("auth api ping + check", auth_ping_check)
    check("auth api preauth + async push", auth_push)
    check("admin key refused on auth api", admin_key_on_auth_api)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed: {', '.join(FAILURES)}")
        sys.exit(1)
    print("fidelity: all checks passed")


if __name__ == "__main__":
    main()
