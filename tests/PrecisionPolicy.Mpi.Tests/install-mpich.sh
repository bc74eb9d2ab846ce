#!/bin/sh
# Installs MPICH (mpiexec, libmpich.so.12) when mpiexec is missing: apt-get as root, as CI runs on a
# fresh Debian 12. Elsewhere it says how, and the MPI tests then fail (they never skip).
command -v mpiexec >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "mpiexec not found: installing the Debian package mpich"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich >/dev/null && exit 0
fi
echo "mpiexec not found and MPICH could not be installed here: the MPI tests will fail. Install it as root: apt-get install -y mpich" >&2
exit 0
