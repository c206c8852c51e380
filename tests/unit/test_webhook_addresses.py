"""Where a webhook may send: public addresses only, whatever the spelling of the host
(SSRF refusal), unless private addresses are allowed."""

from __future__ import annotations

import pytest

from adapters.webhooks.addresses import Refused, Resolver, check, system_resolver


def resolving_to(*addresses: str) -> Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared (carrier-grade NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(Refused, match="not a public address"):
        check("https://hooks.example.com/x", allow_private=False, resolve=resolving_to(address))


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    resolve = resolving_to("93.184.216.34", "10.0.0.7")
    with pytest.raises(Refused):
        check("https://hooks.example.com/x", allow_private=False, resolve=resolve)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:8080/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one decimal number
        "http://0177.0.0.1/hook",  # 127.0.0.1 in octal
        "http://0x7f.1/hook",
    ],
)
def test_literal_and_local_hosts_are_refused_as_the_resolver_reads_them(url: str) -> None:
    with pytest.raises(Refused):
        check(url, allow_private=False, resolve=system_resolver)


def test_a_public_address_is_the_target_connected_to() -> None:
    target = check(
        "https://hooks.example.com:8443/in?x=1",
        allow_private=False,
        resolve=resolving_to("93.184.216.34"),
    )
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.216.34",
        "hooks.example.com",
        8443,
        "/in?x=1",
    )


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "https:///x"])
def test_only_http_and_https_urls_with_a_host(url: str) -> None:
    with pytest.raises(Refused):
        check(url, allow_private=True, resolve=resolving_to("93.184.216.34"))


def test_allowing_private_addresses_lifts_the_rule() -> None:
    target = check("http://127.0.0.1:9/x", allow_private=True, resolve=system_resolver)
    assert target.address == "127.0.0.1"


def test_a_host_that_does_not_resolve_is_refused() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(Refused, match="does not resolve"):
        check("https://nowhere.invalid/x", allow_private=False, resolve=nowhere)
