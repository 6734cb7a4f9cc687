#!/bin/sh
# The nightly job for one disk, for cron: a fresh snapshot, a backup of it (waited for, after which
# the snapshot is deleted), then retention: 7 daily, 4 weekly and 6 monthly backups are kept of those
# this job made (named nightly-*); older ones go, and so do snapshots vbs left behind. Results go to
# a log; failures also to stderr (cron mails them) and to the exit status.
#
#   nightly-backup.sh VOLUME_ID [LOG_FILE]
#   30 2 * * *  backup  /usr/local/bin/nightly-backup.sh 5c1a9f0e-... /var/log/vbs-backup.log
#
# Credentials come from the profile file or VBS_* variables of the user cron runs as.
set -u
volume=$1
log=${2:-/var/log/vbs-backup.log}
name="nightly-$(date -u +%Y%m%d)"

out=$(vbs -o json backup create --volume-id "$volume" --name "$name" --wait --wait-timeout 7200 2>>"$log")
code=$?
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)

case $code in
    0)   echo "$stamp ok $volume $(printf '%s' "$out" | tr -d '\n')" >>"$log" ;;
    2)   problem="bad command line or input: fix the cron entry" ;;
    3)   problem="configuration problem: check the profile file" ;;
    4)   problem="credentials refused: renew the token or check the keys" ;;
    5)   problem="service unavailable or unreachable after retries: it runs again tomorrow" ;;
    6)   problem="the service reports the snapshot or backup failed: see 'vbs backup list --volume-id $volume --name $name'" ;;
    7)   problem="still running after 2 hours: check later with 'vbs backup list --volume-id $volume --name $name'" ;;
    130) problem="interrupted" ;;
    *)   problem="rejected by the service (a full quota?)" ;;
esac

if [ "$code" -ne 0 ]; then
    echo "$stamp FAILED($code) $volume: $problem" >>"$log"
    echo "backup of $volume failed (exit $code): $problem; details in $log" >&2
    exit "$code"
fi

# Retention only after a good backup: a disk whose backups fail keeps its history.
out=$(vbs -o json backup prune --volume-id "$volume" --name-prefix nightly- \
      --keep-daily 7 --keep-weekly 4 --keep-monthly 6 --yes 2>>"$log")
code=$?
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ "$code" -eq 0 ]; then
    echo "$stamp pruned $volume $(printf '%s' "$out" | tr -d '\n')" >>"$log"
else
    echo "$stamp PRUNE FAILED($code) $volume: old backups stay and hold quota" >>"$log"
    echo "backup of $volume is done, but pruning failed (exit $code); details in $log" >&2
fi
exit "$code"
