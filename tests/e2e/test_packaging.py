"""Packaging: `cmake --install` into a staging root (DESTDIR) holds the binary, the config folder
and a systemd unit that `systemd-analyze verify` accepts; `cpack -G DEB` builds a .deb whose
`dpkg-deb -c` listing holds the same files."""
import glob
import os
import shutil
import subprocess

from e2e_support import WORK, Check

check = Check()
BUILD = os.environ["TAPSIFT_BUILD_DIR"]
prefix = subprocess.run(["cmake", "-L", "-N", BUILD], stdout=subprocess.PIPE, text=True,
                        check=True).stdout
prefix = next(l.split("=", 1)[1] for l in prefix.splitlines() if l.startswith("CMAKE_INSTALL_PREFIX:"))
etc = "/etc" if prefix == "/usr" else prefix + "/etc"

stage = os.path.join(WORK, "stage")
shutil.rmtree(stage, ignore_errors=True)
p = subprocess.run(["cmake", "--install", BUILD], env={**os.environ, "DESTDIR": stage},
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
check.eq(f"cmake --install exit code: {p.stdout[-400:]}", p.returncode, 0)
unit = os.path.join(stage, prefix.lstrip("/"), "lib/systemd/system/tapsift.service")
installed = [os.path.join(prefix, "bin/tapsift"), os.path.join(etc, "tapsift/tapsift.yaml"),
             os.path.join(etc, "tapsift/rules/example.yaml"), os.path.join(prefix, "lib/systemd/system/tapsift.service")]
for f in installed:
    check.true(f"staged: {f}", os.path.exists(stage + f))

with open(unit) as f:
    text = f.read()
for line in ["AmbientCapabilities=CAP_NET_RAW CAP_IPC_LOCK", "DynamicUser=yes", "Restart=on-failure",
             "ExecReload=/bin/kill -HUP $MAINPID", f"ExecStart={prefix}/bin/tapsift run --config {etc}/tapsift/tapsift.yaml"]:
    check.true(f"unit has {line}", line in text.splitlines())
# verify resolves ExecStart on the running system: point it at the staged binary.
verify_unit = os.path.join(WORK, "tapsift.service")
with open(verify_unit, "w") as f:
    f.write(text.replace(f"{prefix}/bin/tapsift", stage + prefix + "/bin/tapsift"))
p = subprocess.run(["systemd-analyze", "verify", verify_unit], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   text=True)
check.eq(f"systemd-analyze verify: {p.stdout.strip()}", p.returncode, 0)
check.true(f"systemd-analyze verify says nothing about tapsift.service: {p.stdout.strip()}",
           "tapsift.service" not in p.stdout)

debs = os.path.join(WORK, "deb")
shutil.rmtree(debs, ignore_errors=True)
p = subprocess.run(["cpack", "-G", "DEB", "-B", debs, "--config", os.path.join(BUILD, "CPackConfig.cmake")],
                   cwd=BUILD, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
check.eq(f"cpack exit code: {p.stdout[-600:]}", p.returncode, 0)
found = glob.glob(os.path.join(debs, "tapsift_*.deb"))
check.eq("one .deb", len(found), 1)
if found:
    listing = subprocess.run(["dpkg-deb", "-c", found[0]], stdout=subprocess.PIPE, text=True, check=True).stdout
    for f in installed:
        check.true(f"package holds {f}", f".{f}\n" in listing or listing.rstrip().endswith(f".{f}"))
    fields = subprocess.run(["dpkg-deb", "-f", found[0], "Depends"], stdout=subprocess.PIPE, text=True).stdout
    check.true(f"package depends on librdkafka and DPDK: {fields.strip()}", "librdkafka" in fields and "librte" in fields)
check.finish()
