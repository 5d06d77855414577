#!/usr/bin/python3
"""Known answers for ikesim's IPv6 packets, ESP and AH in IPv6, computed with Scapy's
independent implementations (scapy.layers.inet6 and scapy.layers.ipsec, Scapy 2.5,
Debian package python3-scapy).

Run: python3 ipsec/testdata/ipv6_vectors.py > ipsec/testdata/ipv6_vectors.txt
"""
from scapy.all import ICMP, IP, IPv6, raw
from scapy.layers.inet6 import HBHOptUnknown, ICMPv6EchoRequest, IPv6ExtHdrHopByHop, PadN
from scapy.layers.ipsec import AH, ESP, SecurityAssociation

SPI = 0xC0FFEE02
H1, H2 = "2001:db8:1::10", "2001:db8:2::20"
G1, G2 = "2001:db8:ff::1", "2001:db8:ff::2"
DATA = b"ikesim IPv6 known answer"


def ping6(hbh=False):
    ip = IPv6(src=H1, dst=H2, hlim=63, tc=0x10, fl=0x12345)
    if hbh:
        # An experimental option (RFC 4727) with the "may change" bit: AH zeroes its data.
        ip = ip / IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0x3E, optdata=b"\xaa\xbb"), PadN(optdata=b"")])
    return IPv6(raw(ip / ICMPv6EchoRequest(id=0x1D, seq=1, data=DATA)))


def ping4():
    return IP(raw(IP(src="10.1.0.5", dst="10.2.0.7", id=0x0101, ttl=63) / ICMP(type=8, id=0x1D, seq=1) / DATA))


def show(name, inner, outer, key, ekey=None):
    print(name)
    print(f"  key {key.hex()}")
    if ekey is not None:
        print(f"  ekey {ekey.hex()}")
    print(f"  inner {raw(inner).hex()}")
    print(f"  outer {raw(outer).hex()}")


print("echo6")
print(f"  packet {raw(ping6()).hex()}")

k1 = bytes(range(1, 21))
k2 = bytes(range(0x40, 0x60))
for name, alg, key, hbh in [("ah6-transport HMAC-SHA1-96", "HMAC-SHA1-96", k1, False),
                            ("ah6-transport-hbh HMAC-SHA2-256-128", "SHA2-256-128", k2, True)]:
    sa = SecurityAssociation(AH, spi=SPI, auth_algo=alg, auth_key=key)
    inner = ping6(hbh)
    out = IPv6(raw(sa.encrypt(inner, seq_num=1)))
    sa.decrypt(out.copy())
    show(name, inner, out, key)

tunnel6 = IPv6(src=G1, dst=G2, hlim=64, tc=0x10)
sa = SecurityAssociation(AH, spi=SPI, auth_algo="SHA2-256-128", auth_key=k2, tunnel_header=tunnel6)
inner = ping6()
out = IPv6(raw(sa.encrypt(inner, seq_num=1)))
sa.decrypt(out.copy())
show("ah6-tunnel HMAC-SHA2-256-128", inner, out, k2)

ek = bytes(range(0x10, 0x20))
iv = bytes(range(0xA0, 0xB0))
for name, inner, tc in [("esp6-tunnel AES-CBC-128 HMAC-SHA2-256-128", ping6(), 0x10),
                        ("esp4in6-tunnel AES-CBC-128 HMAC-SHA2-256-128", ping4(), 0)]:
    sa = SecurityAssociation(ESP, spi=SPI, crypt_algo="AES-CBC", crypt_key=ek, auth_algo="SHA2-256-128",
                             auth_key=k2, tunnel_header=IPv6(src=G1, dst=G2, hlim=64, tc=tc))
    out = IPv6(raw(sa.encrypt(inner, seq_num=1, iv=iv)))
    show(name, inner, out, k2, ek)
