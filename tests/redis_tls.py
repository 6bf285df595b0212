"""
Redis over TLS for the Redis layer's tests: certificates made here with the
``cryptography`` package (a CA, a server and a client certificate it signs,
a self-signed server certificate, and a CA that signed none of them), and a
``redis-server`` that listens with TLS only.
"""
from __future__ import absolute_import, unicode_literals

import datetime
import ipaddress
import os
import shutil
import tempfile
import time

from tests.redis_servers import RedisServer, free_port, require_redis_version, skip_or_fail

#: How long the test certificates are valid (they live as long as a test run).
_VALIDITY = datetime.timedelta(days=2)


class Certificates(object):
    """
    PEM files in a directory of their own: ``ca``, ``server`` and ``client``
    (each certificate with its ``*_key``) signed by ``ca``; ``self_signed``
    (with its key), a server certificate nobody signed; ``other_ca``, a CA
    that signed nothing here.
    """

    def __init__(self):
        try:
            from cryptography import x509  # noqa: F401 (only whether it imports)
        except ImportError as error:
            skip_or_fail("the TLS tests make certificates with cryptography (pip install cryptography): %s" % error)
        self.directory = tempfile.mkdtemp(prefix="asgiref-tls-")
        ca_key = _key()
        ca = _certificate("asgiref test CA", ca_key, None, ca_key, authority=True)
        self.ca = self._write("ca.pem", ca)
        self.server, self.server_key = self._pair("server", _server_names(), ca, ca_key)
        self.client, self.client_key = self._pair("client", None, ca, ca_key)
        self_signed_key = _key()
        self.self_signed = self._write(
            "self-signed.pem", _certificate("127.0.0.1", self_signed_key, None, self_signed_key,
                                            names=_server_names()))
        self.self_signed_key = self._write("self-signed-key.pem", self_signed_key)
        other_key = _key()
        self.other_ca = self._write("other-ca.pem", _certificate("another CA", other_key, None, other_key,
                                                                 authority=True))

    def _pair(self, name, names, ca, ca_key):
        key = _key()
        certificate = _certificate("asgiref test " + name, key, ca, ca_key, names=names)
        return self._write(name + ".pem", certificate), self._write(name + "-key.pem", key)

    def _write(self, name, item):
        from cryptography.hazmat.primitives import serialization
        if hasattr(item, "public_bytes"):
            data = item.public_bytes(serialization.Encoding.PEM)
        else:
            data = item.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption())
        path = os.path.join(self.directory, name)
        with open(path, "wb") as out:
            out.write(data)
        return path

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)


class TlsRedisServer(RedisServer):
    """
    A ``redis-server`` with TLS only (no plain port) on ``port``, showing
    ``certificate`` (the CA-signed server certificate by default) and
    trusting ``certificates.ca`` for clients; ``client_certificates``:
    whether it requires one of them (``--tls-auth-clients``).
    """

    def __init__(self, certificates, certificate=None, key=None, client_certificates=False, extra=()):
        port = free_port()
        # "--port 0" after RedisServer's own "--port" turns the plain port off.
        tls = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", certificate or certificates.server,
               "--tls-key-file", key or certificates.server_key, "--tls-ca-cert-file", certificates.ca,
               "--tls-auth-clients", "yes" if client_certificates else "no"]
        require_redis_version((6, 0), "TLS")
        try:
            super(TlsRedisServer, self).__init__(port=port, extra=tls + list(extra))
        except AssertionError as error:
            if "tls" in str(error).lower() and "exited at start" in str(error):
                skip_or_fail("redis-server is not built with TLS (make BUILD_TLS=yes): %s" % error)
            raise

    @property
    def url(self):
        return "rediss://127.0.0.1:%d/0" % self.port


def cli_arguments(certificates):
    """What ``redis-cli`` needs to reach a server of these ``certificates`` over TLS, trusting their CA."""
    return ["--tls", "--cacert", certificates.ca]


def _key():
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1(), default_backend())


def _server_names():
    from cryptography import x509
    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


def _certificate(common_name, key, issuer, issuer_key, names=None, authority=False):
    """A certificate for ``key`` named ``common_name``, signed by ``issuer`` (None: by itself)."""
    from cryptography import x509
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime(*time.gmtime()[:6])
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer.subject if issuer is not None else subject)
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + _VALIDITY)
               .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True))
    # The extensions that Python 3.13's strict verification looks for.
    builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    builder = builder.add_extension(x509.KeyUsage(
        digital_signature=not authority, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=not authority, key_cert_sign=authority, crl_sign=authority, encipher_only=False,
        decipher_only=False), critical=True)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256(), default_backend())
