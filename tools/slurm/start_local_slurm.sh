#!/usr/bin/env bash
# Start a one-node SLURM cluster on this machine, for running agglonet with
# `snakemake --profile profiles/slurm` without a real cluster (CI, a laptop, a test VM).
#
#   sudo tools/slurm/start_local_slurm.sh          # install if needed, configure, start, wait
#   sudo tools/slurm/start_local_slurm.sh stop     # stop the daemons this script started
#
# Debian/Ubuntu, as root. It installs Debian's `slurm-wlm` and `munge` (apt) when slurmctld is
# missing, writes a minimal /etc/slurm/slurm.conf for this host (slurmctld and slurmd on
# localhost, one partition `local`, the CPUs and memory that `slurmd -C` reports), starts munged,
# slurmctld and slurmd, and waits until `sinfo` shows the node idle.
#
# Choices that make it work inside a container or a VM without systemd or a writable cgroup tree:
#   ProctrackType=proctrack/linuxproc   processes tracked through /proc, no cgroup plugin
#   TaskPlugin=task/none                no CPU binding or cgroup confinement
#   JobAcctGatherType=jobacct_gather/none, AccountingStorageType=accounting_storage/none
#                                       no accounting database (no slurmdbd, no MySQL): `sacct`
#                                       answers "accounting storage is disabled", so the
#                                       Snakemake profile polls job states with `squeue`
#   MinJobAge=600                       finished jobs stay visible to `squeue` for 10 minutes
#                                       (the executor plugin needs >= 3 x its first poll delay)
# An existing slurm.conf not written by this script is never overwritten: the script stops.
set -euo pipefail

CONF_DIR=${SLURM_CONF_DIR:-/etc/slurm}
CONF=$CONF_DIR/slurm.conf
PARTITION=${SLURM_PARTITION:-local}
MARKER="# written by agglonet tools/slurm/start_local_slurm.sh"
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm
WAIT_S=${SLURM_WAIT_S:-90}

die() { echo "start_local_slurm: $*" >&2; exit 1; }

stop_daemons() {
  # by the pid files the daemons wrote, never by name
  local pidfile pid
  for pidfile in "$RUN_DIR/slurmd.pid" "$RUN_DIR/slurmctld.pid" /run/munge/munged.pid; do
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" && echo "stopped $(basename "$pidfile" .pid) ($pid)"
    fi
  done
}

if [ "${1:-start}" = stop ]; then
  stop_daemons
  exit 0
fi
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts system daemons)"

# 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sinfo >/dev/null; then
  echo "installing slurm-wlm and munge (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi

# 2. munge: key (the Debian package creates one), then the daemon
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
  munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
fi

# 3. slurm.conf for this one node
HOST=$(hostname -s)
NODE_LINE=$(slurmd -C | head -1)            # NodeName=<host> CPUs=.. ... RealMemory=..
case "$NODE_LINE" in NodeName=*) ;; *) die "slurmd -C gave no node line: $NODE_LINE" ;; esac
if [ -e "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this script; not touching it"
fi
mkdir -p "$CONF_DIR" "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$RUN_DIR"
chown slurm:slurm "$STATE_DIR" "$LOG_DIR" "$RUN_DIR"
cat > "$CONF" <<EOF
$MARKER
# One node, no cgroups, no accounting database; see the script's header.
ClusterName=agglonet-local
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
SlurmctldTimeout=60
SlurmdTimeout=120
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
$NODE_LINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
echo "wrote $CONF"

# 4. daemons (each forks into the background and writes its pid file)
if ! { [ -s "$RUN_DIR/slurmctld.pid" ] && kill -0 "$(cat "$RUN_DIR/slurmctld.pid")" 2>/dev/null; }; then
  slurmctld
fi
if ! { [ -s "$RUN_DIR/slurmd.pid" ] && kill -0 "$(cat "$RUN_DIR/slurmd.pid")" 2>/dev/null; }; then
  slurmd
fi

# 5. wait for the node
state=""
for _ in $(seq 1 "$WAIT_S"); do
  state=$(sinfo -h -N -n "$HOST" -o %T 2>/dev/null | head -1 || true)
  case "$state" in idle|mixed|allocated) break ;; esac
  sleep 1
done
case "$state" in
  idle|mixed|allocated) ;;
  *) tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
     die "node $HOST not idle after ${WAIT_S} s (state: ${state:-no answer})" ;;
esac
sinfo
echo "local SLURM ready: partition $PARTITION on $HOST"
