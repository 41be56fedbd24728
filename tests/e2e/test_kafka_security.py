"""TLS and SASL/SCRAM against a real broker: a 1-broker Apache Kafka (scripts/kafka-cluster) with a
SASL_SSL listener whose certificate is signed by a CA this test makes with openssl. tapsift
produces over it with its config file's secret (mode 0600, as the permission check demands), and
an independent consumer reads the events back over the same listener. A wrong password, and a CA
that did not sign the broker's certificate, are each a clear error naming the cause, with every
undelivered event counted.

The broker is Kafka 3.9.1, not the 4.1 of the other tests: Debian 12's librdkafka 2.0.2 cannot log
in with SCRAM to a 4.x broker (it repeats the client nonce in its final message, which 4.x now
refuses; fixed in librdkafka 2.6.1, confluentinc/librdkafka#4895). The Java client logs in to 4.1
with the same user and password."""
import os
import shutil
import subprocess

from e2e_support import BIN, SRC, WORK, Check, consume_all, replay, write_config
from kafka_cluster import KafkaCluster

USER, PASSWORD = "tapsift-gw", "s3cret-Passw0rd"
CAPTURE = os.path.join(SRC, "data/captures/demo-syslog.pcap")
check = Check()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    """A self-signed CA: d/<name>.key, d/<name>.pem."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=tapsift test {name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=d)


def make_tls_dir():
    """ca.pem (trusted), other-ca.pem (not the signer), and broker.pem: the broker's PKCS#8 key,
    its certificate for 127.0.0.1 signed by ca, and ca (Kafka's PEM keystore)."""
    d = os.path.join(WORK, "kafka-security-tls")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    make_ca(d, "ca")
    make_ca(d, "other-ca")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "broker.key", cwd=d)
    openssl("req", "-new", "-key", "broker.key", "-subj", "/CN=127.0.0.1", "-out", "broker.csr", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.ext", "-out", "broker.crt", cwd=d)
    with open(os.path.join(d, "broker.pem"), "w") as out:
        for part in ("broker.key", "broker.crt", "ca.pem"):
            with open(os.path.join(d, part)) as f:
                out.write(f.read())
    return d


def secure_config(name, bootstrap, ca, password):
    path = write_config(name, f"""kafka:
  brokers: "{bootstrap}"
  flush_timeout_ms: 8000
  properties:
    security.protocol: SASL_SSL
    sasl.mechanisms: SCRAM-SHA-256
    sasl.username: {USER}
    sasl.password: "{password}"
    ssl.ca.location: {ca}
    message.timeout.ms: "6000"
""")
    os.chmod(path, 0o600)
    return path


tls = make_tls_dir()
with KafkaCluster("security", brokers=1, version="3.9.1",
                  extra_args=["--scram", f"{USER}:{PASSWORD}", "--tls-keystore", os.path.join(tls, "broker.pem")]) as kc:
    ca = os.path.join(tls, "ca.pem")

    # The right CA and password: every event arrives, read back over SASL_SSL by another client.
    cfg = secure_config("security-ok", kc.bootstrap, ca, PASSWORD)
    rc, c, out = replay(CAPTURE, kc.bootstrap, "security-ok", ["--config", cfg])
    check.eq("SASL_SSL: exit code", rc, 0)
    check.true("SASL_SSL: events produced", c["produced"] > 0)
    check.eq("SASL_SSL: all delivered", c["delivered"], c["produced"])
    events = consume_all(kc.bootstrap, "tapsift.syslog", c["produced"], timeout_s=60, client_config={
        "security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256", "sasl.username": USER,
        "sasl.password": PASSWORD, "ssl.ca.location": ca})
    check.eq("SASL_SSL: read back by an independent consumer", len(events), c["produced"])
    print(f"SASL_SSL: produced {c['produced']}, delivered {c['delivered']}, read back {len(events)}")

    # The same file readable by everyone is refused before anything is sent.
    os.chmod(cfg, 0o644)
    p = subprocess.run([BIN, "check-config", cfg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check.eq("world-readable secret: check-config exit code", p.returncode, 2)
    check.true(f"names sasl.password and the fix: {p.stdout.strip()[-200:]}",
               "sasl.password" in p.stdout and "chmod" in p.stdout)

    # A wrong password: the broker refuses the login; librdkafka's reason is logged and every
    # event is counted as failed.
    cfg = secure_config("security-wrong-password", kc.bootstrap, ca, "not-the-password")
    rc, c, out = replay(CAPTURE, kc.bootstrap, "security-wrong-password", ["--config", cfg])
    check.eq("wrong password: exit code", rc, 1)
    check.true("wrong password: the reason is logged (SASL authentication failed)",
               "Authentication failed" in out or "authentication" in out.lower())
    check.eq("wrong password: every event counted as failed", c["delivery_failed"], c["produced"])
    check.eq("wrong password: nothing delivered", c["delivered"], 0)
    print("wrong password:", next((ln for ln in out.splitlines() if "uthentication" in ln), "")[-220:])

    # A CA that did not sign the broker's certificate: the TLS handshake fails, counted the same.
    cfg = secure_config("security-wrong-ca", kc.bootstrap, os.path.join(tls, "other-ca.pem"), PASSWORD)
    rc, c, out = replay(CAPTURE, kc.bootstrap, "security-wrong-ca", ["--config", cfg])
    check.eq("untrusted certificate: exit code", rc, 1)
    check.true("untrusted certificate: the reason is logged (certificate verify failed)",
               "certificate verify failed" in out)
    check.eq("untrusted certificate: every event counted as failed", c["delivery_failed"], c["produced"])
    print("wrong CA:", next((ln for ln in out.splitlines() if "certificate verify failed" in ln), "")[-220:])

check.finish()
